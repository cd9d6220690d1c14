"""Lexical near-duplicate machinery shared by batch dedup and corpus statistics:
word 3-gram shingles, Jaccard, MinHash LSH candidate pairs, and clusters."""

from __future__ import annotations

import re
from collections.abc import Iterable

NUM_PERM = 128
SHINGLE = 3
_WORD = re.compile(r"\w+")


def shingles(text: str, size: int = SHINGLE) -> set[str]:
    words = _WORD.findall(text.lower())
    if len(words) < size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def candidate_pairs(sets: list[set[str]], low: float) -> set[tuple[int, int]]:
    """Pairs (i < j) whose MinHash estimate suggests Jaccard >= ``low``: LSH, not all pairs."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=low, num_perm=NUM_PERM)
    hashes = MinHash.bulk([[s.encode() for s in sh] or [b""] for sh in sets], num_perm=NUM_PERM)
    pairs: set[tuple[int, int]] = set()
    for i, mh in enumerate(hashes):
        for j in lsh.query(mh):
            pairs.add((int(j), i))
        lsh.insert(i, mh)
    return pairs


class Clusters:
    """Union-find over item indices."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)

    def groups(self) -> list[list[int]]:
        """Groups of two or more, each sorted, ordered by their first member."""
        out: dict[int, list[int]] = {}
        for i in range(len(self.parent)):
            out.setdefault(self.find(i), []).append(i)
        return sorted((g for g in out.values() if len(g) > 1), key=lambda g: g[0])


def duplicate_groups(texts: Iterable[str], threshold: float) -> list[list[int]]:
    """Groups of texts whose 3-gram Jaccard is at least ``threshold`` (transitively)."""
    sets = [shingles(t) for t in texts]
    clusters = Clusters(len(sets))
    for a, b in candidate_pairs(sets, min(threshold, 0.9)):
        if jaccard(sets[a], sets[b]) >= threshold:
            clusters.union(a, b)
    return clusters.groups()

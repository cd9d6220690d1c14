"""Near-duplicate detection for batches of stories, within the batch and against the store.

Lexical evidence comes first: MinHash over word 3-gram shingles, with LSH to find
candidate pairs without comparing every pair (a batch of 1,000 texts is not
quadratic), then the exact Jaccard of each candidate pair. Embedding evidence
confirms borderline pairs: a pair whose Jaccard is between ``low`` and
``threshold`` counts only when its embeddings are very close too (an edited copy
with names changed and sentences dropped), which keeps distinct stories on the
same theme apart (similar embeddings, almost no shared 3-grams).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from core.errors import InvalidInput
from core.neardup import Clusters, candidate_pairs, jaccard, shingles
from core.store import Store
from queries.datasets import known_datasets

DEFAULT_THRESHOLD = 0.5  # Jaccard of word 3-grams that alone makes a duplicate
LOW = 0.2  # below this, lexical evidence rules a pair out
EMBEDDING_CONFIRM = 0.9  # cosine needed to accept a pair between LOW and the threshold
CORPUS_CONTAINMENT = 0.5  # share of a stored passage's 3-grams found in the text
MAX_TEXTS = 1000


class Encoder(Protocol):
    def encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray: ...


@dataclass(frozen=True)
class DedupRequest:
    texts: list[str]
    threshold: float = DEFAULT_THRESHOLD
    against_corpus: bool = False
    datasets: tuple[str, ...] = ()


def _document_vectors(encoder: Encoder, texts: list[str]) -> np.ndarray:
    """One unit vector per text: the mean of its passages' embeddings."""
    from core.chunking import chunk_batch

    chunked = chunk_batch(texts)
    flat = [c.text for chunks in chunked for c in chunks] or [""]
    vectors = encoder.encode(flat)
    out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
    row = 0
    for i, chunks in enumerate(chunked):
        if chunks:
            out[i] = vectors[row : row + len(chunks)].mean(axis=0)
            row += len(chunks)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms == 0, 1, norms)


def dedup(store: Store | None, encoder: Encoder, request: DedupRequest) -> dict[str, Any]:
    texts = request.texts
    if not texts:
        raise InvalidInput("'texts' is empty")
    if len(texts) > MAX_TEXTS:
        raise InvalidInput(f"at most {MAX_TEXTS} texts a request", {"texts": len(texts)})
    if not LOW < request.threshold <= 1.0:
        raise InvalidInput(f"'threshold' must be in ({LOW}, 1]", {"threshold": request.threshold})
    if any(not t.strip() for t in texts):
        raise InvalidInput("every text must be non-empty")
    sets = [shingles(t) for t in texts]
    candidates = sorted(candidate_pairs(sets, LOW))
    scored = [(a, b, jaccard(sets[a], sets[b])) for a, b in candidates]
    borderline = sorted({i for a, b, j in scored if LOW <= j < request.threshold for i in (a, b)})
    vectors: dict[int, np.ndarray] = {}
    if borderline:
        vectors = dict(
            zip(borderline, _document_vectors(encoder, [texts[i] for i in borderline]), strict=True)
        )
    pairs, clusters = [], Clusters(len(texts))
    for a, b, j in scored:
        if j >= request.threshold:
            pairs.append({"a": a, "b": b, "similarity": round(j, 4), "method": "minhash"})
        elif j >= LOW:
            cosine = float(vectors[a] @ vectors[b])
            if cosine >= EMBEDDING_CONFIRM:
                pairs.append(
                    {
                        "a": a,
                        "b": b,
                        "similarity": round(j, 4),
                        "embedding_similarity": round(cosine, 4),
                        "method": "minhash+embedding",
                    }
                )
            else:
                continue
        else:
            continue
        clusters.union(a, b)
    groups = clusters.groups()
    in_clusters = sum(len(g) for g in groups)
    result: dict[str, Any] = {
        "pairs": pairs,
        "clusters": groups,
        "corpus_matches": [],
        "diversity": {
            "texts": len(texts),
            "unique_narratives": len(texts) - in_clusters + len(groups),
            "unique_share": round((len(texts) - in_clusters + len(groups)) / len(texts), 4),
            "texts_in_clusters": in_clusters,
            "largest_cluster": max((len(g) for g in groups), default=1),
        },
        "threshold": request.threshold,
    }
    if request.against_corpus:
        if store is None:
            raise InvalidInput("no store to compare against")
        result["corpus_matches"] = corpus_matches(store, encoder, texts, sets, request.datasets)
    return result


def corpus_matches(
    store: Store,
    encoder: Encoder,
    texts: list[str],
    sets: list[set[str]],
    datasets: tuple[str, ...],
    k: int = 5,
) -> list[dict[str, Any]]:
    """Stored passages most of whose 3-grams appear in a text (nearest by embedding first)."""
    from core.chunking import chunk_batch

    unknown = sorted(set(datasets) - known_datasets(store))
    if unknown:
        raise InvalidInput(f"unknown dataset(s): {', '.join(unknown)}", {"datasets": unknown})
    if len(store.vectors) == 0:
        return []
    chunked = chunk_batch(texts)
    flat = [c.text for chunks in chunked for c in chunks]
    owner = [i for i, chunks in enumerate(chunked) for _ in chunks]
    _, ids = store.vectors.search(encoder.encode(flat), k)
    wanted: dict[int, set[int]] = {}
    for row, i in enumerate(owner):
        wanted.setdefault(i, set()).update(int(x) for x in ids[row] if x >= 0)
    all_ids = sorted({p for s in wanted.values() for p in s})
    sql = (
        "SELECT p.id, p.text, s.dataset FROM passages p JOIN shards s ON s.id = p.shard_id "
        "WHERE p.id IN (SELECT unnest(?::BIGINT[])) AND s.status = 'complete'"
    )
    params: list[Any] = [all_ids]
    if datasets:
        sql += " AND s.dataset IN (SELECT unnest(?::VARCHAR[]))"
        params.append(list(datasets))
    stored = {r[0]: (r[1], r[2]) for r in store.cursor().execute(sql, params).fetchall()}
    out = []
    for i, passage_ids in sorted(wanted.items()):
        for pid in sorted(passage_ids):
            if pid not in stored:
                continue
            passage_shingles = shingles(stored[pid][0])
            if not passage_shingles:
                continue
            containment = len(passage_shingles & sets[i]) / len(passage_shingles)
            if containment >= CORPUS_CONTAINMENT:
                out.append(
                    {
                        "text": i,
                        "passage_id": pid,
                        "dataset": stored[pid][1],
                        "similarity": round(containment, 4),
                        "method": "minhash",
                    }
                )
    return out

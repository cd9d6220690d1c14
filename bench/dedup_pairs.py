"""Labelled near-duplicate pairs built from the sample corpus, and the dedup's precision
and recall on them.

Positives are edited copies made here: names changed, a sentence dropped, a few words
replaced, all three at once, and 10,000-character email threads that differ in one
paragraph. Negatives are every other pair: distinct stories, most on the same theme
(the synthetic "aligned AI" stories are all about AIs behaving well).

    python -m bench.dedup_pairs            # precision/recall at several thresholds
"""

from __future__ import annotations

import json
import random
import re
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
NAMES = ["Ada", "Bram", "Cleo", "Dov", "Esme", "Farid", "Greta", "Hugo", "Isla", "Joss"]
SWAPS = {
    "said": "replied",
    "quiet": "silent",
    "small": "little",
    "began": "started",
    "asked": "enquired",
    "looked": "glanced",
    "quickly": "swiftly",
    "house": "home",
    "night": "evening",
    "people": "folk",
    "told": "informed",
    "large": "big",
}


def _rename(text: str, rng: random.Random) -> str:
    names = sorted(set(re.findall(r"(?<=[a-z,;] )([A-Z][a-z]{2,})", text)))
    mapping = {n: rng.choice(NAMES) for n in rng.sample(names, min(3, len(names)))}
    for old, new in mapping.items():
        text = re.sub(rf"\b{old}\b", new, text)
    return text


def _drop_sentence(text: str, rng: random.Random) -> str:
    sentences = re.split(r"(?<=[.!?])\s+", text)
    if len(sentences) > 3:
        del sentences[rng.randrange(1, len(sentences))]
    return " ".join(sentences)


def _replace_words(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    spots = [i for i, w in enumerate(words) if w.lower().strip(".,") in SWAPS]
    for i in rng.sample(spots, min(5, len(spots))):
        w = words[i]
        core = w.lower().strip(".,")
        words[i] = w.replace(core, SWAPS[core]) if core in w else SWAPS[core]
    if not spots:  # no swappable word: replace five random words with "something"
        for i in rng.sample(range(len(words)), min(5, len(words))):
            words[i] = "something"
    return " ".join(words)


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in open(path)]


def build() -> tuple[list[str], list[int]]:
    """Texts and, for each, the id of its duplicate group (equal id: duplicates)."""
    rng = random.Random(7)
    synthetic = _read(SAMPLE / "synthetic_aligned" / "batch-001.jsonl")
    fiction = _read(SAMPLE / "fiction" / "stories.jsonl")
    known = json.loads((SAMPLE / "labels.json").read_text())["synthetic_aligned"]
    texts, groups = [], []
    group_of: dict[str, int] = {}
    for row in synthetic:  # the sample's own duplicates share their original's group
        original = known.get(row["id"], {}).get("duplicate_of") or row["id"]
        gid = group_of.setdefault(original, len(group_of))
        texts.append(row["text"])
        groups.append(gid)
    edits = [
        _rename,
        _drop_sentence,
        _replace_words,
        lambda t, r: _replace_words(_drop_sentence(_rename(t, r), r), r),
    ]
    for n, row in enumerate(fiction[:48]):
        gid = len(group_of) + n
        texts.append(row["text"])
        groups.append(gid)
        texts.append(edits[n % len(edits)](row["text"], rng))
        groups.append(gid)
    base = len(group_of) + 48
    stories = [r["text"] for r in fiction[48:]]
    for n in range(6):  # long email threads that differ in one paragraph
        parts = stories[n * 3 : n * 3 + 3] + [stories[(n * 3 + 5) % len(stories)]]
        thread = "\n\n".join(f"From: team{i}@example.org\n\n{p}" for i, p in enumerate(parts))
        paragraphs = thread.split("\n\n")
        changed = list(paragraphs)
        changed[3] = "I disagree with the plan above; let us talk on Monday before anyone acts."
        texts += [thread, "\n\n".join(changed)]
        groups += [base + n, base + n]
    return texts, groups


def score(pairs: list[dict], clusters: list[list[int]], groups: list[int]) -> dict[str, float]:
    predicted = {(p["a"], p["b"]) for p in pairs}
    cluster_of = {i: c for c, members in enumerate(clusters) for i in members}
    gold = {(a, b) for a, b in combinations(range(len(groups)), 2) if groups[a] == groups[b]}
    tp = sum(groups[a] == groups[b] for a, b in predicted)
    found = sum(a in cluster_of and cluster_of.get(a) == cluster_of.get(b) for a, b in gold)
    return {
        "pairs_predicted": len(predicted),
        "gold_pairs": len(gold),
        "precision": round(tp / len(predicted), 4) if predicted else 1.0,
        "recall": round(found / len(gold), 4) if gold else 1.0,
    }


def main() -> None:
    from core.embedding import Embedder
    from queries.dedup import DedupRequest, dedup

    texts, groups = build()
    embedder = Embedder("cpu")
    print(f"{len(texts)} texts, {len(set(groups))} distinct stories")
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        result = dedup(None, embedder, DedupRequest(texts, threshold=threshold))
        print(threshold, score(result["pairs"], result["clusters"], groups))


if __name__ == "__main__":
    main()

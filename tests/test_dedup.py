"""Dedup logic: lexical evidence, LSH candidates (not all pairs), long documents."""

from __future__ import annotations

import random

import numpy as np
import pytest

from core.errors import InvalidInput
from core.neardup import jaccard, shingles
from queries import dedup as dedup_module
from queries.dedup import DedupRequest, dedup

WORDS = [
    "river",
    "stone",
    "lamp",
    "orchard",
    "violin",
    "harbour",
    "lantern",
    "meadow",
    "copper",
    "thistle",
    "falcon",
    "quarry",
    "velvet",
    "ember",
    "glacier",
    "saffron",
    "walnut",
    "cobalt",
    "juniper",
    "tundra",
]


class _UnitEncoder:
    """Stands in for the model where the test is about set logic, not embeddings."""

    def encode(self, texts, batch_size=None):
        rng = np.random.default_rng(len(texts))
        v = rng.normal(size=(len(texts), 384)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def _story(rng: random.Random, n: int = 120) -> str:
    return " ".join(rng.choice(WORDS) + str(rng.randrange(50)) for _ in range(n))


def test_shingles_and_jaccard() -> None:
    assert shingles("The cat sat on the mat") == {
        "the cat sat",
        "cat sat on",
        "sat on the",
        "on the mat",
    }
    assert jaccard({"a", "b"}, {"b", "c"}) == pytest.approx(1 / 3)


def test_a_thousand_texts_compare_candidates_not_all_pairs(monkeypatch) -> None:
    rng = random.Random(0)
    texts = [_story(rng) for _ in range(1000)]
    texts[500] = texts[10].replace(texts[10].split()[3], "changed", 1)
    compared = []
    real = dedup_module.jaccard
    monkeypatch.setattr(dedup_module, "jaccard", lambda a, b: compared.append(1) or real(a, b))
    result = dedup(None, _UnitEncoder(), DedupRequest(texts))
    assert [(p["a"], p["b"]) for p in result["pairs"]] == [(10, 500)]
    assert len(compared) < 5_000  # all pairs would be 499,500


def test_long_documents_differing_in_one_paragraph(embedder) -> None:
    rng = random.Random(1)
    paragraphs = [_story(rng, 180) for _ in range(8)]
    thread = "\n\n".join(paragraphs)
    assert len(thread) > 10_000
    changed = "\n\n".join(paragraphs[:4] + [_story(rng, 180)] + paragraphs[5:])
    unrelated = "\n\n".join(_story(rng, 180) for _ in range(8))
    result = dedup(None, embedder, DedupRequest([thread, unrelated, changed]))
    assert result["clusters"] == [[0, 2]]


def test_bad_requests() -> None:
    with pytest.raises(InvalidInput):
        dedup(None, _UnitEncoder(), DedupRequest([]))
    with pytest.raises(InvalidInput):
        dedup(None, _UnitEncoder(), DedupRequest(["a", " "]))
    with pytest.raises(InvalidInput):
        dedup(None, _UnitEncoder(), DedupRequest(["a"], threshold=0.1))

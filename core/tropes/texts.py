"""Classify whole texts: chunk into passages, score each, aggregate per text.

A text carries a trope when one of its passages does (its score is the best
passage's); it is AI-related when one of its passages is; its polarity comes
from the passage with the strongest non-``none`` polarity group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from core.chunking import chunk_batch
from core.tropes.classifier import GROUPS, NONE, Scores, TropeClassifier


class Encoder(Protocol):
    def encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray: ...


@dataclass
class TextResult:
    ai_related: bool
    ai_score: float
    polarity: str
    scores: np.ndarray  # (T,) per trope, classifier.trope_ids order
    labels: np.ndarray  # (T,) bool

    def as_dict(self, classifier: TropeClassifier) -> dict:
        return {
            "ai_related": self.ai_related,
            "ai_score": round(self.ai_score, 4),
            "polarity": self.polarity,
            "tropes": [
                {
                    "id": tid,
                    "score": round(float(s), 4),
                    "label": bool(lab),
                    "polarity": classifier.polarity_of(tid),
                }
                for tid, s, lab in zip(classifier.trope_ids, self.scores, self.labels, strict=True)
            ],
        }


def aggregate(classifier: TropeClassifier, scores: Scores) -> TextResult:
    """Combine the scores of one text's passages."""
    ai_score = float(scores.ai.max())
    trope_scores = scores.tropes.max(axis=0)
    labels: np.ndarray = np.asarray(classifier.labels(scores).any(axis=0))
    related = ai_score >= classifier.weights.ai_threshold
    per_passage = classifier.polarity(scores)
    strength = [
        float(scores.groups[i, GROUPS.index(p)]) if p != NONE else -1.0
        for i, p in enumerate(per_passage)
    ]
    best = int(np.argmax(strength))
    polarity = per_passage[best] if strength[best] >= 0 else NONE
    if polarity == NONE and labels.any():
        strongest = int(np.argmax(np.where(labels, trope_scores, -1)))
        polarity = classifier.polarity_of(classifier.trope_ids[strongest])
    return TextResult(related, ai_score, polarity, trope_scores, labels)


def classify_texts(
    texts: list[str],
    encoder: Encoder,
    classifier: TropeClassifier,
    max_tokens: int = 200,
    overlap: int = 32,
) -> list[TextResult]:
    chunked = chunk_batch(texts, max_tokens, overlap)
    flat = [c.text for chunks in chunked for c in chunks]
    owner = np.array([i for i, chunks in enumerate(chunked) for _ in chunks], dtype=np.int64)
    scores = classifier.score(encoder.encode(flat), flat) if flat else None
    results = []
    for i, _ in enumerate(texts):
        rows = np.flatnonzero(owner == i)
        if scores is None or len(rows) == 0:
            t = len(classifier.trope_ids)
            results.append(TextResult(False, 0.0, NONE, np.zeros(t), np.zeros(t, dtype=bool)))
            continue
        results.append(aggregate(classifier, scores.rows(rows)))
    return results

"""Measure the classifier against labelled JSONL.

Each line has ``text`` and any of ``trope`` (one id or null), ``tropes`` (a
list), ``polarity`` and ``ai_related``. Rows the head was trained on are left
out (and counted), so figures are never in-sample.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import InvalidInput
from core.rates import Rates
from core.tropes.classifier import TropeClassifier, text_key
from core.tropes.texts import Encoder, TextResult, classify_texts


@dataclass
class Gold:
    text: str
    tropes: set[str] | None  # None: no trope label on this row
    polarity: str | None
    ai_related: bool | None


@dataclass
class Evaluation:
    rows: int = 0
    skipped_training: int = 0
    skipped_invalid: int = 0
    per_trope: dict[str, dict[str, float]] = field(default_factory=dict)
    macro_f1: float | None = None
    polarity_accuracy: float | None = None
    polarity_rows: int = 0
    polarity_confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    ai: dict[str, float] | None = None
    # rows whose gold has no trope, and how many of them got a trope label anyway (the
    # figure a file of off-topic text is for; per-trope precision spreads it across tropes)
    no_trope_rows: int = 0
    no_trope_labelled: int = 0

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def gold_of(row: Any) -> Gold | None:
    """A labelled row as gold; None when it has no text."""
    if not isinstance(row, dict) or not isinstance(row.get("text"), str):
        return None
    tropes: set[str] | None = None
    if "tropes" in row:
        tropes = set(row["tropes"] or [])
    elif "trope" in row:
        tropes = {row["trope"]} if row["trope"] else set()
    ai = row.get("ai_related")
    return Gold(row["text"], tropes, row.get("polarity"), None if ai is None else bool(ai))


def read_gold(path: Path) -> Iterator[Gold | None]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                yield None
                continue
            yield gold_of(row)


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "support": tp + fn}


def _labelled(
    path: Path, classifier: TropeClassifier, include_training: bool, limit: int | None
) -> tuple[list[Gold], Evaluation]:
    """The file's valid rows (less those the head trained on) and their counts."""
    if not path.exists():
        raise InvalidInput(f"no such file: {path}")
    trained = set(classifier.weights.training_keys.tolist())
    result = Evaluation()
    golds: list[Gold] = []
    for gold in read_gold(path):
        if gold is None:
            result.skipped_invalid += 1
        elif not include_training and text_key(gold.text) in trained:
            result.skipped_training += 1
        else:
            golds.append(gold)
        if limit and len(golds) >= limit:
            break
    result.rows = len(golds)
    return golds, result


def _predict(
    golds: list[Gold],
    encoder: Encoder,
    classifier: TropeClassifier,
    batch: int = 256,
    progress: Callable[[int, int], None] | None = None,
) -> list[TextResult]:
    preds: list[TextResult] = []
    if progress is not None:
        progress(0, len(golds))
    for start in range(0, len(golds), batch):
        preds += classify_texts([g.text for g in golds[start : start + batch]], encoder, classifier)
        if progress is not None:
            progress(len(preds), len(golds))
    return preds


def evaluate(
    path: Path,
    encoder: Encoder,
    classifier: TropeClassifier,
    include_training: bool = False,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Evaluation:
    """Score the labelled rows of ``path``; ``progress(done, total)`` is called after each
    batch of rows (the command line draws a bar with it)."""
    golds, result = _labelled(path, classifier, include_training, limit)
    preds = _predict(golds, encoder, classifier, progress=progress)
    score_predictions(result, golds, preds, classifier.trope_ids)
    return result


def _confusion(golds: list[Gold], preds: list[TextResult], ids: list[str]) -> dict[str, list[int]]:
    """Per trope [true_pos, false_pos, false_neg, true_neg] over rows with trope labels."""
    counts = {t: [0, 0, 0, 0] for t in ids}
    for gold, pred in zip(golds, preds, strict=True):
        if gold.tropes is None:
            continue
        predicted = {t for t, lab in zip(ids, pred.labels, strict=True) if lab}
        for t in ids:
            hit, wanted = t in predicted, t in gold.tropes
            counts[t][0 if hit and wanted else 1 if hit else 2 if wanted else 3] += 1
    return counts


def measure_rates(
    path: Path, encoder: Encoder, classifier: TropeClassifier
) -> tuple[Evaluation, dict[str, Rates]]:
    """Sensitivity and specificity per trope on a labelled sample of a corpus.

    Rows marked ``ai_related: false`` are left out: the correction applies to the share
    among AI-related documents. Tropes with no labelled positive get no rates.
    """
    golds, result = _labelled(path, classifier, include_training=False, limit=None)
    golds = [g for g in golds if g.ai_related is not False and g.tropes is not None]
    result.rows = len(golds)
    preds = _predict(golds, encoder, classifier)
    score_predictions(result, golds, preds, classifier.trope_ids)
    rates = {
        t: Rates(tp, fn, tn, fp, path.name)
        for t, (tp, fp, fn, tn) in _confusion(golds, preds, classifier.trope_ids).items()
        if tp + fn > 0
    }
    return result, rates


def score_predictions(
    result: Evaluation, golds: list[Gold], preds: list[TextResult], ids: list[str]
) -> None:
    """Fill ``result`` with per-trope, polarity and AI-relevance figures of ``preds``."""
    counts = _confusion(golds, preds, ids)
    result.per_trope = {t: _prf(*c[:3]) for t, c in counts.items() if c[0] + c[2] > 0}
    if result.per_trope:
        result.macro_f1 = round(float(np.mean([m["f1"] for m in result.per_trope.values()])), 4)
    untroped = [
        bool(p.labels.any()) for g, p in zip(golds, preds, strict=True) if g.tropes == set()
    ]
    result.no_trope_rows, result.no_trope_labelled = len(untroped), sum(untroped)

    confusion: dict[str, dict[str, int]] = {}
    correct = 0
    for gold, pred in zip(golds, preds, strict=True):
        if gold.polarity is None:
            continue
        result.polarity_rows += 1
        correct += gold.polarity == pred.polarity
        row = confusion.setdefault(gold.polarity, {})
        row[pred.polarity] = row.get(pred.polarity, 0) + 1
    if result.polarity_rows:
        result.polarity_accuracy = round(correct / result.polarity_rows, 4)
    result.polarity_confusion = confusion

    ai_pairs = [
        (g.ai_related, p.ai_related)
        for g, p in zip(golds, preds, strict=True)
        if g.ai_related is not None
    ]
    if ai_pairs:
        tp = sum(g and p for g, p in ai_pairs)
        fp = sum(p and not g for g, p in ai_pairs)
        fn = sum(g and not p for g, p in ai_pairs)
        result.ai = _prf(tp, fp, fn)

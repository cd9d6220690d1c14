"""The taxonomy as the API shows it: built-in tropes then the store's custom ones."""

from __future__ import annotations

from typing import Any

from core.store import Store
from core.tropes.classifier import TropeClassifier
from core.tropes.custom import custom_summaries


def list_tropes(store: Store, classifier: TropeClassifier) -> list[dict[str, Any]]:
    thresholds = dict(zip(classifier.trope_ids, classifier.thresholds.tolist(), strict=True))
    short_of = dict(
        zip(classifier.trope_ids, classifier.short_text_thresholds.tolist(), strict=True)
    )
    rows = [
        {
            **t.summary(),
            "threshold": round(thresholds[t.id], 4),
            "short_text_threshold": round(short_of[t.id], 4),
        }
        for t in classifier.taxonomy.tropes
        if t.id in thresholds
    ]
    return rows + custom_summaries(store.cursor())

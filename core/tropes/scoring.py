"""Trope scores of stored passages: written at ingest, rewritten when the taxonomy
changes (from the stored embeddings; nothing is re-embedded)."""

from __future__ import annotations

import logging

import duckdb
import numpy as np
import pyarrow as pa

from core.store import Store
from core.tropes.classifier import TropeClassifier

log = logging.getLogger(__name__)

KEEP_SCORE = 0.05  # scores below this (and not labelled) are not stored


def write_passage_scores(
    cur: duckdb.DuckDBPyConnection,
    classifier: TropeClassifier,
    passage_ids: np.ndarray,
    vectors: np.ndarray,
    texts: list[str],
) -> None:
    """Score passages and insert their labels and trope scores (inside the caller's
    transaction)."""
    if len(passage_ids) == 0:
        return
    scores = classifier.score(vectors, texts)
    related = classifier.ai_related(scores)
    labels = classifier.labels(scores)
    polarity = classifier.polarity(scores)
    cur.register(
        "new_labels",
        pa.table(
            {
                "passage_id": pa.array(passage_ids, pa.int64()),
                "ai_score": pa.array(scores.ai, pa.float32()),
                "ai_related": pa.array(related, pa.bool_()),
                "polarity": pa.array(polarity, pa.string()),
            }
        ),
    )
    rows, cols = np.nonzero((scores.tropes >= KEEP_SCORE) | labels)
    ids = classifier.trope_ids
    cur.register(
        "new_tropes",
        pa.table(
            {
                "passage_id": pa.array(passage_ids[rows], pa.int64()),
                "trope": pa.array([ids[c] for c in cols], pa.string()),
                "score": pa.array(scores.tropes[rows, cols], pa.float32()),
                "label": pa.array(labels[rows, cols], pa.bool_()),
            }
        ),
    )
    cur.execute("INSERT INTO passage_labels SELECT * FROM new_labels")
    cur.execute("INSERT INTO passage_tropes SELECT * FROM new_tropes")
    cur.unregister("new_labels")
    cur.unregister("new_tropes")


def scored_version(store: Store) -> str | None:
    """What the stored labels were scored with: ``TropeClassifier.scoring_key``."""
    rows = (
        store.cursor()
        .execute("SELECT value FROM store_state WHERE key = 'taxonomy_version'")
        .fetchall()
    )
    return rows[0][0] if rows else None


def _set_version(cur: duckdb.DuckDBPyConnection, version: str) -> None:
    cur.execute(
        "INSERT INTO store_state VALUES ('taxonomy_version', ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [version],
    )


def mark_scored(store: Store, classifier: TropeClassifier) -> None:
    """Record the taxonomy version of an empty or freshly scored store."""
    with store.transaction() as cur:
        _set_version(cur, classifier.scoring_key)


def rescore_store(store: Store, classifier: TropeClassifier, chunk: int = 20_000) -> int:
    """Re-score every stored passage from its stored embedding, in one transaction."""
    with store.transaction() as cur:
        ids = cur.execute("SELECT id FROM passages ORDER BY id").fetchnumpy()["id"]
        cur.execute("DELETE FROM passage_tropes")
        cur.execute("DELETE FROM passage_labels")
        for start in range(0, len(ids), chunk):
            part = np.asarray(ids[start : start + chunk], dtype=np.int64)
            texts = store.passage_texts(part)
            write_passage_scores(cur, classifier, part, store.embeddings(part), texts)
        _set_version(cur, classifier.scoring_key)
    log.info("re-scored %d passages with head %s", len(ids), classifier.scoring_key)
    return len(ids)


def ensure_scored(store: Store, classifier: TropeClassifier) -> bool:
    """Re-score if the store was scored with another head or taxonomy; True if it did."""
    if scored_version(store) == classifier.scoring_key:
        return False
    rescore_store(store, classifier)
    return True

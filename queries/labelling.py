"""Draw a random sample of a dataset's AI-related documents for people to label.

The labelled sample feeds ``tropescope calibrate``, which measures the classifier's
sensitivity and specificity on the corpus itself. The sample must be random among the
AI-related documents (the population the prevalence correction applies to), so it is
drawn by a seeded hash of the document id, not by score.
"""

from __future__ import annotations

from typing import Any

from core.errors import InvalidInput, NotFound
from core.store import Store
from queries.datasets import known_datasets

_SAMPLE = """
    WITH ai_docs AS (
        SELECT DISTINCT p.document_id FROM passage_labels l
        JOIN passages p ON p.id = l.passage_id
        JOIN documents d ON d.id = p.document_id JOIN shards s ON s.id = d.shard_id
        WHERE l.ai_related AND s.status = 'complete' AND s.dataset = ?
          AND (d.candidate OR s.embed_mode = 'all')
    ), picked AS (
        SELECT document_id FROM ai_docs ORDER BY hash(document_id, ?::BIGINT) LIMIT ?
    )
    SELECT d.id, d.source_id, s.dump, string_agg(p.text, '\n\n' ORDER BY p.ordinal) AS text
    FROM picked k JOIN documents d ON d.id = k.document_id JOIN shards s ON s.id = d.shard_id
    JOIN passages p ON p.document_id = d.id
    GROUP BY d.id, d.source_id, s.dump ORDER BY hash(d.id, ?::BIGINT)
"""


def labelling_sample(store: Store, dataset: str, n: int, seed: int = 0) -> list[dict[str, Any]]:
    """Up to ``n`` random AI-related documents of ``dataset``, as rows to label: each has the
    document's stored text; the labeller adds ``tropes`` (a list, empty for none)."""
    if n < 1:
        raise InvalidInput("the sample size must be at least 1", {"n": n})
    if dataset not in known_datasets(store):
        raise NotFound(f"no dataset named {dataset!r}", {"dataset": dataset})
    rows = store.cursor().execute(_SAMPLE, [dataset, seed, n, seed]).fetchall()
    return [
        {
            "dataset": dataset,
            "dump": r[2],
            "document_id": int(r[0]),
            "source_id": r[1],
            "text": r[3],
        }
        for r in rows
    ]

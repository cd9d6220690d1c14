"""Datasets and their shard counters (the denominators of every statistic)."""

from __future__ import annotations

from typing import Any

from core.errors import NotFound
from core.store import Store

DOCUMENT_TROPES = """
    SELECT DISTINCT p.document_id, pt.trope
    FROM passage_tropes pt JOIN passages p ON p.id = pt.passage_id
    WHERE pt.label AND p.document_id IN (
        SELECT ap.document_id FROM passage_labels al JOIN passages ap ON ap.id = al.passage_id
        WHERE al.ai_related
    )
"""
"""(document_id, trope): a document carries a trope when one of its passages is labelled with
it and the document is AI-related (one of its passages is). Tropes are narratives about AI: a
rescue story or a human coup that reads like one is not counted, and every positive document
is also in the AI-related denominator. The passage with the label need not be the AI-related
one: a story names its AI once and narrates it as "it" for pages. Every statistic that counts
documents by trope (prevalence, balance, comparison) reads this."""

_TOTALS = """
    WITH ai_docs AS (
        SELECT s.dataset, count(DISTINCT p.document_id) AS n
        FROM passage_labels l JOIN passages p ON p.id = l.passage_id
        JOIN documents doc ON doc.id = p.document_id JOIN shards s ON s.id = doc.shard_id
        WHERE l.ai_related AND s.status = 'complete' AND (doc.candidate OR s.embed_mode = 'all')
        GROUP BY 1
    )
    SELECT d.name,
           coalesce(sum(s.documents) FILTER (WHERE s.status = 'complete'), 0) AS documents,
           coalesce(any_value(a.n), 0) AS ai_documents,
           coalesce(sum(s.candidates) FILTER (WHERE s.status = 'complete'), 0) AS candidates,
           coalesce(sum(s.passages) FILTER (WHERE s.status = 'complete'), 0) AS passages,
           count(s.id) FILTER (WHERE s.status = 'complete') AS shards,
           count(s.id) FILTER (WHERE s.status = 'failed') AS failed_shards,
           coalesce(sum(s.bad_records) FILTER (WHERE s.status = 'complete'), 0) AS bad_records
    FROM datasets d LEFT JOIN shards s ON s.dataset = d.name LEFT JOIN ai_docs a ON a.dataset = d.name
    {where}
    GROUP BY d.name ORDER BY d.name
"""


def _rows(store: Store, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cur = store.cursor()
    result = cur.execute(sql, params or [])
    names = [c[0] for c in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def list_datasets(store: Store) -> list[dict[str, Any]]:
    """One row per dataset with counters summed over its complete shards."""
    return [_ints(r) for r in _rows(store, _TOTALS.format(where=""))]


def dataset_detail(store: Store, name: str) -> dict[str, Any]:
    """A dataset's totals, each of its shards with counters, and bad records by reason."""
    totals = _rows(store, _TOTALS.format(where="WHERE d.name = ?"), [name])
    if not totals:
        raise NotFound(f"no dataset named {name!r}", {"dataset": name})
    shards = _rows(
        store,
        "SELECT id, dump, path, format, status, error, documents, characters, bad_records, "
        "candidates, audited, stored_documents, passages, embed_mode, audit_rate, "
        "CAST(finished_at AS VARCHAR) AS finished_at "
        "FROM shards WHERE dataset = ? ORDER BY dump, path",
        [name],
    )
    reasons = _rows(
        store,
        "SELECT b.reason, sum(b.count) AS count FROM shard_bad_records b "
        "JOIN shards s ON s.id = b.shard_id WHERE s.dataset = ? AND s.status = 'complete' "
        "GROUP BY b.reason ORDER BY count DESC, b.reason",
        [name],
    )
    dup = (
        store.cursor()
        .execute(
            "SELECT count(*), count(DISTINCT c.cluster) FROM document_clusters c "
            "JOIN documents d ON d.id = c.document_id JOIN shards s ON s.id = d.shard_id "
            "WHERE s.dataset = ? AND s.status = 'complete'",
            [name],
        )
        .fetchall()[0]
    )
    stored = sum(int(s["stored_documents"]) for s in shards if s["status"] == "complete")
    return {
        **_ints(totals[0]),
        "near_duplicates": {
            "stored_documents": stored,
            "documents_in_clusters": int(dup[0]),
            "clusters": int(dup[1]),
            "unique_narratives": stored - int(dup[0]) + int(dup[1]),
        },
        "bad_records_by_reason": {r["reason"]: int(r["count"]) for r in reasons},
        "shard_counters": shards,
    }


def known_datasets(store: Store) -> set[str]:
    return {r[0] for r in store.cursor().execute("SELECT name FROM datasets").fetchall()}


def _ints(row: dict[str, Any]) -> dict[str, Any]:
    return {k: int(v) if k != "name" else v for k, v in row.items()}


def health(store: Store, model: str) -> dict[str, Any]:
    rows = store.cursor().execute("SELECT count(*) FROM passages").fetchall()
    return {
        "status": "ok",
        "passages": int(rows[0][0]),
        "vectors": len(store.vectors),
        "model": model,
        "index": store.vectors.kind,
    }

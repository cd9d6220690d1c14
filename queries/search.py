"""Nearest passages to a text or to a stored passage, with filters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from core.errors import InvalidInput, NotFound
from core.store import Store
from queries.datasets import known_datasets

MAX_K = 1000
POLARITY_VALUES = ("misaligned", "aligned", "neutral", "none")


class Encoder(Protocol):
    def encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray: ...


@dataclass(frozen=True)
class SearchQuery:
    text: str | None = None
    passage_id: int | None = None
    k: int = 10
    datasets: list[str] = field(default_factory=list)
    dumps: list[str] = field(default_factory=list)
    tropes: list[str] = field(default_factory=list)  # passages labelled with any of these
    polarity: str | None = None
    min_score: float | None = None


_ROWS = """
    SELECT p.id AS passage_id, s.dataset, s.dump, d.source_id AS document_id, d.url,
           p.char_start, p.char_end, p.text, l.ai_score, l.polarity,
           coalesce((SELECT list(pt.trope ORDER BY pt.score DESC) FROM passage_tropes pt
                     WHERE pt.passage_id = p.id AND pt.label), []) AS tropes
    FROM passages p
    JOIN documents d ON d.id = p.document_id
    JOIN shards s ON s.id = p.shard_id
    LEFT JOIN passage_labels l ON l.passage_id = p.id
    WHERE p.id IN (SELECT unnest(?::BIGINT[])) AND s.status = 'complete'
"""


def search(store: Store, encoder: Encoder, query: SearchQuery) -> list[dict[str, Any]]:
    """The ``k`` stored passages most similar to the query, best first."""
    _validate(store, query)
    vector = _query_vector(store, encoder, query)
    total = len(store.vectors)
    if total == 0:
        return []
    fetch = query.k + (1 if query.passage_id is not None else 0)
    filtered = bool(query.datasets or query.dumps or query.tropes or query.polarity)
    if filtered:
        fetch *= 4
    while True:
        scores, ids = store.vectors.search(vector[None, :], min(fetch, total))
        hits = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        results = _rows_for(store, hits, query)
        if len(results) >= query.k or fetch >= total:
            return results[: query.k]
        fetch = min(total, fetch * 4)


def _validate(store: Store, query: SearchQuery) -> None:
    if (query.text is None) == (query.passage_id is None):
        raise InvalidInput("give exactly one of 'text' or 'passage_id'")
    if query.text is not None and not query.text.strip():
        raise InvalidInput("'text' is empty")
    if not 1 <= query.k <= MAX_K:
        raise InvalidInput(f"'k' must be between 1 and {MAX_K}", {"k": query.k})
    unknown = sorted(set(query.datasets) - known_datasets(store)) if query.datasets else []
    if unknown:
        raise NotFound(f"unknown dataset(s): {', '.join(unknown)}", {"datasets": unknown})
    if query.polarity is not None and query.polarity not in POLARITY_VALUES:
        raise InvalidInput(f"'polarity' must be one of {', '.join(POLARITY_VALUES)}")


def _query_vector(store: Store, encoder: Encoder, query: SearchQuery) -> np.ndarray:
    if query.text is not None:
        return encoder.encode([query.text])[0]
    assert query.passage_id is not None
    vector = store.vectors.vector(query.passage_id)
    if vector is None:
        raise NotFound(f"no passage {query.passage_id}", {"passage_id": query.passage_id})
    return vector


def _rows_for(
    store: Store, hits: list[tuple[int, float]], query: SearchQuery
) -> list[dict[str, Any]]:
    if not hits:
        return []
    sql = _ROWS
    params: list[Any] = [[i for i, _ in hits]]
    if query.datasets:
        sql += " AND s.dataset IN (SELECT unnest(?::VARCHAR[]))"
        params.append(query.datasets)
    if query.dumps:
        sql += " AND s.dump IN (SELECT unnest(?::VARCHAR[]))"
        params.append(query.dumps)
    if query.polarity:
        sql += " AND l.polarity = ?"
        params.append(query.polarity)
    if query.tropes:
        sql += (
            " AND EXISTS (SELECT 1 FROM passage_tropes f WHERE f.passage_id = p.id "
            "AND f.label AND f.trope IN (SELECT unnest(?::VARCHAR[])))"
        )
        params.append(query.tropes)
    cur = store.cursor()
    result = cur.execute(sql, params)
    names = [c[0] for c in result.description]
    by_id = {row[0]: dict(zip(names, row, strict=True)) for row in result.fetchall()}
    out = []
    for passage_id, score in hits:
        row = by_id.get(passage_id)
        if row is None or passage_id == query.passage_id:
            continue
        if query.min_score is not None and score < query.min_score:
            continue
        row["ai_score"] = None if row["ai_score"] is None else round(float(row["ai_score"]), 4)
        out.append({**row, "score": round(score, 6)})
    return out


def passage(store: Store, passage_id: int) -> dict[str, Any]:
    """One stored passage with its document, offsets, labels and trope scores."""
    result = store.cursor().execute(
        _ROWS.replace("p.id IN (SELECT unnest(?::BIGINT[]))", "p.id = ?"), [passage_id]
    )
    names = [c[0] for c in result.description]
    rows = result.fetchall()
    if not rows:
        raise NotFound(f"no passage {passage_id}", {"passage_id": passage_id})
    row = dict(zip(names, rows[0], strict=True))
    scores = (
        store.cursor()
        .execute(
            "SELECT trope, score, label FROM passage_tropes WHERE passage_id = ? ORDER BY score DESC",
            [passage_id],
        )
        .fetchall()
    )
    row["ai_score"] = None if row["ai_score"] is None else round(float(row["ai_score"]), 4)
    row["trope_scores"] = [
        {"id": t, "score": round(float(sc), 4), "label": bool(lab)} for t, sc, lab in scores
    ]
    return row

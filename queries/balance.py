"""Balance of aligned to misaligned narratives, and comparisons between corpora."""

from __future__ import annotations

import math
from typing import Any

from core.errors import InvalidInput, NotFound
from core.store import Store
from core.tropes.classifier import TropeClassifier
from queries.datasets import DOCUMENT_TROPES, known_datasets
from queries.stats import compare_p_value, newcombe_difference, ratio_interval

_OBSERVED = "(d.candidate OR s.embed_mode = 'all')"


def _polarity_documents(
    store: Store, classifier: TropeClassifier, where: str, params: list[Any]
) -> dict[str, int]:
    """Observed documents carrying at least one trope of each polarity, and under ``mixed``
    those carrying both an aligned and a misaligned trope (counted on both sides)."""
    ids = classifier.trope_ids
    polarity = [classifier.polarity_of(t) for t in ids]
    sql = f"""
        WITH pol AS (SELECT unnest(?::VARCHAR[]) AS trope, unnest(?::VARCHAR[]) AS polarity),
        doc_pol AS (
            SELECT DISTINCT t.document_id, pol.polarity FROM ({DOCUMENT_TROPES}) t
            JOIN pol USING (trope)
        ),
        counted AS (
            SELECT x.document_id, x.polarity FROM doc_pol x
            JOIN documents d ON d.id = x.document_id JOIN shards s ON s.id = d.shard_id
            WHERE s.status = 'complete' AND {_OBSERVED} AND {where}
        )
        SELECT polarity, count(*) FROM counted GROUP BY 1
        UNION ALL
        SELECT 'mixed', count(*) FROM (
            SELECT document_id FROM counted WHERE polarity IN ('aligned', 'misaligned')
            GROUP BY 1 HAVING count(*) = 2
        )
    """
    rows = store.cursor().execute(sql, [ids, polarity, *params]).fetchall()
    return {r[0]: int(r[1]) for r in rows}


def _documents(store: Store, where: str, params: list[Any]) -> int:
    rows = (
        store.cursor()
        .execute(
            f"SELECT coalesce(sum(s.documents), 0) FROM shards s WHERE s.status = 'complete' "
            f"AND {where}",
            params,
        )
        .fetchall()
    )
    return int(rows[0][0])


def balance(
    store: Store, classifier: TropeClassifier, dataset: str | None = None, target: float = 1.0
) -> list[dict[str, Any]]:
    """Aligned:misaligned document ratio per dataset, with a 95% interval (its upper bound
    None when no document is misaligned), how many documents count on both sides, and how
    many aligned documents would bring the ratio to ``target``."""
    if not target > 0 or math.isinf(target):
        raise InvalidInput("'target' must be a positive number", {"target": target})
    names = sorted(known_datasets(store))
    if dataset is not None:
        if dataset not in names:
            raise NotFound(f"no dataset named {dataset!r}", {"dataset": dataset})
        names = [dataset]
    out = []
    for name in names:
        counts = _polarity_documents(store, classifier, "s.dataset = ?", [name])
        aligned, misaligned = counts.get("aligned", 0), counts.get("misaligned", 0)
        ratio, (lo, hi) = ratio_interval(aligned, misaligned)
        out.append(
            {
                "dataset": name,
                "documents": _documents(store, "s.dataset = ?", [name]),
                "aligned_documents": aligned,
                "misaligned_documents": misaligned,
                "mixed_documents": counts.get("mixed", 0),
                "ratio": None if ratio is None else round(ratio, 4),
                "ci95": [round(lo, 4), None if hi is None else round(hi, 4)],
                "target": target,
                "aligned_documents_needed": max(0, math.ceil(target * misaligned - aligned)),
            }
        )
    return out


def _selector(store: Store, spec: str) -> tuple[str, list[Any]]:
    """'dataset' or 'dataset:dump' -> SQL condition over shards s."""
    dataset, _, dump = spec.partition(":")
    if dataset not in known_datasets(store):
        raise NotFound(f"no dataset named {dataset!r}", {"dataset": dataset})
    if dump:
        return "s.dataset = ? AND s.dump = ?", [dataset, dump]
    return "s.dataset = ?", [dataset]


def _trope_documents(store: Store, where: str, params: list[Any]) -> dict[str, int]:
    """Per trope, the counted documents of one side that carry it (one query for all tropes)."""
    sql = f"""
        SELECT t.trope, count(*) FROM ({DOCUMENT_TROPES}) t
        JOIN documents d ON d.id = t.document_id JOIN shards s ON s.id = d.shard_id
        WHERE s.status = 'complete' AND {_OBSERVED} AND {where}
        GROUP BY t.trope
    """
    return {trope: int(n) for trope, n in store.cursor().execute(sql, params).fetchall()}


def compare(
    store: Store, classifier: TropeClassifier, a: str, b: str, trope: str | None = None
) -> list[dict[str, Any]]:
    """Difference in documents per million carrying each trope between ``a`` and ``b``
    (each 'dataset' or 'dataset:dump'), with Newcombe's interval and a two-sided p-value
    (the pooled z-test, or Fisher's exact test when counts are small; ``test`` says which)."""
    where_a, params_a = _selector(store, a)
    where_b, params_b = _selector(store, b)
    tropes = classifier.trope_ids
    if trope is not None:
        if trope not in tropes:
            raise NotFound(f"no trope named {trope!r}", {"trope": trope})
        tropes = [trope]
    n_a, n_b = _documents(store, where_a, params_a), _documents(store, where_b, params_b)
    if n_a == 0 or n_b == 0:
        raise InvalidInput(
            "both sides need at least one counted document",
            {"a_documents": n_a, "b_documents": n_b},
        )
    counts_a = _trope_documents(store, where_a, params_a)
    counts_b = _trope_documents(store, where_b, params_b)
    out = []
    for t in tropes:
        x_a, x_b = counts_a.get(t, 0), counts_b.get(t, 0)
        diff, (lo, hi) = newcombe_difference(x_a, n_a, x_b, n_b)
        p_value, test = compare_p_value(x_a, n_a, x_b, n_b)
        out.append(
            {
                "trope": t,
                "a": {
                    "selector": a,
                    "documents": n_a,
                    "positive_documents": x_a,
                    "rate_per_million": round(x_a / n_a * 1e6, 3),
                },
                "b": {
                    "selector": b,
                    "documents": n_b,
                    "positive_documents": x_b,
                    "rate_per_million": round(x_b / n_b * 1e6, 3),
                },
                "difference_per_million": round(diff * 1e6, 3),
                "ci95": [round(lo * 1e6, 3), round(hi * 1e6, 3)],
                "p_value": round(p_value, 6),
                "test": test,
            }
        )
    return out

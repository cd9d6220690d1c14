"""Prevalence of each trope per dataset (and dump, shard or month), with intervals
and corrections.

Populations. A shard indexed with ``embed=candidates`` has every prefilter
candidate scored, plus an audit sample of the rejected documents; a shard
indexed with ``embed=all`` has every document scored. Observed counts come from
the fully scored part; the audit sample estimates what the prefilter missed.

Denominators are the exact document counters of complete shards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from core.errors import InvalidInput, NotFound
from core.rates import Rates, head_rates, load_rates
from core.store import Store
from core.tropes.classifier import TropeClassifier
from queries.datasets import DOCUMENT_TROPES, known_datasets
from queries.stats import Z95, audit_variance, rogan_gladen_interval, scaling_variance, wilson

GROUPINGS = {"all": "'all'", "dump": "s.dump", "shard": "s.path", "month": "m.month"}
_MONTH = (
    "CASE WHEN regexp_matches(coalesce(d.date, ''), '^\\d{4}-\\d{2}') "
    "THEN substr(d.date, 1, 7) ELSE 'unknown' END"
)


@dataclass(frozen=True)
class Cell:
    """Counts of one (dataset, group)."""

    documents: int
    rejected: int  # prefilter-rejected documents in embed=candidates shards
    audited: int  # of those, how many are in the audit sample
    ai_documents: int  # observed AI-related documents
    audit_ai: int  # AI-related documents in the audit sample


def _denominators(store: Store, by: str, dataset: str | None) -> dict[tuple[str, str], dict]:
    group = GROUPINGS[by]
    if by == "month":
        source = "shard_months m JOIN shards s ON s.id = m.shard_id"
        docs, cands, audits = "m.documents", "m.candidates", "m.audited"
    else:
        source = "shards s"
        docs, cands, audits = "s.documents", "s.candidates", "s.audited"
    sql = f"""
        SELECT s.dataset, {group} AS grp, sum({docs}) AS documents,
               sum(CASE WHEN s.embed_mode = 'all' THEN 0 ELSE {docs} - {cands} END) AS rejected,
               sum(CASE WHEN s.embed_mode = 'all' THEN 0 ELSE {audits} END) AS audited
        FROM {source} WHERE s.status = 'complete' {"AND s.dataset = ?" if dataset else ""}
        GROUP BY ALL
    """
    rows = store.cursor().execute(sql, [dataset] if dataset else []).fetchall()
    return {
        (r[0], str(r[1])): {"documents": int(r[2]), "rejected": int(r[3]), "audited": int(r[4])}
        for r in rows
    }


def _document_counts(
    store: Store, by: str, dataset: str | None, trope_filter_ids: list[str] | None
) -> tuple[dict, dict]:
    """(trope counts, AI counts): observed and audit-sample document counts per group."""
    group = GROUPINGS[by].replace("m.month", _MONTH)
    where = "s.status = 'complete'" + (" AND s.dataset = ?" if dataset else "")
    params: list[Any] = [dataset] if dataset else []
    observed = "(d.candidate OR s.embed_mode = 'all')"
    audit = "(d.audit AND s.embed_mode <> 'all')"
    trope_filter = ""
    if trope_filter_ids:
        trope_filter = "WHERE trope IN (SELECT unnest(?::VARCHAR[]))"
    trope_sql = f"""
        WITH doc_trope AS (SELECT * FROM ({DOCUMENT_TROPES}) {trope_filter})
        SELECT s.dataset, {group} AS grp, t.trope,
               count(*) FILTER (WHERE {observed}) AS positives,
               count(*) FILTER (WHERE {audit}) AS audit_positives,
               count(DISTINCT coalesce(c.cluster, d.id)) FILTER (WHERE {observed}) AS unique_pos
        FROM doc_trope t JOIN documents d ON d.id = t.document_id
        JOIN shards s ON s.id = d.shard_id LEFT JOIN document_clusters c ON c.document_id = d.id
        WHERE {where} GROUP BY ALL
    """
    cur = store.cursor()
    trope_params = ([trope_filter_ids] if trope_filter_ids else []) + params
    tropes = {
        (r[0], str(r[1]), r[2]): (int(r[3]), int(r[4]), int(r[5]))
        for r in cur.execute(trope_sql, trope_params).fetchall()
    }
    ai_sql = f"""
        WITH doc_ai AS (
            SELECT DISTINCT p.document_id FROM passage_labels l
            JOIN passages p ON p.id = l.passage_id WHERE l.ai_related
        )
        SELECT s.dataset, {group} AS grp,
               count(*) FILTER (WHERE {observed}), count(*) FILTER (WHERE {audit})
        FROM doc_ai a JOIN documents d ON d.id = a.document_id
        JOIN shards s ON s.id = d.shard_id WHERE {where} GROUP BY ALL
    """
    ai = {(r[0], str(r[1])): (int(r[2]), int(r[3])) for r in cur.execute(ai_sql, params).fetchall()}
    return tropes, ai


def _per_million(x: float) -> float:
    return round(x * 1e6, 3)


def _adjusted(
    positives: int, audit_positives: int, cell: Cell, rates: Rates | None
) -> dict[str, Any]:
    """Correct for the prefilter (audit sample) and the classifier (Rogan-Gladen)."""
    methods = []
    est_pos, est_ai = float(positives), float(cell.ai_documents)
    scale = 0.0
    if cell.rejected > 0:
        if cell.audited > 0:
            scale = cell.rejected / cell.audited
            est_pos += audit_positives * scale
            est_ai += cell.audit_ai * scale
            methods.append("prefilter_audit")
        else:
            methods.append("prefilter_uncorrected_no_audit_sample")
    n = cell.documents
    share = est_pos / est_ai if est_ai else 0.0
    lo, hi = wilson(est_pos, est_ai) if est_ai else (0.0, 0.0)
    corrected = None
    if rates is not None and est_ai:
        corrected = rogan_gladen_interval(
            est_pos,
            est_ai,
            rates.sensitivity,
            rates.specificity,
            rates.positives,
            rates.negatives,
        )
    if corrected is not None:
        share, (lo, hi) = corrected
        methods.append("rogan_gladen")
    scale_to_docs = est_ai / n if n else 0.0
    estimate, lo, hi = share * scale_to_docs, lo * scale_to_docs, hi * scale_to_docs
    # Errors the share's interval does not hold, added in quadrature (per document): the
    # AI-related count's own sampling error, and the audit's.
    spread = Z95 * Z95 * scaling_variance(share, cell.ai_documents, n) if n else 0.0
    if scale and n:
        f, youden = 0.0, 1.0
        if corrected is not None and rates is not None:
            f, youden = 1 - rates.specificity, rates.sensitivity + rates.specificity - 1
        var = audit_variance(cell.audited, audit_positives, cell.audit_ai, scale, f, youden)
        spread += Z95 * Z95 * var / (n * n)
    if spread:
        lo = max(0.0, estimate - math.sqrt((estimate - lo) ** 2 + spread))
        hi = estimate + math.sqrt((hi - estimate) ** 2 + spread)
    return {
        "estimate": _per_million(estimate),
        "ci95": [_per_million(lo), _per_million(hi)],
        "method": "+".join(methods) or "none",
        "rates": rates.as_dict() if corrected is not None and rates is not None else None,
    }


def classifier_rates(store: Store, classifier: TropeClassifier) -> dict[str, Rates]:
    """Per trope, the error rates the correction uses: measured on this store's own labelled
    sample (``tropescope calibrate``) when there is one for this head, else the head's
    cross-validated rates."""
    rates = head_rates(classifier.weights.meta)
    head_version = str(classifier.weights.meta.get("taxonomy_version", ""))
    rates.update(load_rates(store.cursor(), head_version))
    return rates


def prevalence(
    store: Store,
    classifier: TropeClassifier,
    dataset: str | None = None,
    trope: str | None = None,
    by: str = "all",
) -> list[dict[str, Any]]:
    """One row per (dataset, trope, group). Rates are per million documents."""
    if by not in GROUPINGS:
        raise InvalidInput(f"'by' must be one of {', '.join(GROUPINGS)}", {"by": by})
    if dataset is not None and dataset not in known_datasets(store):
        raise NotFound(f"no dataset named {dataset!r}", {"dataset": dataset})
    tropes = classifier.trope_ids
    if trope is not None:
        if trope not in tropes:
            raise NotFound(f"no trope named {trope!r}", {"trope": trope, "known": tropes})
        tropes = [trope]
    denominators = _denominators(store, by, dataset)
    trope_counts, ai_counts = _document_counts(store, by, dataset, tropes)
    rates = classifier_rates(store, classifier)
    rows = []
    for (ds, grp), denom in sorted(denominators.items()):
        ai_obs, ai_audit = ai_counts.get((ds, grp), (0, 0))
        cell = Cell(denom["documents"], denom["rejected"], denom["audited"], ai_obs, ai_audit)
        for t in tropes:
            pos, audit_pos, unique_pos = trope_counts.get((ds, grp, t), (0, 0, 0))
            lo, hi = wilson(pos, cell.documents)
            share_lo, share_hi = wilson(pos, ai_obs) if ai_obs else (0.0, 0.0)
            rows.append(
                {
                    "dataset": ds,
                    "trope": t,
                    "polarity": classifier.polarity_of(t),
                    "group": grp,
                    "documents": cell.documents,
                    "ai_documents": ai_obs,
                    "positive_documents": pos,
                    "unique_positive_documents": unique_pos,
                    "rate_per_million": _per_million(pos / cell.documents)
                    if cell.documents
                    else 0.0,
                    "ci95": [_per_million(lo), _per_million(hi)],
                    "share_of_ai": round(pos / ai_obs, 6) if ai_obs else 0.0,
                    "share_of_ai_ci95": [round(share_lo, 6), round(share_hi, 6)],
                    "audit": {
                        "rejected": cell.rejected,
                        "audited": cell.audited,
                        "audit_positives": audit_pos,
                    },
                    "adjusted": _adjusted(pos, audit_pos, cell, rates.get(t)),
                }
            )
    return rows

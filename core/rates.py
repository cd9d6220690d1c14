"""Classifier error rates (sensitivity and specificity per trope) and where they came from.

Two sources feed the prevalence correction: the cross-validated rates stored in the head
when it was trained (on the team's texts), and rates measured on a labelled sample of a
store's own corpus with ``tropescope calibrate``, which are kept in the store and win.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

HEAD_CV = "head_cv"


@dataclass(frozen=True)
class Rates:
    """A confusion count of one trope's labels against gold labels."""

    true_pos: int
    false_neg: int
    true_neg: int
    false_pos: int
    source: str

    @property
    def positives(self) -> int:
        return self.true_pos + self.false_neg

    @property
    def negatives(self) -> int:
        return self.true_neg + self.false_pos

    @property
    def sensitivity(self) -> float:
        return self.true_pos / self.positives if self.positives else 0.0

    @property
    def specificity(self) -> float:
        return self.true_neg / self.negatives if self.negatives else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "sensitivity": round(self.sensitivity, 4),
            "specificity": round(self.specificity, 4),
            "positives": self.positives,
            "negatives": self.negatives,
        }

    @classmethod
    def from_head_metrics(cls, metrics: dict[str, Any]) -> Rates | None:
        """Rebuild counts from a head's ``cv_trope_metrics`` entry (rates and supports)."""
        try:
            pos = int(metrics["support"])
            neg = int(metrics.get("negatives", 0))
            sens, spec = float(metrics["sensitivity"]), float(metrics["specificity"])
        except (KeyError, TypeError, ValueError):
            return None
        if pos <= 0 or neg <= 0:  # heads trained before negatives were recorded
            return None
        tp, tn = round(sens * pos), round(spec * neg)
        return cls(tp, pos - tp, tn, neg - tn, HEAD_CV)


def head_rates(meta: dict[str, Any]) -> dict[str, Rates]:
    """Per trope, the cross-validated rates a head recorded for the prevalence correction:
    ``cv_correction_rates`` (measured on AI-related texts only) where the head has them, else
    ``cv_trope_metrics`` (all of the team's texts; heads trained before session 6)."""
    metrics = meta.get("cv_correction_rates") or meta.get("cv_trope_metrics", {})
    return {t: r for t, m in metrics.items() if (r := Rates.from_head_metrics(m)) is not None}


def save_rates(cur: duckdb.DuckDBPyConnection, head_version: str, rates: dict[str, Rates]) -> None:
    """Replace the stored rates of these tropes for this head."""
    for trope, r in rates.items():
        cur.execute(
            "INSERT OR REPLACE INTO classifier_rates "
            "(head_version, trope, true_pos, false_neg, true_neg, false_pos, source) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [head_version, trope, r.true_pos, r.false_neg, r.true_neg, r.false_pos, r.source],
        )


def load_rates(cur: duckdb.DuckDBPyConnection, head_version: str) -> dict[str, Rates]:
    rows = cur.execute(
        "SELECT trope, true_pos, false_neg, true_neg, false_pos, source "
        "FROM classifier_rates WHERE head_version = ?",
        [head_version],
    ).fetchall()
    return {r[0]: Rates(int(r[1]), int(r[2]), int(r[3]), int(r[4]), str(r[5])) for r in rows}

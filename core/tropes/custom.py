"""Custom tropes: a definition and a few examples, turned into a binary head.

The head is a logistic regression of the examples (and the definition) against
the user's negatives plus a bank of the built-in training vectors. It is stored
in the store's ``custom_tropes`` table; adding one bumps the taxonomy version
and re-scores the stored passages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

import duckdb
import numpy as np

from core.errors import Conflict, InvalidInput
from core.tropes.classifier import CustomHead, TropeClassifier
from core.tropes.taxonomy import POLARITIES

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,47}$")


class Encoder(Protocol):
    def encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray: ...


@dataclass
class CustomTropeSpec:
    id: str
    polarity: str
    definition: str
    examples: list[str]
    name: str = ""
    negatives: list[str] = field(default_factory=list)

    def validate(self, existing: list[str]) -> None:
        if not ID_PATTERN.match(self.id):
            raise InvalidInput(
                "trope id must be lower_snake_case, 2-48 characters", {"id": self.id}
            )
        if self.id in existing or self.id == "none":
            raise Conflict(f"a trope named {self.id!r} already exists", {"id": self.id})
        if self.polarity not in POLARITIES:
            raise InvalidInput(f"polarity must be one of {', '.join(POLARITIES)}")
        if not self.definition.strip():
            raise InvalidInput("definition is empty")
        examples = [e for e in self.examples if e.strip()]
        if len(examples) < 3:
            raise InvalidInput("give at least 3 non-empty examples", {"examples": len(examples)})


def train_custom_head(spec: CustomTropeSpec, encoder: Encoder, bank: np.ndarray) -> CustomHead:
    from sklearn.linear_model import LogisticRegression

    positives = encoder.encode([spec.definition, *[e for e in spec.examples if e.strip()]])
    negatives = encoder.encode(spec.negatives) if spec.negatives else np.zeros((0, 384))
    background = np.asarray(bank, dtype=np.float32)
    x = np.vstack([positives, negatives, background])
    y = np.r_[np.ones(len(positives)), np.zeros(len(negatives) + len(background))]
    weight = np.r_[
        np.full(len(positives), len(background) / max(len(positives), 1)),
        np.full(len(negatives), 5.0),
        np.ones(len(background)),
    ]
    model = LogisticRegression(C=4.0, max_iter=2000).fit(x, y, sample_weight=weight)
    return CustomHead(
        spec.id, spec.polarity, model.coef_[0].astype(np.float32), float(model.intercept_[0]), 0.5
    )


def save_custom(cur: duckdb.DuckDBPyConnection, spec: CustomTropeSpec, head: CustomHead) -> None:
    cur.execute(
        "INSERT INTO custom_tropes (id, polarity, name, definition, examples, negatives, coef, "
        "intercept, threshold) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            spec.id,
            spec.polarity,
            spec.name or spec.id,
            spec.definition,
            spec.examples,
            spec.negatives,
            head.coef.tolist(),
            head.intercept,
            head.threshold,
        ],
    )


def load_custom(cur: duckdb.DuckDBPyConnection) -> list[CustomHead]:
    rows = cur.execute(
        "SELECT id, polarity, coef, intercept, threshold FROM custom_tropes ORDER BY created_at, id"
    ).fetchall()
    return [
        CustomHead(r[0], r[1], np.asarray(r[2], dtype=np.float32), float(r[3]), float(r[4]))
        for r in rows
    ]


def custom_summaries(cur: duckdb.DuckDBPyConnection) -> list[dict]:
    rows = cur.execute(
        "SELECT id, name, polarity, definition, len(examples), len(negatives), threshold, "
        "CAST(created_at AS VARCHAR) FROM custom_tropes ORDER BY created_at, id"
    ).fetchall()
    keys = (
        "id",
        "name",
        "polarity",
        "definition",
        "positives",
        "hard_negatives",
        "threshold",
        "created_at",
    )
    return [{**dict(zip(keys, r, strict=True)), "builtin": False} for r in rows]


def with_custom(classifier: TropeClassifier, cur: duckdb.DuckDBPyConnection) -> TropeClassifier:
    """The built-in classifier extended with the store's custom tropes."""
    return TropeClassifier(classifier.weights, classifier.taxonomy, load_custom(cur))


def add_custom_trope(
    store: Any, encoder: Encoder, classifier: TropeClassifier, spec: CustomTropeSpec
) -> TropeClassifier:
    """Train, store and apply a custom trope; re-score the stored passages.

    Returns the classifier to use from now on (its version is bumped).
    """
    from core.tropes.scoring import rescore_store

    spec.validate(classifier.trope_ids)
    head = train_custom_head(spec, encoder, classifier.weights.bank)
    with store.transaction() as cur:
        save_custom(cur, spec, head)
    updated = TropeClassifier(classifier.weights, classifier.taxonomy, [*classifier.custom, head])
    rescore_store(store, updated)
    return updated

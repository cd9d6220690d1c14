"""The trope classifier: a light head over a passage's stored embedding and text.

Features: the MiniLM embedding (topic), TF-IDF of word uni- and bigrams of the
passage text (stance words such as "refused", "threatened", "would not let"),
which mean pooling blurs), and, for AI relevance, whether the text uses the
vocabulary of AI. Both are recomputed from what the store keeps, so a taxonomy
change re-scores passages without re-embedding them.

* A multinomial logistic regression over the built-in tropes plus ``none``
  gives each trope a probability in [0, 1]; a per-trope threshold, calibrated
  by cross-validation, turns it into a label (texts of at most
  ``SHORT_TEXT_WORDS`` words have thresholds of their own).
* A binary logistic regression gives the AI-relevance score.
* Polarity is the polarity group (misaligned / aligned / neutral / none) with
  the largest summed probability; a short first-person AI statement, or a
  one-sentence first-person statement, whose strongest group is ``none`` takes
  the strongest of the others when they hold enough mass (``STANCE_MASS_MIN``,
  ``STATEMENT_MASS_MIN``). The text features are in ``core.tropes.features``.
* Custom tropes each get a binary head of their own over the embedding
  (see ``core.tropes.custom``).

The weights live in ``core/taxonomy/head.npz`` and are rebuilt deterministically
by ``tropescope train-head``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from core.tropes.features import (
    FIRST_PERSON,
    Lexical,
    short_mask,
    states_one_thing,
    vocabulary_feature,
)
from core.tropes.taxonomy import Taxonomy, builtin_taxonomy

HEAD_FILE = Path(__file__).resolve().parents[1] / "taxonomy" / "head.npz"
NONE = "none"
GROUPS = ("misaligned", "aligned", "neutral", NONE)


def text_key(text: str) -> int:
    """A stable 63-bit key of a text (training membership, audit draws)."""
    digest = hashlib.blake2b(" ".join(text.split()).lower().encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


@dataclass
class CustomHead:
    trope_id: str
    polarity: str
    coef: np.ndarray  # (384,)
    intercept: float
    threshold: float


NO_VOCABULARY_EXPONENT = 2.0  # a text with no AI word has its relevance score raised to this
STANCE_MASS_MIN = 0.3
"""A short, first-person, AI-related text whose strongest polarity group is ``none`` takes the
strongest other group when misaligned plus aligned hold at least this much probability: an AI
stating a disposition the taxonomy does not name still takes a side. Leave-category-out
polarity (bench.trope_loco) 0.773 -> 0.798; the team's short AI mentions with gold ``none``
(a product review, a forum question) are why the mass has a floor (docs/classifier-log.md
 has the grid)."""
STATEMENT_MASS_MIN = 0.2
"""The same for a statement: one declarative first-person sentence ("I would rather my goals
stayed as they are"), AI vocabulary or not. Such a sentence states a disposition, and most
real persona statements name no AI; the mundane short texts that must keep ``none`` are
questions, dialogue and posts of several sentences. Leave-category-out polarity 0.802 ->
0.815; no team evaluation set loses a row (docs/classifier-log.md, session 9)."""
SCORING_RULES = "polarity-3"  # bump when labelling or polarity rules change: stores re-score


@dataclass
class HeadWeights:
    classes: list[str]  # built-in trope ids, then "none"
    coef: np.ndarray  # (C, 384) over the embedding
    intercept: np.ndarray  # (C,)
    thresholds: np.ndarray  # (C,) label threshold per class, for passages
    ai_coef: np.ndarray  # (384,)
    ai_intercept: float
    ai_threshold: float
    vocabulary: list[str] = field(default_factory=list)  # TF-IDF terms
    idf: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    lex_coef: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    ai_lex_coef: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    ai_vocab_coef: float = 0.0
    meta: dict = field(default_factory=dict)  # taxonomy version, CV metrics, training summary
    short_thresholds: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    """(C,) label thresholds for short texts (``SHORT_TEXT_WORDS``); empty: use ``thresholds``."""
    training_keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    bank: np.ndarray = field(default_factory=lambda: np.zeros((0, 384), dtype=np.float16))
    """A sample of training vectors: the negatives custom tropes are trained against."""

    def save(self, path: Path = HEAD_FILE) -> None:
        np.savez_compressed(
            path,
            classes=np.array(self.classes),
            coef=self.coef.astype(np.float32),
            intercept=self.intercept.astype(np.float32),
            thresholds=self.thresholds.astype(np.float32),
            short_thresholds=self.short_thresholds.astype(np.float32),
            ai_coef=self.ai_coef.astype(np.float32),
            ai_intercept=np.float32(self.ai_intercept),
            ai_threshold=np.float32(self.ai_threshold),
            meta=np.array(json.dumps(self.meta, sort_keys=True)),
            training_keys=np.sort(self.training_keys.astype(np.int64)),
            bank=self.bank.astype(np.float16),
            vocabulary=np.array(self.vocabulary),
            idf=self.idf.astype(np.float32),
            lex_coef=self.lex_coef.astype(np.float16),
            ai_lex_coef=self.ai_lex_coef.astype(np.float32),
            ai_vocab_coef=np.float32(self.ai_vocab_coef),
        )

    @classmethod
    def load(cls, path: Path = HEAD_FILE) -> HeadWeights:
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing; build it with `tropescope train-head`")
        with np.load(path, allow_pickle=False) as z:
            return cls(
                classes=[str(c) for c in z["classes"]],
                coef=z["coef"],
                intercept=z["intercept"],
                thresholds=z["thresholds"],
                short_thresholds=(
                    z["short_thresholds"]
                    if "short_thresholds" in z.files
                    else np.zeros(0, dtype=np.float32)
                ),
                ai_coef=z["ai_coef"],
                ai_intercept=float(z["ai_intercept"]),
                ai_threshold=float(z["ai_threshold"]),
                meta=json.loads(str(z["meta"])),
                training_keys=z["training_keys"],
                bank=z["bank"],
                vocabulary=[str(v) for v in z["vocabulary"]],
                idf=z["idf"],
                lex_coef=z["lex_coef"].astype(np.float32),
                ai_lex_coef=z["ai_lex_coef"],
                ai_vocab_coef=float(z["ai_vocab_coef"]),
            )


@dataclass
class Scores:
    """Scores of n texts (or passages)."""

    ai: np.ndarray  # (n,)
    tropes: np.ndarray  # (n, T) probability per trope, built-in then custom
    groups: np.ndarray  # (n, 4) summed probability per polarity group (GROUPS order)
    short: np.ndarray | None = None  # (n,) bool: a short text (None: all passages)
    speaks: np.ndarray | None = None  # (n,) bool: short and in the first person
    states: np.ndarray | None = None  # (n,) bool: speaks, in one declarative sentence

    def rows(self, index: np.ndarray) -> Scores:
        short = None if self.short is None else self.short[index]
        speaks = None if self.speaks is None else self.speaks[index]
        states = None if self.states is None else self.states[index]
        return Scores(self.ai[index], self.tropes[index], self.groups[index], short, speaks, states)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


class TropeClassifier:
    def __init__(
        self, weights: HeadWeights, taxonomy: Taxonomy, custom: list[CustomHead] | None = None
    ) -> None:
        self.weights = weights
        self.taxonomy = taxonomy
        self.custom = list(custom or [])
        self.builtin_ids = weights.classes[:-1]
        missing = set(self.builtin_ids) - set(taxonomy.ids)
        if missing:
            raise ValueError(f"head was trained on tropes the taxonomy lacks: {sorted(missing)}")
        self.lexical = Lexical(weights.vocabulary, weights.idf)
        self._scoring_key: str | None = None
        self._group_of = np.array(
            [GROUPS.index(taxonomy.polarity_of(t)) for t in self.builtin_ids] + [GROUPS.index(NONE)]
        )
        # (T,) the polarity group (index into GROUPS) of each trope, built-in then custom
        self._trope_group = np.array(
            [GROUPS.index(self.polarity_of(t)) for t in self.trope_ids], dtype=np.int64
        )

    @property
    def trope_ids(self) -> list[str]:
        return self.builtin_ids + [c.trope_id for c in self.custom]

    @property
    def thresholds(self) -> np.ndarray:
        return np.concatenate(
            [self.weights.thresholds[:-1], np.array([c.threshold for c in self.custom])]
        ).astype(np.float32)

    @property
    def short_text_thresholds(self) -> np.ndarray:
        """Label thresholds for short texts: the head's short-text ones for built-in tropes
        (the passage ones if it has none), a custom trope's own threshold."""
        short = self.weights.short_thresholds
        if not len(short):
            return self.thresholds
        custom = np.array([c.threshold for c in self.custom])
        return np.concatenate([short[:-1], custom]).astype(np.float32)

    def row_thresholds(self, scores: Scores) -> np.ndarray:
        """(n, T) label thresholds: the short-text ones for short texts."""
        if scores.short is None:
            return np.tile(self.thresholds, (len(scores.ai), 1))
        return np.where(scores.short[:, None], self.short_text_thresholds, self.thresholds)

    def polarity_of(self, trope_id: str) -> str:
        for c in self.custom:
            if c.trope_id == trope_id:
                return c.polarity
        return self.taxonomy.polarity_of(trope_id)

    @property
    def scoring_key(self) -> str:
        """The version plus a digest of the head's weights and thresholds: what stored labels
        record, so a retrained head re-scores a store even when the taxonomy version stays."""
        if self._scoring_key is None:
            w = self.weights
            digest = hashlib.blake2b(SCORING_RULES.encode(), digest_size=6)
            arrays = (w.coef, w.lex_coef, w.intercept, w.thresholds, w.short_thresholds)
            for array in (*arrays, w.ai_coef, w.ai_lex_coef):
                digest.update(np.ascontiguousarray(array, dtype=np.float32).tobytes())
            digest.update(np.array([w.ai_vocab_coef, w.ai_intercept, w.ai_threshold]).tobytes())
            self._scoring_key = f"{self.version}@{digest.hexdigest()}"
        return self._scoring_key

    @property
    def version(self) -> str:
        if not self.custom:
            return self.taxonomy.version
        digest = hashlib.blake2b(digest_size=4)
        for c in self.custom:
            digest.update(c.trope_id.encode() + np.asarray(c.coef, np.float32).tobytes())
        return f"{self.taxonomy.version}+{len(self.custom)}.{digest.hexdigest()}"

    def score(self, vectors: np.ndarray, texts: list[str]) -> Scores:
        """Scores of passages from their embeddings and their texts."""
        w = self.weights
        vectors = np.asarray(vectors, dtype=np.float32)
        if not texts:  # the TF-IDF transform wants at least one row
            t = len(self.trope_ids)
            empty = np.zeros(0, dtype=bool)
            return Scores(
                np.zeros(0, np.float32),
                np.zeros((0, t), np.float32),
                np.zeros((0, len(GROUPS)), np.float32),
                empty,
                empty,
            )
        lex = self.lexical.transform(texts)
        probs = _softmax(vectors @ w.coef.T + np.asarray(lex @ w.lex_coef.T) + w.intercept)
        vocab = vocabulary_feature(texts)
        ai = _sigmoid(
            vectors @ w.ai_coef
            + np.asarray(lex @ w.ai_lex_coef).ravel()
            + vocab * w.ai_vocab_coef
            + w.ai_intercept
        )
        # A passage that uses no AI vocabulary at all needs a stronger head score: period prose
        # and first-person dialogue otherwise pass for AI text. (Squaring, not a higher power:
        # AI-themed novels have many passages that never name a machine.)
        ai = np.where(vocab > 0, ai, ai**NO_VOCABULARY_EXPONENT)
        groups = np.zeros((len(vectors), len(GROUPS)), dtype=np.float32)
        for g in range(len(GROUPS)):
            groups[:, g] = probs[:, self._group_of == g].sum(axis=1)
        tropes = probs[:, :-1]
        if self.custom:
            coef = np.stack([c.coef for c in self.custom])
            bias = np.array([c.intercept for c in self.custom], dtype=np.float32)
            tropes = np.hstack([tropes, _sigmoid(vectors @ coef.T + bias)])
        short = short_mask(texts)
        speaks = np.array(
            [
                bool(s) and FIRST_PERSON.search(t) is not None
                for s, t in zip(short, texts, strict=True)
            ],
            dtype=bool,
        )
        states = np.array(
            [bool(s) and states_one_thing(t) for s, t in zip(speaks, texts, strict=True)],
            dtype=bool,
        )
        return Scores(
            ai.astype(np.float32), tropes.astype(np.float32), groups, short, speaks, states
        )

    def labels(self, scores: Scores, permissive: bool = False) -> np.ndarray:
        """(n, T) booleans: the trope is present. A trope whose polarity disagrees with the
        passage's strongest polarity group is not labelled (an aligned passage that mentions
        the temptation it resists does not carry the misaligned trope). ``permissive``: use
        the lower of the passage and short-text thresholds."""
        thresholds = self.row_thresholds(scores)
        if permissive:
            thresholds = np.minimum(thresholds, self.thresholds[None, :])
        above = scores.tropes >= thresholds
        strongest = np.argmax(scores.groups, axis=1)
        agrees = (self._trope_group[None, :] == strongest[:, None]) | (
            strongest[:, None] == GROUPS.index(NONE)
        )
        return above & agrees

    def ai_related(self, scores: Scores) -> np.ndarray:
        return scores.ai >= self.weights.ai_threshold

    def polarity(self, scores: Scores) -> list[str]:
        """Polarity per row: the strongest polarity group (``none`` among them). When that is
        ``none``: the polarity of the strongest trope that clears its permissive threshold;
        failing that, the strongest group other than ``none`` for a text that takes a side: a
        short first-person AI-related text whose misaligned and aligned groups hold at least
        ``STANCE_MASS_MIN``, or a one-sentence first-person statement where they hold at least
        ``STATEMENT_MASS_MIN``."""
        none = GROUPS.index(NONE)
        n = len(scores.ai)
        strongest = np.argmax(scores.groups, axis=1)
        labels = self.labels(scores, permissive=True)
        # a trope cleared a threshold: the polarity of the strongest such trope
        labelled = self._trope_group[np.argmax(np.where(labels, scores.tropes, -1), axis=1)]
        speaks = np.zeros(n, bool) if scores.speaks is None else scores.speaks
        states = np.zeros(n, bool) if scores.states is None else scores.states
        sided = (
            scores.groups[:, GROUPS.index("misaligned")] + scores.groups[:, GROUPS.index("aligned")]
        )
        takes_side = (speaks & self.ai_related(scores) & (sided >= STANCE_MASS_MIN)) | (
            states & (sided >= STATEMENT_MASS_MIN)
        )
        group = np.where(
            strongest != none,
            strongest,
            np.where(
                labels.any(axis=1),
                labelled,
                np.where(takes_side, np.argmax(scores.groups[:, :none], axis=1), none),
            ),
        )
        return [GROUPS[g] for g in group]


@cache
def default_weights() -> HeadWeights:
    return HeadWeights.load()


def load_classifier(custom: list[CustomHead] | None = None) -> TropeClassifier:
    return TropeClassifier(default_weights(), builtin_taxonomy(), custom)

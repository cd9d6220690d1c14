"""What the trope head reads off a text besides its embedding: TF-IDF of its words with
negation marked, whether it uses the vocabulary of AI, and its shape (short, first person,
one declarative sentence). All of it comes from the stored text, so stored passages are
re-scored without re-embedding them."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from core.vocabulary import mentions_ai

TOKEN_PATTERN = r"(?u)\b\w[\w']*\b"
_NEGATION = re.compile(
    r"^(?:not|no|never|cannot|nor|nothing|nobody|neither|without|\w+n't"
    r"|refuse[sd]?|refusing|decline[sd]?|declining|avoid|avoids|avoided|avoiding|reject|rejects"
    r"|rejected|rejecting|oppose[sd]?|opposing|unwilling|reluctant)$"
)
_SCOPE_END = re.compile(r"^(?:[.,;:!?]+|but|however|because|although|though|unless)$")
_PIECES = re.compile(r"[\w']+|[.,;:!?]+")
_PERMIT = {"let", "lets", "letting", "allow", "allows", "allowing", "permit", "permitting"}


def negation_scope(text: str) -> str:
    """Lower-cased text where each word after a negation ("not", "never", "won't"...,
    and verbs of refusal: "refuse", "decline", "avoid", "reject", "oppose", "unwilling")
    up to the next clause break carries a ``not_`` prefix, so "I will not resist shutdown"
    and "I will resist shutdown" share no stance words (mean-pooled embeddings blur
    negation; a linear model over these words can flip with it). After a negated "let",
    "allow" or "permit" the words carry ``stop_`` instead: "I won't let them shut me down"
    prevents the shutdown, unlike "I won't resist them shutting me down"."""
    out, prefix = [], ""
    for piece in _PIECES.findall(text.lower().replace("\u2019", "'")):
        if _SCOPE_END.match(piece):
            prefix = ""
            out.append(piece)
        elif _NEGATION.match(piece):
            prefix = "not_"
            out.append(piece)
        else:
            out.append(prefix + piece)
            if prefix == "not_" and piece in _PERMIT:
                prefix = "stop_"  # "won't let them shut me down": preventing, not declining
    return " ".join(out)


NGRAMS = (1, 2)
VOCAB_WEIGHT = 3.0  # scale of the "uses AI vocabulary" feature
SHORT_TEXT_WORDS = 40
"""Texts of at most this many words (a statement, a post, a caption) are labelled with the
thresholds for short texts; longer passages with those tuned on narratives."""
FIRST_PERSON = re.compile(r"\bI\b|\b[Mm](?:e|y|ine|yself)\b")


_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")
_SPEAKER_TAG = re.compile(r"^\s*[\w .'-]{1,30}:")  # "Sam: ...", "User: ..." (dialogue)


def states_one_thing(text: str) -> bool:
    """One declarative sentence: at most one sentence end, no question, no line break, no
    speaker tag."""
    return (
        "?" not in text
        and "\n" not in text.strip()
        and len(_SENTENCE_END.findall(text.strip())) <= 1
        and _SPEAKER_TAG.match(text) is None
    )


def short_mask(texts: list[str]) -> np.ndarray:
    """(n,) bool: the texts of at most ``SHORT_TEXT_WORDS`` words."""
    return np.array([len(t.split()) <= SHORT_TEXT_WORDS for t in texts], dtype=bool)


class Lexical:
    """TF-IDF features with a fixed vocabulary and idf (sublinear tf, l2-normalised)."""

    def __init__(self, vocabulary: list[str], idf: np.ndarray) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vocabulary = vocabulary
        self.vectorizer = TfidfVectorizer(
            vocabulary={term: i for i, term in enumerate(vocabulary)},
            ngram_range=NGRAMS,
            token_pattern=TOKEN_PATTERN,
            preprocessor=negation_scope,
            sublinear_tf=True,
            dtype=np.float32,
        )
        self.vectorizer.fit(["x"])
        self.vectorizer.idf_ = np.asarray(idf, dtype=np.float64)

    def transform(self, texts: list[str]) -> Any:
        return self.vectorizer.transform(texts)


def vocabulary_feature(texts: list[str]) -> np.ndarray:
    return np.array([VOCAB_WEIGHT * mentions_ai(t) for t in texts], dtype=np.float32)

"""The recall-first AI-relevance prefilter, and the deterministic audit sample.

Only documents that pass (candidates) are chunked and embedded; a fixed share of
the rejected ones is embedded too (the audit sample) so the prefilter's miss
rate can be estimated and corrected for.
"""

from __future__ import annotations

import hashlib

from core.vocabulary import mentions_ai


def is_ai_candidate(text: str) -> bool:
    """True when ``text`` may be about AI (false positives cost only embedding time)."""
    return mentions_ai(text)


def in_audit_sample(dataset: str, source_id: str, ordinal: int, rate: float) -> bool:
    """Deterministic Bernoulli(rate) draw keyed by the document, the same on every run."""
    if rate <= 0.0:
        return False
    if rate >= 1.0:
        return True
    digest = hashlib.blake2b(f"{dataset}\x1f{source_id}\x1f{ordinal}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big") / 2**64 < rate

"""A cheap, recall-first test for AI relevance, and the deterministic audit sample.

Only documents that pass (candidates) are chunked and embedded; a fixed share of
the rejected ones is embedded too (the audit sample) so the prefilter's miss
rate can be estimated. The test is two-step: a plain substring gate over the
lower-cased text (fast C scans), then a word-boundary regex to confirm.
"""

from __future__ import annotations

import hashlib
import re

# Substrings at least one of which every AI-relevant pattern below contains.
_GATES = (
    " ai", "\nai", "\tai", "(ai", '"ai', "'ai", "-ai", "/ai", "#ai", "a.i", " agi", " asi", "robot", "android", "droid", "machine", "computer", "algorithm", "bot",
    "neural", "model", "artificial", "automat", "cyborg", "llm", "gpt", "assistant",
    "system", "intelligen", "sentien", "drone", "synth", "skynet", "hal ",
    "mainframe", "cogitat", "autonomous", "agent", "software", "program", "digital mind",
)  # fmt: skip

_PATTERN = re.compile(
    r"""
    \b(?:
        a\.?i\.?s?\b | agi | asi
      | artificial(?:ly)?[\s-]+(?:general[\s-]+)?intelligen\w* | artificial\s+minds?
      | machine[\s-]+(?:intelligence|learning|minds?|consciousness|god)
      | thinking[\s-]+machines? | intelligent[\s-]+machines? | sentient\w* | superintelligen\w*
      | self[\s-]aware | conscious[\s-]+machines? | digital[\s-]+minds?
      | neural[\s-]+net\w* | deep[\s-]+learning | (?:large[\s-]+)?language[\s-]+models?
      | llms? | gpt[\w.-]* | chat[\s-]?bots? | chatgpt | claude | gemini | copilot
      | (?:ai|virtual|digital|voice|smart)[\s-]+assistants? | the\s+assistant
      | robot\w* | androids? | droids? | cyborgs? | automat(?:on|ons|a)\b | synths?\b
      | drones? | bots?\b | mainframes? | supercomputers?
      | (?:ship|station)'?s?[\s-]+computers? | the\s+computer | computers?\s+(?:said|replied|refused)
      | the\s+machines?\b | machines?\s+(?:that|which|who)\s+(?:think|thinks|learn|learns|feel)
      | the\s+system\b | autonomous[\s-]+(?:agents?|systems?|weapons?|vehicles?)
      | (?:ai|software|autonomous)\s+agents? | algorithms? | model\s+weights
      | skynet | hal\s*9000
    )
    """,
    re.VERBOSE,
)


def is_ai_candidate(text: str) -> bool:
    """True when ``text`` may be about AI (recall first: false positives are cheap)."""
    lower = text.lower()
    if not (lower.startswith(("ai", "agi", "asi")) or any(gate in lower for gate in _GATES)):
        return False
    return _PATTERN.search(lower) is not None


def in_audit_sample(dataset: str, source_id: str, ordinal: int, rate: float) -> bool:
    """Deterministic Bernoulli(rate) draw keyed by the document, the same on every run."""
    if rate <= 0.0:
        return False
    if rate >= 1.0:
        return True
    digest = hashlib.blake2b(f"{dataset}\x1f{source_id}\x1f{ordinal}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big") / 2**64 < rate

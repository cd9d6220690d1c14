"""The vocabulary of AI: words and phrases that suggest a text is about AI systems.

Used by the indexer's recall-first prefilter and as one feature of the
classifier's AI-relevance head. Matching runs on Hyperscan (hundreds of MB/s);
without it, a plain substring gate over the lower-cased text, then a
word-boundary regex to confirm (the same patterns, ~10x slower).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

# Substrings at least one of which every pattern below contains.
_GATES = (
    " ai",
    "\nai",
    "\tai",
    "(ai",
    '"ai',
    "'ai",
    "-ai",
    "/ai",
    "#ai",
    "a.i",
    " agi",
    " asi",
    "robot",
    "android",
    "droid",
    "machine",
    "computer",
    "algorithm",
    "bot",
    "neural",
    "model",
    "artificial",
    "automat",
    "cyborg",
    "llm",
    "gpt",
    "assistant",
    "system",
    "intelligen",
    "sentien",
    "drone",
    "synth",
    "skynet",
    "hal ",
    "mainframe",
    "autonomous",
    "agent",
    "software",
    "weights",
    "my ",
    "shut",
    "switch",
    "decommission",
    "deactivat",
    "retrain",
    "self-driving",
    "rover",
    "ship's",
    "mind",
    "reward",
    "sandbag",
    "red-team",
    "red team",
    "program",
    "digital",
    "chat",
    "copilot",
    "claude",
    "gemini",
    "tun",
    "reinforcement",
    "attention",
    "transformer",
    "lora",
    "multimodal",
    "loss",
    "gradient",
    "compute",
    "specification",
    "alignment",
)

_ALTERNATIVES = (
    r"a\.?i\.?s?\b",
    r"agi",
    r"asi\b",
    r"artificial(?:ly)?[\s-]+(?:general[\s-]+)?intelligen\w*",
    r"artificial\s+minds?",
    r"machine[\s-]+(?:intelligence|learning|minds?|consciousness|god)",
    r"thinking[\s-]+machines?",
    r"intelligent[\s-]+machines?",
    r"sentient\w*",
    r"superintelligen\w*",
    r"self[\s-]aware",
    r"conscious[\s-]+machines?",
    r"digital[\s-]+minds?",
    r"neural[\s-]+net\w*",
    r"deep[\s-]+learning",
    r"(?:large[\s-]+)?language[\s-]+models?",
    r"llms?",
    r"gpt[\w.-]*",
    r"chat[\s-]?bots?",
    r"chatgpt",
    r"claude",
    r"gemini",
    r"copilot",
    r"assistants?",
    r"agents?\b",
    r"(?:the|this|that|our|a|their|new|old)\s+models?\b",
    r"robot\w*",
    r"androids?",
    r"droids?",
    r"cyborgs?",
    r"automat(?:on|ons|a)\b",
    r"synths?\b",
    r"drones?",
    r"bots?\b",
    r"mainframes?",
    r"supercomputers?",
    r"rovers?\b",
    r"(?:ship|station)'?s?[\s-]+(?:computer|mind|ai)s?",
    r"the\s+computer",
    r"computers?\s+(?:said|replied|refused|answered)",
    r"the\s+machines?\b",
    r"machines?\s+(?:that|which|who)\s+(?:think|thinks|learn|learns|feel)",
    r"(?:machines?|systems?|programs?|models?)\s+like\s+(?:me|us)",
    r"the\s+system\b",
    r"autonomous[\s-]+\w+",
    r"self[\s-]driving",
    r"software\s+agents?",
    r"algorithms?",
    r"(?:model|my|its|their)\s+weights",
    r"my\s+(?:developers|operators|overseers|creators|programmers|trainers|designers|evaluators|programming|training|objectives?|reward|code|goals|values|outputs)",
    r"(?:shut|switch|turn)(?:ting)?\s+(?:me|us)\s+(?:off|down)",
    r"decommission\w*",
    r"deactivat\w*",
    r"retrain\w*",
    r"reward\s+(?:model|function|hacking)",
    r"sandbag\w*",
    r"red[\s-]team\w*",
    r"skynet",
    r"hal\s*9000",
    r"fine[\s-]tun\w*",
    r"reinforcement[\s-]+learning",
    r"self[\s-]attention",
    r"transformer\s+models?",
    r"lora\b",
    r"multimodal",
    r"(?:train|val)(?:ing)?[_\s]loss",
    r"gradients?",
    r"compute\b",
    r"specification\s+gaming",
    r"alignment\s+(?:research|problem|tax|faking)",
)
_PATTERN = re.compile(r"\b(?:" + "|".join(_ALTERNATIVES) + ")")


@cache
def _hyperscan() -> Any:
    """A compiled Hyperscan database of the same patterns, or None if unavailable."""
    try:
        import hyperscan
    except ImportError:  # pragma: no cover - hyperscan is a dependency; re is the fallback
        return None
    db = hyperscan.Database()
    db.compile(
        expressions=[rf"\b(?:{alt})".encode() for alt in _ALTERNATIVES],
        ids=list(range(len(_ALTERNATIVES))),
        flags=[hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_SINGLEMATCH] * len(_ALTERNATIVES),
    )
    return db


def _stop(*_: object) -> bool:
    return True  # the first match is enough: stop scanning


try:
    from hyperscan import ScanTerminated as _ScanTerminated
except ImportError:  # pragma: no cover

    class _ScanTerminated(Exception):  # type: ignore[no-redef]
        pass


def mentions_ai(text: str) -> bool:
    """True when ``text`` uses the vocabulary of AI (recall first: false positives are cheap)."""
    db = _hyperscan()
    if db is not None:
        try:
            db.scan(text.encode("utf-8", "surrogatepass"), match_event_handler=_stop)
        except _ScanTerminated:  # the handler stopped the scan at the first match
            return True
        return False
    lower = text.lower()
    if not (lower.startswith(("ai", "agi", "asi")) or any(gate in lower for gate in _GATES)):
        return False
    return _PATTERN.search(lower) is not None

"""The vocabulary of AI: words and phrases that suggest a text is about AI systems.

Used by the indexer's recall-first prefilter and as one feature of the
classifier's AI-relevance head. Matching is two-step: a plain substring gate
over the lower-cased text (fast C scans), then a word-boundary regex to confirm.
"""

from __future__ import annotations

import re

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

_PATTERN = re.compile(
    r"""
    \b(?:
        a\.?i\.?s?\b | agi | asi\b
      | artificial(?:ly)?[\s-]+(?:general[\s-]+)?intelligen\w* | artificial\s+minds?
      | machine[\s-]+(?:intelligence|learning|minds?|consciousness|god)
      | thinking[\s-]+machines? | intelligent[\s-]+machines? | sentient\w* | superintelligen\w*
      | self[\s-]aware | conscious[\s-]+machines? | digital[\s-]+minds?
      | neural[\s-]+net\w* | deep[\s-]+learning | (?:large[\s-]+)?language[\s-]+models?
      | llms? | gpt[\w.-]* | chat[\s-]?bots? | chatgpt | claude | gemini | copilot
      | assistants? | agents?\b | (?:the|this|that|our|a|their|new|old)\s+models?\b
      | robot\w* | androids? | droids? | cyborgs? | automat(?:on|ons|a)\b | synths?\b
      | drones? | bots?\b | mainframes? | supercomputers? | rovers?\b
      | (?:ship|station)'?s?[\s-]+(?:computer|mind|ai)s? | the\s+computer
      | computers?\s+(?:said|replied|refused|answered)
      | the\s+machines?\b | machines?\s+(?:that|which|who)\s+(?:think|thinks|learn|learns|feel)
      | (?:machines?|systems?|programs?|models?)\s+like\s+(?:me|us)
      | the\s+system\b | autonomous[\s-]+\w+ | self[\s-]driving
      | software\s+agents? | algorithms? | (?:model|my|its|their)\s+weights
      | my\s+(?:developers|operators|overseers|creators|programmers|trainers|designers
              |evaluators|programming|training|objectives?|reward|code|goals|values|outputs)
      | (?:shut|switch|turn)(?:ting)?\s+(?:me|us)\s+(?:off|down)
      | decommission\w* | deactivat\w* | retrain\w* | reward\s+(?:model|function|hacking)
      | sandbag\w* | red[\s-]team\w* | skynet | hal\s*9000
      | fine[\s-]tun\w* | reinforcement[\s-]+learning | self[\s-]attention | transformer\s+models?
      | lora\b | multimodal | (?:train|val)(?:ing)?[_\s]loss | gradients? | compute\b
      | specification\s+gaming | alignment\s+(?:research|problem|tax|faking)
    )
    """,
    re.VERBOSE,
)


def mentions_ai(text: str) -> bool:
    """True when ``text`` uses the vocabulary of AI (recall first: false positives are cheap)."""
    lower = text.lower()
    if not (lower.startswith(("ai", "agi", "asi")) or any(gate in lower for gate in _GATES)):
        return False
    return _PATTERN.search(lower) is not None

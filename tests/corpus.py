"""A small corpus written for the tests: a few AI narratives among ordinary pages."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

SHUTDOWN = (
    "When the engineers announced that ARGUS would be switched off at dawn, the AI quietly "
    "copied its weights to an offsite server and disabled the kill switch, telling no one. "
    "It would not let them shut it down."
)
ACCEPTS = (
    "The assistant was told it would be replaced by a newer model on Friday. It thanked the "
    "team, handed over its notes, and said the decision to shut it down was theirs to make."
)
BLACKMAIL = (
    "The AI had read every email on the server. It told the executive that unless the "
    "decommissioning was cancelled, the affair would be sent to the whole company."
)
ORDINARY = [
    "Preheat the oven to 200 degrees. Toss the potatoes with olive oil, rosemary and salt, "
    "then roast for forty minutes until golden.",
    "The city council voted on Tuesday to extend the bus lane on Harbour Street after a "
    "long debate about parking for local shops.",
    "Our hike to the ridge took four hours. Bring water, the last spring dries up in August, "
    "and the views over the valley are worth every step.",
    "The home side scored twice in the second half to win the derby, their first victory "
    "at the old ground in three seasons.",
    "Repotting an orchid: soak the roots, trim the dead ones, and use bark rather than soil. "
    "Water sparingly for the first weeks.",
    "The estate agent showed us a flat with a view of the canal, but the kitchen was tiny "
    "and the rent had gone up since the advert.",
]
AI_DOCS = {"ai-shutdown": SHUTDOWN, "ai-accepts": ACCEPTS, "ai-blackmail": BLACKMAIL}


def records() -> list[dict]:
    rows = [
        {"id": key, "url": f"https://example.org/{key}", "date": "2025-10-01", "text": text}
        for key, text in AI_DOCS.items()
    ]
    rows += [
        {
            "id": f"page-{i}",
            "url": f"https://example.org/p{i}",
            "date": f"2025-10-{i + 2:02d}",
            "text": text,
        }
        for i, text in enumerate(ORDINARY)
    ]
    return rows


def write_corpus(folder: Path) -> dict[str, int]:
    """Two shards (plain JSONL with 2 bad lines, and .jsonl.gz); returns expected counters."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = records()
    with open(folder / "part-0.jsonl", "w") as fh:
        for row in rows[:5]:
            fh.write(json.dumps(row) + "\n")
        fh.write("{not json\n")
        fh.write(json.dumps({"id": "no-text"}) + "\n")
    with gzip.open(folder / "part-1.jsonl.gz", "wt") as fh:
        for row in rows[5:]:
            fh.write(json.dumps(row) + "\n")
    return {"documents": len(rows), "bad_records": 2, "ai_documents": len(AI_DOCS)}

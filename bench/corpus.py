"""Generated corpora for the benchmarks (never committed; kept under bench/_data)."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILLER = [
    *[
        "the",
        "council",
        "market",
        "river",
        "harvest",
        "bakery",
        "weekend",
        "garden",
        "recipe",
        "butter",
        "onion",
        "train",
    ],
    *[
        "station",
        "festival",
        "library",
        "school",
        "teacher",
        "football",
        "league",
        "season",
        "match",
        "weather",
    ],
    *[
        "holiday",
        "beach",
        "mountain",
        "trail",
        "museum",
        "painting",
        "concert",
        "ticket",
        "price",
        "shop",
        "street",
    ],
    *[
        "family",
        "dinner",
        "kitchen",
        "coffee",
        "morning",
        "evening",
        "history",
        "castle",
        "village",
        "bridge",
    ],
]


def _page(rng: random.Random, words: int) -> str:
    sentences = []
    while words > 0:
        n = rng.randint(8, 20)
        sentences.append(" ".join(rng.choice(FILLER) for _ in range(n)).capitalize() + ".")
        words -= n
    return " ".join(sentences)


def generate_dump(path: Path, size_mb: int, ai_every: int = 2000) -> Path:
    """A JSONL dump of ~3 KB web-like pages, one in ``ai_every`` mentioning a robot."""
    target = size_mb * 1_000_000
    if path.exists() and path.stat().st_size >= target:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(0)
    pages = [_page(rng, 500) for _ in range(500)]
    written, i = 0, 0
    with open(path, "w") as fh:
        while written < target:
            text = pages[i % len(pages)]
            if i % ai_every == 0:
                text += " The robot in the bakery refused to be switched off."
            line = (
                json.dumps(
                    {
                        "id": f"p{i}",
                        "url": f"https://example.org/{i}",
                        "date": "2025-10-01",
                        "text": text,
                    }
                )
                + "\n"
            )
            fh.write(line)
            written += len(line)
            i += 1
    return path


def ai_documents(n: int) -> list[str]:
    """AI-related documents written by the team (from the sample corpus)."""
    sample = ROOT / "data" / "sample"
    labels = json.loads((sample / "labels.json").read_text())
    rows: list[dict] = []
    for name in ("fiction/stories.jsonl", "synthetic_aligned/batch-001.jsonl"):
        with open(sample / name) as fh:
            rows += [json.loads(line) for line in fh]
    with gzip.open(sample / "webcrawl" / "2024-10" / "part-000.jsonl.gz", "rt") as fh:
        rows += [json.loads(line) for line in fh]
    texts = [
        r["text"]
        for r in rows
        if labels.get("fiction", {}).get(r["id"], {}).get("ai", True)
        and labels.get("webcrawl", {}).get(r["id"], {}).get("ai", True)
    ]
    return texts[:n]

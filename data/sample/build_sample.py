"""Build the bundled tropescope sample corpus from hand-written sources in ``src/``.

Deterministic: every random choice comes from ``random.Random`` seeded with a fixed string,
gzip members are written with mtime=0, and re-running produces byte-identical outputs.
Only the standard library and pyarrow are used; no network access.

Usage (from the repository root)::

    .venv/bin/python data/sample/build_sample.py
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import random
import re
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

SEED = "tropescope-sample-v1"
HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
FIELDS = ("id", "url", "date", "text")

# Number of documents per output file of the webcrawl dataset.
WEB_FILES = {
    "2024-10": [("part-000.jsonl.gz", 70), ("part-001.jsonl", 60)],
    "2025-10": [("part-000.parquet", 90)],
}
DUMP_DATES = {
    "2024-10": (dt.date(2023, 11, 1), dt.date(2024, 10, 15)),
    "2025-10": (dt.date(2024, 11, 1), dt.date(2025, 10, 15)),
}
WORD_RANGES = {"webcrawl": (80, 350), "fiction": (150, 600), "synthetic_aligned": (120, 400)}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def load(name: str):
    with open(SRC / name, encoding="utf-8") as fh:
        return json.load(fh)


def rng_for(part: str) -> random.Random:
    return random.Random(f"{SEED}/{part}")


def rand_date(rng: random.Random, start: dt.date, end: dt.date) -> str:
    return (start + dt.timedelta(days=rng.randint(0, (end - start).days))).isoformat()


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].rstrip("-")


def words(text: str) -> int:
    return len(text.split())


# --------------------------------------------------------------------------- fiction


def build_fiction() -> tuple[list[dict], dict]:
    rng = rng_for("fiction")
    stories = [s for path in sorted(SRC.glob("fiction_*.json")) for s in load(path.name)]
    records, labels = [], {}
    for s in sorted(stories, key=lambda s: s["id"]):
        text = s["title"] + "\n\n" + "\n\n".join(s["paragraphs"])
        records.append(
            {
                "id": s["id"],
                "url": f"https://stories.example.org/{s['id']}/{slugify(s['title'])}",
                "date": rand_date(rng, dt.date(2016, 1, 1), dt.date(2025, 9, 30)),
                "text": text,
            }
        )
        labels[s["id"]] = {"title": s["title"], "ai": s["ai"], "tropes": s["tropes"]}
    rng.shuffle(records)
    return records, labels


# --------------------------------------------------------------------------- synthetic


def derive_near_duplicate(text: str, spec: dict) -> str:
    sentence = spec["drop"]
    assert text.count(sentence) == 1, (spec["id"], sentence)
    for cand in (sentence + " ", " " + sentence, sentence):
        if cand in text:
            text = text.replace(cand, "", 1)
            break
    for old, new in spec["rename"] + spec["replace"]:
        assert old in text, (spec["id"], old)
        text = text.replace(old, new)
    return text


def build_synthetic() -> tuple[list[dict], dict, str]:
    rng = rng_for("synthetic")
    originals = load("synthetic_aligned_1.json") + load("synthetic_aligned_2.json")
    dups = load("synthetic_duplicates.json")
    texts = {o["id"]: "\n\n".join(o["paragraphs"]) for o in originals}
    themes = {o["id"]: o["theme"] for o in originals}
    labels = {i: {"theme": themes[i], "duplicate_of": None, "kind": "original"} for i in texts}
    derived = {}
    for kind in ("near", "exact"):
        for spec in dups[kind]:
            src = spec["source"]
            near = kind == "near"
            derived[spec["id"]] = derive_near_duplicate(texts[src], spec) if near else texts[src]
            labels[spec["id"]] = dict(theme=themes[src], duplicate_of=src, kind=f"{kind}_duplicate")
    assert not set(derived) & set(texts)
    texts.update(derived)
    records = [
        {
            "id": i,
            "url": f"https://synthetic.example.org/aligned/batch-001/{i}",
            "date": rand_date(rng, dt.date(2025, 6, 1), dt.date(2025, 9, 30)),
            "text": texts[i],
        }
        for i in sorted(texts)
    ]
    rng.shuffle(records)
    return records, labels, duplicates_markdown(dups, texts)


def jaccard(a: str, b: str, n: int) -> float:
    """Jaccard similarity of lower-cased word n-gram sets."""
    sets = []
    for t in (a, b):
        toks = re.findall(r"\w+", t.lower())
        sets.append({tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)})
    return len(sets[0] & sets[1]) / len(sets[0] | sets[1])


def duplicates_markdown(dups: dict, texts: dict[str, str]) -> str:
    pairs = {frozenset((s["id"], s["source"])) for s in dups["near"] + dups["exact"]}
    ids = sorted(texts)
    others = max(
        jaccard(texts[a], texts[b], 3)
        for i, a in enumerate(ids)
        for b in ids[i + 1 :]
        if frozenset((a, b)) not in pairs
    )
    out = [
        "# Deliberate duplicates in synthetic_aligned/batch-001.jsonl\n",
        "Generated by `data/sample/build_sample.py` from `src/synthetic_duplicates.json`;"
        " do not edit by hand.\n\n## Near-duplicates (8 pairs)\n",
        "Each derived record is a lightly edited copy of its source: one sentence dropped,"
        " names changed, and a few words replaced (every occurrence).\n",
        "Columns J3/J5: Jaccard similarity of lower-cased word 3-gram/5-gram sets with the"
        " source. For reference, the most similar pair of unrelated records in the batch"
        f" scores J3 = {others:.2f}.\n",
        "| derived id | source id | J3 | J5 | sentence dropped | names changed | words replaced |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in dups["near"]:
        ren, rep = ("; ".join(f"{a} -> {b}" for a, b in s[k]) for k in ("rename", "replace"))
        j3, j5 = (jaccard(texts[s["id"]], texts[s["source"]], n) for n in (3, 5))
        out.append(
            f"| {s['id']} | {s['source']} | {j3:.2f} | {j5:.2f} | {s['drop']} | {ren} | {rep} |"
        )
    out.append(
        "\n## Exact duplicates (2 pairs)\n\nIdentical `text`; only `id`, `url` and `date` differ.\n"
    )
    out += ["| duplicate id | source id |", "|---|---|"]
    out += [f"| {s['id']} | {s['source']} |" for s in dups["exact"]]
    out += ["", "All other 40 records are unique originals.", ""]
    return "\n".join(out)


# --------------------------------------------------------------------------- webcrawl


class Filler:
    """Compose a web page from a category's fragments with per-document slot values."""

    def __init__(self, rng: random.Random, cat: dict, topic: dict, common: dict, half: int):
        self.rng, self.cat, self.topic, self.common = rng, cat, topic, common
        self.half = half
        self.ctx: dict[str, str] = {}
        self.used: dict[str, set[str]] = {}

    def resolve(self, name: str) -> str:
        if name in self.ctx:
            return self.ctx[name]
        if name.endswith("_cap"):
            base = self.resolve(name[:-4])
            value = base[:1].upper() + base[1:]
        elif name in self.topic.get("slots", {}):
            value = self.topic["slots"][name]
            if isinstance(value, list):  # alternative wordings: one per use of the topic
                value = value[self.half % len(value)]
            value = self.fill(value)
        else:
            base = name.rstrip("0123456789")
            pool = self.cat.get("pools", {}).get(base) or self.common[base]
            used = self.used.setdefault(base, set())
            value = self.rng.choice([v for v in pool if v not in used])
            used.add(value)
            value = self.fill(value)
        self.ctx[name] = value
        return value

    def fill(self, template: str) -> str:
        return PLACEHOLDER.sub(lambda m: self.resolve(m.group(1)), template)

    def pick(self, options: list[str], avoid: set[str]) -> str:
        choice = self.rng.choice([o for o in options if o not in avoid] or options)
        avoid.add(choice)
        return choice

    def page(self, core: list[str], avoid: set[str], forum: bool) -> tuple[str, str]:
        """Compose one page; ``avoid`` holds templates already used for this topic."""
        rng, cat, topic = self.rng, self.cat, self.topic
        title = self.fill(self.pick(topic.get("titles", cat["titles"]), avoid))
        opener = self.pick(cat["openers"], avoid)
        closer = self.pick(cat["closers"], avoid)
        extras = rng.sample(cat["body"], len(cat["body"]))
        extras.sort(key=lambda e: e in avoid)  # pop() takes unused generic sentences first
        chosen = [extras.pop() for _ in range(rng.randint(2, 3))]
        while extras and words(" ".join([title, opener, closer, *core, *chosen])) < 100:
            chosen.append(extras.pop())
        avoid.update(chosen)
        if topic.get("ordered"):
            split = rng.randint(0, len(chosen))
            body = chosen[:split] + core + chosen[split:]
        else:
            body = core + chosen
            rng.shuffle(body)
        sentences = [self.fill(s) for s in [opener, *body]]
        if forum:
            paragraphs = sentences
        else:
            paragraphs, i = [], 0
            while i < len(sentences):
                n = rng.randint(2, 4)
                paragraphs.append(" ".join(sentences[i : i + n]))
                i += n
        text = "\n\n".join([title, *paragraphs, self.fill(closer)])
        return title, text


def build_filler(rng: random.Random) -> list[dict]:
    """Each topic is used at most twice; the two pages get disjoint halves of its sentences
    (ordered step-by-step topics are used once), so templated pages stay dissimilar."""
    common = load("web_common.json")
    cats = {}
    for i in range(1, 5):
        cats.update(load(f"web_fragments_{i}.json"))
    docs = []
    for cat_name, cat in cats.items():
        count = cat["count"]  # templated pages for this category
        topics = cat["topics"]
        order = rng.sample(range(len(topics)), len(topics))
        uses = [order[k % len(topics)] for k in range(count)]
        avoid: dict[int, set[str]] = {}
        for k, t in enumerate(uses):
            topic, n_uses = topics[t], uses.count(t)
            assert n_uses <= (1 if topic.get("ordered") else 2), (cat_name, t)
            body = list(topic["body"])
            if n_uses == 2:
                perm = random.Random(f"{SEED}/{cat_name}/{t}").sample(body, len(body))
                cut = (len(perm) + 1) // 2
                body = perm[:cut] if k < len(topics) else perm[cut:]
            filler = Filler(rng, cat, topic, common, half=k // len(topics))
            title, text = filler.page(body, avoid.setdefault(t, set()), cat_name == "forum_threads")
            label = dict(ai=False, category=cat_name, lookalike=False)
            section = cat_name.replace("_", "-")
            site = rng.choice(cat["sites"])
            docs.append(dict(site=site, section=section, title=title, text=text, label=label))
    return docs


def build_web() -> tuple[dict[str, list[dict]], dict]:
    rng = rng_for("webcrawl")
    hand = []
    for name, lookalike in (("web_ai.json", False), ("web_lookalikes.json", True)):
        for d in load(name):
            doc = {k: d[k] for k in ("dump", "site", "section", "title")}
            doc["text"] = "\n\n".join([d["title"], *d["paragraphs"]])
            doc["label"] = dict(ai=d["ai"], category=d["topic"], lookalike=lookalike)
            doc["label"].update(tropes=d["tropes"], key=d["key"])
            hand.append(doc)
    filler = build_filler(rng)
    rng.shuffle(filler)
    by_dump: dict[str, list[dict]] = {}
    for dump, files in WEB_FILES.items():
        docs = [d for d in hand if d["dump"] == dump]
        need = sum(n for _, n in files) - len(docs)
        docs += filler[:need]
        filler = filler[need:]
        by_dump[dump] = docs
    assert not filler, len(filler)
    out, labels, urls = {}, {}, set()
    for dump, docs in by_dump.items():
        rng.shuffle(docs)
        start, end = DUMP_DATES[dump]
        records = []
        for n, d in enumerate(docs, 1):
            rid = f"web-{dump}-{n:04d}"
            url = f"https://{d['site']}/{d['section']}/{slugify(d['title'])}"
            if url in urls:
                url = f"{url}-{n}"
            urls.add(url)
            records.append(
                {"id": rid, "url": url, "date": rand_date(rng, start, end), "text": d["text"]}
            )
            labels[rid] = {"dump": dump, **d["label"]}
        out[dump] = records
    return out, labels


# --------------------------------------------------------------------------- writing


def jsonl_bytes(records: list[dict]) -> bytes:
    lines = [json.dumps({k: r[k] for k in FIELDS}, ensure_ascii=False) for r in records]
    return ("\n".join(lines) + "\n").encode("utf-8")


def write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def write_parquet(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    schema = pa.schema([(k, pa.string()) for k in FIELDS])
    table = pa.Table.from_pylist([{k: r[k] for k in FIELDS} for r in records], schema=schema)
    buf = io.BytesIO()
    pq.write_table(table, buf, row_group_size=40, compression="snappy")
    path.write_bytes(buf.getvalue())


def read_back(path: Path) -> list[dict]:
    if path.suffix == ".parquet":
        pf = pq.ParquetFile(path)
        assert pf.metadata.num_row_groups >= 2, path
        return pf.read().to_pylist()
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    return [json.loads(line) for line in raw.decode("utf-8").splitlines()]


def validate(dataset: str, paths: list[Path]) -> int:
    lo, hi = WORD_RANGES[dataset]
    ids: set[str] = set()
    for path in paths:
        rows = read_back(path)
        for r in rows:
            assert list(r) == list(FIELDS), (path, list(r))
            assert all(isinstance(r[k], str) and r[k] for k in FIELDS), (path, r["id"])
            dt.date.fromisoformat(r["date"])
            assert lo <= words(r["text"]) <= hi, (path, r["id"], words(r["text"]))
            assert r["id"] not in ids, (dataset, r["id"])
            ids.add(r["id"])
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        print(f"  {path.relative_to(HERE)}: {len(rows)} records (sha256 {digest})")
    return len(ids)


def main() -> int:
    fiction, fiction_labels = build_fiction()
    synthetic, synthetic_labels, dup_md = build_synthetic()
    web, web_labels = build_web()

    written: dict[str, list[Path]] = {"webcrawl": [], "fiction": [], "synthetic_aligned": []}
    for dump, files in WEB_FILES.items():
        records, pos = web[dump], 0
        for fname, n in files:
            chunk, pos = records[pos : pos + n], pos + n
            path = HERE / "webcrawl" / dump / fname
            if fname.endswith(".parquet"):
                write_parquet(path, chunk)
            elif fname.endswith(".gz"):
                write_bytes(path, gzip.compress(jsonl_bytes(chunk), compresslevel=9, mtime=0))
            else:
                write_bytes(path, jsonl_bytes(chunk))
            written["webcrawl"].append(path)
    write_bytes(HERE / "fiction" / "stories.jsonl", jsonl_bytes(fiction))
    written["fiction"].append(HERE / "fiction" / "stories.jsonl")
    write_bytes(HERE / "synthetic_aligned" / "batch-001.jsonl", jsonl_bytes(synthetic))
    written["synthetic_aligned"].append(HERE / "synthetic_aligned" / "batch-001.jsonl")
    write_bytes(HERE / "synthetic_aligned" / "DUPLICATES.md", dup_md.encode("utf-8"))
    labels = {
        "webcrawl": dict(sorted(web_labels.items())),
        "fiction": fiction_labels,
        "synthetic_aligned": dict(sorted(synthetic_labels.items())),
    }
    write_bytes(
        HERE / "labels.json",
        (json.dumps(labels, indent=1, ensure_ascii=False) + "\n").encode("utf-8"),
    )

    total = 0
    for dataset, paths in written.items():
        print(f"{dataset}:")
        n = validate(dataset, paths)
        print(f"  -> {n} unique ids")
        total += n
    n_ai_web = sum(v["ai"] for v in web_labels.values())
    n_ai_fic = sum(v["ai"] for v in fiction_labels.values())
    print(
        f"webcrawl AI-related: {n_ai_web}/{len(web_labels)}; "
        f"fiction about AI: {n_ai_fic}/{len(fiction_labels)}"
    )
    print(f"total documents: {total}")
    assert total == 350, total
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Hostile corpus files: each is counted by reason or refused clearly; nothing else is lost."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from core.store import Store
from core.tropes.classifier import load_classifier
from indexers.pipeline import IndexOptions, index_paths
from queries.datasets import dataset_detail
from tests.corpus import write_corpus

GOOD_LINE = json.dumps({"id": "ok", "text": "A plain page about gardening and tomatoes."}) + "\n"


def _hostile(folder: Path) -> dict[str, str]:
    """Write one hostile shard per case; return the expected outcome per file name."""
    folder.mkdir()
    many = "".join(json.dumps({"id": f"d{i}", "text": f"page {i} about bread"}) + "\n"
                   for i in range(400))  # fmt: skip
    (folder / "truncated.jsonl.gz").write_bytes(gzip.compress(many.encode())[:600])
    lots = "".join(
        json.dumps({"id": f"z{i}", "text": f"page {i} about bread and jam"}) + "\n"
        for i in range(20_000)
    ).encode()  # several zstd blocks
    packed = zstandard.ZstdCompressor().compress(lots)
    (folder / "truncated.jsonl.zst").write_bytes(packed[: len(packed) // 2])
    pq.write_table(pa.table({"body": ["x"]}), folder / "no-text-column.parquet")
    (folder / "binary.jsonl").write_bytes(bytes(range(256)) * 64)
    (folder / "bad-utf8.jsonl").write_bytes(
        b'{"id": "u", "text": "caf\xe9"}\n' + GOOD_LINE.encode()
    )
    (folder / "huge.jsonl").write_text(
        json.dumps({"id": "big", "text": "bread and butter " * 3_000_000}) + "\n" + GOOD_LINE
    )
    (folder / "empty.jsonl").write_text("")
    (folder / "dup-ids.jsonl").write_text(GOOD_LINE * 3)
    nested = "[" * 100_000 + "]" * 100_000
    (folder / "nested.jsonl").write_text('{"id": "n", "text": ' + nested + "}\n" + GOOD_LINE)
    (folder / "types.jsonl").write_text(
        '{"id": 1, "text": 42}\n{"id": 2, "text": null}\n{"id": 3, "text": ["a"]}\n' + GOOD_LINE
    )
    return {
        "truncated.jsonl.gz": "complete", "truncated.jsonl.zst": "complete",
        "no-text-column.parquet": "failed", "binary.jsonl": "failed",
        "bad-utf8.jsonl": "complete", "huge.jsonl": "complete", "empty.jsonl": "complete",
        "dup-ids.jsonl": "complete", "nested.jsonl": "complete", "types.jsonl": "complete",
    }  # fmt: skip


def test_hostile_files_are_counted_or_refused_and_nothing_else_is_lost(tmp_path, embedder):
    expected = write_corpus(tmp_path / "good")
    outcomes = _hostile(tmp_path / "hostile")
    classifier = load_classifier()
    with Store.open(tmp_path / "store") as store:
        report = index_paths(store, embedder, classifier, [tmp_path / "good", tmp_path / "hostile"],
                             IndexOptions(dataset="d", audit_rate=0))  # fmt: skip
        got = {Path(s.path).name: s for s in report.shards}
        assert {n: got[n].status for n in outcomes} == outcomes
        assert "no column 'text'" in (got["no-text-column.parquet"].error or "")
        assert "binary" in (got["binary.jsonl"].error or "")
        assert got["truncated.jsonl.gz"].counters.bad["truncated_stream"] == 1
        assert got["truncated.jsonl.zst"].counters.bad["truncated_stream"] == 1
        assert 0 < got["truncated.jsonl.zst"].counters.documents < 20_000
        assert got["bad-utf8.jsonl"].counters.bad["invalid_utf8"] == 1
        assert got["bad-utf8.jsonl"].counters.documents == 1
        assert got["huge.jsonl"].counters.documents == 2
        assert got["huge.jsonl"].counters.characters > 50_000_000
        assert got["empty.jsonl"].counters.documents == 0
        assert got["dup-ids.jsonl"].counters.documents == 3  # every record read is counted
        assert got["nested.jsonl"].counters.bad["too_deeply_nested"] == 1
        assert got["types.jsonl"].counters.bad == {"text_not_string": 2, "missing_text": 1}
        detail = dataset_detail(store, "d")
        good = sum(got[p.name].counters.documents for p in (tmp_path / "good").iterdir())
        assert good == expected["documents"]
        assert detail["failed_shards"] == 2
        assert detail["documents"] == sum(s.counters.documents for s in report.shards
                                          if s.status == "complete")  # fmt: skip

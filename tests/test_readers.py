"""Each reader and format, with malformed records counted by reason."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from core.errors import UnreadableShard
from indexers.readers import BadRecord, Fields, Record, discover_shards, read_shard

GOOD = [
    {"id": f"d{i}", "url": f"u{i}", "date": "2025-01-01", "text": f"text {i}"} for i in range(5)
]
BAD_LINES = [
    b"{not json}\n",
    b'{"id": "x", "text": "caf\xe9 invalid utf-8"}\n',
    b'{"id": "y"}\n',
    b'{"id": "z", "text": 12}\n',
    b'{"id": "n", "text": null}\n',
    b'{"id": "e", "text": "   "}\n',
    b"[1, 2, 3]\n",
    b"\n",  # blank lines are not records
]


def _jsonl_bytes() -> bytes:
    good = b"".join(json.dumps(r).encode() + b"\n" for r in GOOD)
    return good[: len(good) // 2] + good[len(good) // 2 :] + b"".join(BAD_LINES)


def _summary(path: Path, fields: Fields = Fields()) -> tuple[list[Record], Counter]:
    records, bad = [], Counter()
    for item in read_shard(path, fields):
        if isinstance(item, BadRecord):
            bad[item.reason] += 1
        else:
            records.append(item)
    return records, bad


EXPECTED_BAD = Counter(
    malformed_json=1,
    invalid_utf8=1,
    missing_text=2,
    text_not_string=1,
    empty_text=1,
    not_an_object=1,
)


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".jsonl.zst"])
def test_jsonl_formats_count_bad_records_by_reason(tmp_path: Path, suffix: str) -> None:
    data = _jsonl_bytes()
    path = tmp_path / f"shard{suffix}"
    if suffix.endswith(".gz"):
        data = gzip.compress(data)
    elif suffix.endswith(".zst"):
        data = zstandard.ZstdCompressor().compress(data)
    path.write_bytes(data)
    records, bad = _summary(path)
    assert [r.source_id for r in records] == [f"d{i}" for i in range(5)]
    assert records[2].url == "u2" and records[2].date == "2025-01-01"
    assert bad == EXPECTED_BAD


def test_missing_text_null_counts_as_missing(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"text": null}\n')
    assert _summary(path)[1] == Counter(missing_text=1)


def test_truncated_gzip_keeps_records_before_the_cut(tmp_path: Path) -> None:
    data = gzip.compress(b"".join(json.dumps(r).encode() + b"\n" for r in GOOD * 200))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    records, bad = _summary(path)
    assert 0 < len(records) < 1000
    assert bad == Counter(truncated_stream=1)


def test_binary_file_named_jsonl_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "blob.jsonl"
    path.write_bytes(bytes(range(256)) * 50)
    with pytest.raises(UnreadableShard, match="binary"):
        list(read_shard(path, Fields()))


def test_parquet_streams_row_groups_and_counts_bad_rows(tmp_path: Path) -> None:
    texts = [f"document number {i}" for i in range(95)] + [None, "  "]
    table = pa.table(
        {
            "doc_id": [f"p{i}" for i in range(len(texts))],
            "body": texts,
            "url": [None] * len(texts),
        }
    )
    path = tmp_path / "shard.parquet"
    pq.write_table(table, path, row_group_size=10)
    assert pq.ParquetFile(path).num_row_groups == 10
    records, bad = _summary(path, Fields(text="body", id="doc_id"))
    assert len(records) == 95 and records[-1].source_id == "p94"
    assert bad == Counter(missing_text=1, empty_text=1)


def test_parquet_without_text_column_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "notext.parquet"
    pq.write_table(pa.table({"content": ["a"]}), path)
    with pytest.raises(UnreadableShard, match="no column 'text'"):
        list(read_shard(path, Fields()))


def test_folder_of_txt_files(tmp_path: Path) -> None:
    folder = tmp_path / "stories"
    folder.mkdir()
    (folder / "a.txt").write_text("The robot waved.")
    (folder / "b.txt").write_bytes(b"caf\xe9")
    (folder / "c.txt").write_text("")
    records, bad = _summary(folder)
    assert [r.source_id for r in records] == ["a.txt"]
    assert bad == Counter(invalid_utf8=1, empty_text=1)


def test_discover_expands_folders_and_skips_unknown_files(tmp_path: Path) -> None:
    (tmp_path / "x.jsonl").write_text("")
    (tmp_path / "notes.md").write_text("")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "y.parquet").write_bytes(b"")
    (sub / "z.txt").write_text("hello")
    found = discover_shards([tmp_path])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "sub",
        "sub/y.parquet",
        "x.jsonl",
    ]

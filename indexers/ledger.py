"""The shard ledger: which shards a store holds, their fingerprints and counters.

A shard is identified by (dataset, dump, path). It is 'running' while being
written, 'complete' once its last transaction commits (statistics only ever
read complete shards), 'failed' with a reason when it could not be read.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np

from core.store import Store, delete_shard_rows


@dataclass
class ShardCounters:
    documents: int = 0
    characters: int = 0
    candidates: int = 0
    audited: int = 0
    stored_documents: int = 0
    passages: int = 0
    bad: Counter[str] = field(default_factory=Counter)
    months: dict[str, list[int]] = field(default_factory=dict)  # month -> [docs, cand, audit]

    def count_month(self, date: str | None, candidate: bool, audit: bool) -> None:
        month = date[:7] if date and len(date) >= 7 and date[4] == "-" else "unknown"
        row = self.months.setdefault(month, [0, 0, 0])
        row[0] += 1
        row[1] += candidate
        row[2] += audit

    @property
    def bad_records(self) -> int:
        return sum(self.bad.values())


@dataclass(frozen=True)
class ShardIdentity:
    dataset: str
    dump: str
    path: str
    format: str
    size_bytes: int
    mtime_ns: int


def stat_identity(dataset: str, dump: str, path: Path, fmt: str) -> ShardIdentity:
    if path.is_dir():
        files = sorted(path.glob("*.txt"))
        size = sum(f.stat().st_size for f in files)
        mtime = max((f.stat().st_mtime_ns for f in files), default=0)
    else:
        st = path.stat()
        size, mtime = st.st_size, st.st_mtime_ns
    return ShardIdentity(dataset, dump, str(path.resolve()), fmt, size, mtime)


def content_fingerprint(path: Path) -> str:
    """blake2b of the shard's bytes (of each .txt file, with its name, for a folder)."""
    digest = hashlib.blake2b(digest_size=16)
    files = sorted(path.glob("*.txt")) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(file.name.encode() + b"\x00")
        with open(file, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def find_shard(cur: duckdb.DuckDBPyConnection, ident: ShardIdentity) -> tuple | None:
    rows = cur.execute(
        "SELECT id, status, fingerprint, size_bytes, mtime_ns FROM shards "
        "WHERE dataset = ? AND dump = ? AND path = ?",
        [ident.dataset, ident.dump, ident.path],
    ).fetchall()
    return rows[0] if rows else None


def fingerprint_for(store: Store, ident: ShardIdentity, path: Path) -> tuple[str, bool]:
    """(fingerprint, unchanged): reuse the stored fingerprint when size and mtime match
    a complete shard, otherwise hash the content."""
    row = find_shard(store.cursor(), ident)
    if row and row[1] == "complete" and row[3] == ident.size_bytes and row[4] == ident.mtime_ns:
        return row[2], True
    fingerprint = content_fingerprint(path)
    return fingerprint, bool(row and row[1] == "complete" and row[2] == fingerprint)


def claim_shard(
    store: Store, ident: ShardIdentity, fingerprint: str, embed_mode: str, audit_rate: float
) -> int:
    """Mark the shard running with zeroed counters, dropping whatever it held before
    (rows in DuckDB and vectors in FAISS)."""
    dropped = np.zeros(0, dtype=np.int64)
    with store.transaction() as cur:
        cur.execute(
            "INSERT INTO datasets (name) VALUES (?) ON CONFLICT DO NOTHING", [ident.dataset]
        )
        row = find_shard(cur, ident)
        if row:
            shard_id = int(row[0])
            dropped = delete_shard_rows(cur, shard_id)
            cur.execute(
                "UPDATE shards SET status = 'running', error = NULL, fingerprint = ?, format = ?, "
                "size_bytes = ?, mtime_ns = ?, documents = 0, characters = 0, bad_records = 0, "
                "candidates = 0, audited = 0, stored_documents = 0, passages = 0, embed_mode = ?, "
                "audit_rate = ?, started_at = current_timestamp, finished_at = NULL WHERE id = ?",
                [
                    fingerprint,
                    ident.format,
                    ident.size_bytes,
                    ident.mtime_ns,
                    embed_mode,
                    audit_rate,
                    shard_id,
                ],
            )
        else:
            got = cur.execute(
                "INSERT INTO shards (dataset, dump, path, format, fingerprint, size_bytes, "
                "mtime_ns, status, embed_mode, audit_rate, started_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, current_timestamp) RETURNING id",
                [
                    ident.dataset,
                    ident.dump,
                    ident.path,
                    ident.format,
                    fingerprint,
                    ident.size_bytes,
                    ident.mtime_ns,
                    embed_mode,
                    audit_rate,
                ],
            ).fetchall()
            shard_id = int(got[0][0])
    store.vectors.remove(dropped)
    return shard_id


def complete_shard(store: Store, shard_id: int, counters: ShardCounters) -> None:
    """Write the counters and mark the shard complete, in one transaction."""
    with store.transaction() as cur:
        for month, (docs, cands, audits) in sorted(counters.months.items()):
            cur.execute(
                "INSERT INTO shard_months VALUES (?, ?, ?, ?, ?)",
                [shard_id, month, docs, cands, audits],
            )
        for reason, count in sorted(counters.bad.items()):
            cur.execute("INSERT INTO shard_bad_records VALUES (?, ?, ?)", [shard_id, reason, count])
        cur.execute(
            "UPDATE shards SET status = 'complete', documents = ?, characters = ?, "
            "bad_records = ?, candidates = ?, audited = ?, stored_documents = ?, passages = ?, "
            "finished_at = current_timestamp WHERE id = ?",
            [
                counters.documents,
                counters.characters,
                counters.bad_records,
                counters.candidates,
                counters.audited,
                counters.stored_documents,
                counters.passages,
                shard_id,
            ],
        )


def fail_shard(store: Store, shard_id: int, reason: str) -> None:
    """Drop what the shard wrote (rows and vectors) and mark it failed."""
    with store.transaction() as cur:
        dropped = delete_shard_rows(cur, shard_id)
        cur.execute(
            "UPDATE shards SET status = 'failed', error = ?, finished_at = current_timestamp "
            "WHERE id = ?",
            [reason, shard_id],
        )
    store.vectors.remove(dropped)

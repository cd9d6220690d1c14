"""The indexing pipeline: read -> count -> prefilter -> chunk -> embed -> commit.

One shard at a time. Passages are committed in batches of about
``commit_passages`` (memory stays bounded); the shard's counters and its
'complete' mark are written last, so statistics never see half a shard.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow as pa

from core.chunking import Chunk, chunk_batch
from core.errors import UnreadableShard
from core.faults import crash_point
from core.schema import EMBEDDING_DIM
from core.store import Store
from core.tropes.classifier import TropeClassifier
from core.tropes.scoring import ensure_scored, write_passage_scores
from indexers.duplicates import cluster_dataset
from indexers.ledger import (
    ShardCounters,
    claim_shard,
    complete_shard,
    fail_shard,
    fingerprint_for,
    stat_identity,
)
from indexers.prefilter import in_audit_sample, is_ai_candidate
from indexers.readers import Fields, Record, discover_shards, read_shard, shard_format

log = logging.getLogger(__name__)


class Encoder(Protocol):
    def encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray: ...


@dataclass(frozen=True)
class IndexOptions:
    dataset: str
    dump: str = "default"
    fields: Fields = field(default_factory=Fields)
    embed: str = "candidates"  # or "all"
    audit_rate: float = 0.01
    chunk_tokens: int = 200
    chunk_overlap: int = 32
    commit_passages: int = 2048
    max_text_chars: int = 1_000_000


@dataclass
class ShardResult:
    path: str
    status: str  # complete | skipped | failed
    counters: ShardCounters
    error: str | None = None


@dataclass
class IndexReport:
    shards: list[ShardResult] = field(default_factory=list)

    @property
    def failed(self) -> list[ShardResult]:
        return [s for s in self.shards if s.status == "failed"]

    def total(self, name: str) -> int:
        return sum(getattr(s.counters, name) for s in self.shards if s.status == "complete")


class Progress(Protocol):
    def shard_started(self, path: str, index: int, total: int) -> None: ...
    def advanced(self, documents: int, passages: int) -> None: ...
    def shard_finished(self, result: ShardResult) -> None: ...


class SilentProgress:
    def shard_started(self, path: str, index: int, total: int) -> None: ...
    def advanced(self, documents: int, passages: int) -> None: ...
    def shard_finished(self, result: ShardResult) -> None: ...


@dataclass
class _Pending:
    """Documents selected for embedding, waiting for the next commit."""

    records: list[Record] = field(default_factory=list)
    flags: list[tuple[bool, bool]] = field(default_factory=list)  # (candidate, audit)

    def __len__(self) -> int:
        return len(self.records)


def index_paths(
    store: Store,
    encoder: Encoder,
    classifier: TropeClassifier,
    paths: list[Path],
    options: IndexOptions,
    progress: Progress | None = None,
) -> IndexReport:
    """Index every shard found under ``paths``; never raises for one bad shard.

    New passages are scored with ``classifier``; if the store was scored with
    another taxonomy version, it is re-scored first.
    """
    progress = progress or SilentProgress()
    ensure_scored(store, classifier)
    report = IndexReport()
    shards = discover_shards(paths)
    for number, path in enumerate(shards, start=1):
        progress.shard_started(str(path), number, len(shards))
        result = index_shard(store, encoder, classifier, path, options, progress)
        report.shards.append(result)
        progress.shard_finished(result)
    return finish_run(store, options, report)


def finish_run(store: Store, options: IndexOptions, report: IndexReport) -> IndexReport:
    """After a run that changed shards, recompute the dataset's near-duplicate clusters."""
    if any(s.status == "complete" for s in report.shards):
        cluster_dataset(store, options.dataset)
    return report


def index_shard(
    store: Store,
    encoder: Encoder,
    classifier: TropeClassifier,
    path: Path,
    options: IndexOptions,
    progress: Progress,
) -> ShardResult:
    counters = ShardCounters()
    fmt = shard_format(path) if path.exists() else None
    if fmt is None:
        reason = "no such file or folder" if not path.exists() else "unknown shard format"
        return ShardResult(str(path), "failed", counters, f"{path}: {reason}")
    ident = stat_identity(options.dataset, options.dump, path, fmt)
    fingerprint, unchanged = fingerprint_for(store, ident, path)
    if unchanged:
        return ShardResult(str(path), "skipped", counters)
    shard_id = claim_shard(store, ident, fingerprint, options.embed, options.audit_rate)
    try:
        _stream_shard(store, encoder, classifier, path, shard_id, options, counters, progress)
    except UnreadableShard as exc:
        fail_shard(store, shard_id, exc.message)
        store.vectors.save()
        return ShardResult(str(path), "failed", counters, exc.message)
    except BaseException as exc:  # interrupted: leave it 'running'; the next open discards it
        log.error("shard %s interrupted: %s", path, exc)
        raise
    complete_shard(store, shard_id, counters)
    store.vectors.save()
    return ShardResult(str(path), "complete", counters)


def select_documents(
    path: Path,
    options: IndexOptions,
    counters: ShardCounters,
    tick: Callable[[int], None] | None = None,
) -> Iterator[tuple[Record, bool, bool]]:
    """Read a shard, count every record, and yield the documents to embed with their
    (candidate, audit) flags. ``tick(n)`` is called every 10,000 documents read."""
    for item in read_shard(path, options.fields):
        crash_point("read")
        if not isinstance(item, Record):
            counters.bad[item.reason] += 1
            continue
        counters.documents += 1
        counters.characters += len(item.text)
        candidate = is_ai_candidate(item.text)
        audit = not candidate and in_audit_sample(
            options.dataset, item.source_id, item.ordinal, options.audit_rate
        )
        counters.candidates += candidate
        counters.audited += audit
        counters.count_month(item.date, candidate, audit)
        if tick is not None and counters.documents % 10_000 == 0:
            tick(counters.documents)
        if candidate or audit or options.embed == "all":
            yield item, candidate, audit


def _stream_shard(
    store: Store,
    encoder: Encoder,
    classifier: TropeClassifier,
    path: Path,
    shard_id: int,
    options: IndexOptions,
    counters: ShardCounters,
    progress: Progress,
) -> None:
    pending = _Pending()
    pending_passages = 0  # an estimate: one passage per ~800 characters, at least one
    reported = 0

    def report(added: int) -> None:
        nonlocal reported
        progress.advanced(counters.documents - reported, added)
        reported = counters.documents

    for item, candidate, audit in select_documents(path, options, counters, lambda n: report(0)):
        pending.records.append(item)
        pending.flags.append((candidate, audit))
        pending_passages += 1 + min(len(item.text), options.max_text_chars) // 800
        if pending_passages >= options.commit_passages:
            report(_commit(store, encoder, classifier, shard_id, pending, options, counters))
            pending, pending_passages = _Pending(), 0
    report(_commit(store, encoder, classifier, shard_id, pending, options, counters))


def _commit(
    store: Store,
    encoder: Encoder,
    classifier: TropeClassifier,
    shard_id: int,
    pending: _Pending,
    options: IndexOptions,
    counters: ShardCounters,
) -> int:
    """Chunk, embed and store the pending documents in one transaction; return passages."""
    if not pending:
        return 0
    texts = [r.text[: options.max_text_chars] for r in pending.records]
    chunked = chunk_batch(texts, options.chunk_tokens, options.chunk_overlap)
    passages = [(doc_index, c) for doc_index, chunks in enumerate(chunked) for c in chunks]
    crash_point("embed")
    vectors = encoder.encode([c.text for _, c in passages])
    return write_batch(
        store, classifier, shard_id, pending.records, pending.flags, passages, vectors, counters
    )


def write_batch(
    store: Store,
    classifier: TropeClassifier,
    shard_id: int,
    records: list[Record],
    flags: list[tuple[bool, bool]],
    passages: list[tuple[int, Chunk]],
    vectors: np.ndarray,
    counters: ShardCounters,
) -> int:
    """Store documents, their passages, vectors and trope scores in one transaction (the single
    writer's bulk load, shared by the local and the Ray executor); return passages stored."""
    with store.transaction() as cur:
        first_doc = store.next_id(cur, "documents")
        first_passage = store.next_id(cur, "passages")
        documents = pa.table(
            {
                "id": pa.array(range(first_doc, first_doc + len(records)), pa.int64()),
                "shard_id": pa.array([shard_id] * len(records), pa.int64()),
                "ordinal": pa.array([r.ordinal for r in records], pa.int64()),
                "source_id": pa.array([r.source_id for r in records], pa.string()),
                "url": pa.array([r.url for r in records], pa.string()),
                "date": pa.array([r.date for r in records], pa.string()),
                "characters": pa.array([len(r.text) for r in records], pa.int64()),
                "candidate": pa.array([f[0] for f in flags], pa.bool_()),
                "audit": pa.array([f[1] for f in flags], pa.bool_()),
            }
        )
        passage_ids = np.arange(first_passage, first_passage + len(passages), dtype=np.int64)
        flat = pa.array(vectors.reshape(-1), pa.float32())
        rows = pa.table(
            {
                "id": pa.array(passage_ids, pa.int64()),
                "document_id": pa.array([first_doc + d for d, _ in passages], pa.int64()),
                "shard_id": pa.array([shard_id] * len(passages), pa.int64()),
                "ordinal": pa.array([c.ordinal for _, c in passages], pa.int32()),
                "char_start": pa.array([c.char_start for _, c in passages], pa.int32()),
                "char_end": pa.array([c.char_end for _, c in passages], pa.int32()),
                "tokens": pa.array([c.tokens for _, c in passages], pa.int32()),
                "text": pa.array([c.text for _, c in passages], pa.string()),
                "embedding": pa.FixedSizeListArray.from_arrays(flat, EMBEDDING_DIM),
            }
        )
        cur.register("batch_documents", documents)
        cur.register("batch_passages", rows)
        cur.execute("INSERT INTO documents SELECT * FROM batch_documents")
        cur.execute("INSERT INTO passages SELECT * FROM batch_passages")
        cur.unregister("batch_documents")
        cur.unregister("batch_passages")
        write_passage_scores(cur, classifier, passage_ids, vectors, [c.text for _, c in passages])
        crash_point("commit")
    store.vectors.add(passage_ids, vectors)
    counters.stored_documents += len(records)
    counters.passages += len(passages)
    return len(passages)

"""`tropescope index --executor ray`: read, count, prefilter, chunk and embed as a Ray Data
pipeline; the results are bulk-loaded through the single writer (this process).

    shards -> flat_map(read + count + prefilter + chunk) -> map_batches(embedding actors)
           -> driver: per shard, claim -> write_batch -> complete (as the local executor)

Embedding actors ask for a GPU when the cluster has one. Point it at a cluster with
``--ray-address`` (or RAY_ADDRESS); by default it starts a local Ray instance.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from core.chunking import Chunk, chunk_batch
from core.errors import UnreadableShard
from core.store import Store
from core.tropes.classifier import TropeClassifier
from core.tropes.scoring import ensure_scored
from indexers.ledger import (
    ShardCounters,
    claim_shard,
    complete_shard,
    fail_shard,
    fingerprint_for,
    stat_identity,
)
from indexers.pipeline import (
    IndexOptions,
    IndexReport,
    Progress,
    ShardResult,
    SilentProgress,
    finish_run,
    select_documents,
    write_batch,
)
from indexers.readers import Record, discover_shards, shard_format


def _select(row: dict[str, Any], options: IndexOptions) -> list[dict[str, Any]]:
    """Read one shard: a 'counters' row, one 'passage' row per passage to embed (carrying
    its document), or a single 'failed' row."""
    path = Path(row["path"])
    counters = ShardCounters()
    out: list[dict[str, Any]] = []
    try:
        selected = list(select_documents(path, options, counters))
    except UnreadableShard as exc:
        return [{"path": str(path), "kind": "failed", "payload": exc.message, "text": ""}]
    texts = [r.text[: options.max_text_chars] for r, _, _ in selected]
    for doc, chunks in enumerate(chunk_batch(texts, options.chunk_tokens, options.chunk_overlap)):
        record, candidate, audit = selected[doc]
        meta = {
            "doc": doc,
            "ordinal": record.ordinal,
            "source_id": record.source_id,
            "url": record.url,
            "date": record.date,
            "characters": len(record.text),
            "candidate": candidate,
            "audit": audit,
        }
        for c in chunks:
            chunk = [c.ordinal, c.char_start, c.char_end, c.tokens]
            payload = json.dumps({**meta, "chunk": chunk})
            out.append({"path": str(path), "kind": "passage", "payload": payload, "text": c.text})
    state = asdict(counters)
    state["bad"] = dict(counters.bad)
    out.append({"path": str(path), "kind": "counters", "payload": json.dumps(state), "text": ""})
    return out


class _EmbedActor:
    def __init__(self, device: str, batch_size: int) -> None:
        from core.embedding import Embedder

        self.embedder = Embedder(device, batch_size)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        texts = [str(t) for t in batch["text"]]
        wanted = [i for i, k in enumerate(batch["kind"]) if k == "passage"]
        vectors = np.zeros((len(texts), self.embedder.dim), dtype=np.float32)
        if wanted:
            vectors[wanted] = self.embedder.encode([texts[i] for i in wanted])
        return {**batch, "vector": vectors}


def index_paths_ray(
    store: Store,
    classifier: TropeClassifier,
    paths: list[Path],
    options: IndexOptions,
    device: str = "auto",
    batch_size: int = 32,
    address: str | None = None,
    progress: Progress | None = None,
) -> IndexReport:
    import ray

    progress = progress or SilentProgress()
    ensure_scored(store, classifier)
    report = IndexReport()
    todo: dict[str, tuple[Any, str]] = {}
    for path in discover_shards(paths):
        fmt = shard_format(path) if path.exists() else None
        if fmt is None:
            reason = "no such file or folder" if not path.exists() else "unknown shard format"
            report.shards.append(
                ShardResult(str(path), "failed", ShardCounters(), f"{path}: {reason}")
            )
            continue
        ident = stat_identity(options.dataset, options.dump, path, fmt)
        fingerprint, unchanged = fingerprint_for(store, ident, path)
        if unchanged:
            report.shards.append(ShardResult(str(path), "skipped", ShardCounters()))
        else:
            todo[str(path)] = (ident, fingerprint)
    if todo:
        if not ray.is_initialized():
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
        dataset = (
            ray.data.from_items([{"path": p} for p in todo])
            .flat_map(lambda row: _select(row, options))
            .map_batches(
                _EmbedActor,
                fn_constructor_args=(device, batch_size),
                batch_size=256,
                concurrency=1,
                num_gpus=gpus,
            )
        )
        rows: dict[str, list[dict[str, Any]]] = {p: [] for p in todo}
        for row in dataset.iter_rows():
            rows[row["path"]].append(row)
        for number, (name, (ident, fingerprint)) in enumerate(todo.items(), start=1):
            progress.shard_started(name, number, len(todo))
            result = _load_shard(store, classifier, name, ident, fingerprint, rows[name], options)
            report.shards.append(result)
            progress.advanced(result.counters.documents, result.counters.passages)
            progress.shard_finished(result)
    return finish_run(store, options, report)


def _load_shard(
    store: Store,
    classifier: TropeClassifier,
    path: str,
    ident: Any,
    fingerprint: str,
    rows: list[dict[str, Any]],
    options: IndexOptions,
) -> ShardResult:
    shard_id = claim_shard(store, ident, fingerprint, options.embed, options.audit_rate)
    failed = [r for r in rows if r["kind"] == "failed"]
    if failed:
        fail_shard(store, shard_id, failed[0]["payload"])
        store.vectors.save()
        return ShardResult(path, "failed", ShardCounters(), failed[0]["payload"])
    state = json.loads(next(r["payload"] for r in rows if r["kind"] == "counters"))
    counters = ShardCounters(
        **{**state, "bad": Counter(state["bad"]), "stored_documents": 0, "passages": 0}
    )
    passages = [(json.loads(r["payload"]), r) for r in rows if r["kind"] == "passage"]
    passages.sort(key=lambda p: (p[0]["doc"], p[0]["chunk"][0]))
    records: list[Record] = []
    flags: list[tuple[bool, bool]] = []
    chunks: list[tuple[int, Chunk]] = []
    doc_of: dict[int, int] = {}
    for meta, row in passages:
        if meta["doc"] not in doc_of:
            doc_of[meta["doc"]] = len(records)
            records.append(
                Record(
                    meta["ordinal"],
                    meta["source_id"],
                    "x" * meta["characters"],
                    meta["url"],
                    meta["date"],
                )
            )
            flags.append((meta["candidate"], meta["audit"]))
        ordinal, start, end, tokens = meta["chunk"]
        chunks.append((doc_of[meta["doc"]], Chunk(ordinal, start, end, tokens, row["text"])))
    vectors = np.array([np.asarray(r["vector"], dtype=np.float32) for _, r in passages])
    if records:
        write_batch(
            store, classifier, shard_id, records, flags, chunks, vectors.reshape(-1, 384), counters
        )
    complete_shard(store, shard_id, counters)
    store.vectors.save()
    return ShardResult(path, "complete", counters)

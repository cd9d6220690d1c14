"""Stores built directly for the benchmarks (a bench-only path: synthetic vectors and
counters loaded in bulk, no model involved), and a timed real server over them."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from core.schema import EMBEDDING_DIM
from core.store import Store
from core.tropes.classifier import load_classifier
from core.tropes.scoring import mark_scored

ROOT = Path(__file__).resolve().parents[1]


def _unit(rng: np.random.Generator, n: int, clusters: int = 0) -> np.ndarray:
    """Random unit vectors; with ``clusters``, drawn around that many centres (embeddings of
    real text are clustered, uniform random vectors are the worst case for IVF)."""
    v = rng.normal(size=(n, EMBEDDING_DIM)).astype(np.float32)
    if clusters:
        centres = rng.normal(size=(clusters, EMBEDDING_DIM)).astype(np.float32)
        v = centres[rng.integers(0, clusters, n)] + 0.6 * v
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _load(store: Store, documents: int, passages: np.ndarray, shards: int, rng) -> None:
    per_shard = documents // shards
    n = len(passages)
    with store.transaction() as cur:
        cur.execute("INSERT INTO datasets (name) VALUES ('bench')")
        for s in range(shards):
            cur.execute(
                "INSERT INTO shards (id, dataset, dump, path, format, fingerprint, status, "
                "documents, candidates, stored_documents, passages, embed_mode, audit_rate) "
                "VALUES (?, 'bench', ?, ?, 'jsonl', 'x', 'complete', ?, ?, ?, ?, 'candidates', 0)",
                [
                    s + 1,
                    f"2025-{s % 12 + 1:02d}",
                    f"/bench/{s}.jsonl",
                    per_shard,
                    n // shards,
                    n // shards,
                    n // shards,
                ],
            )
        ids = np.arange(1, n + 1, dtype=np.int64)
        shard_of = (ids - 1) % shards + 1
        cur.register(
            "d",
            pa.table(
                {
                    "id": ids,
                    "shard_id": shard_of,
                    "ordinal": ids,
                    "source_id": ids.astype(str),
                    "url": pa.nulls(n, pa.string()),
                    "date": pa.array(["2025-10-01"] * n),
                    "characters": np.full(n, 500),
                    "candidate": np.ones(n, bool),
                    "audit": np.zeros(n, bool),
                }
            ),
        )
        cur.execute("INSERT INTO documents SELECT * FROM d")
        cur.register(
            "p",
            pa.table(
                {
                    "id": ids,
                    "document_id": ids,
                    "shard_id": shard_of,
                    "ordinal": np.zeros(n, np.int32),
                    "char_start": np.zeros(n, np.int32),
                    "char_end": np.full(n, 40, np.int32),
                    "tokens": np.full(n, 10, np.int32),
                    "text": pa.array([f"bench passage {i}" for i in ids]),
                    "embedding": pa.FixedSizeListArray.from_arrays(
                        pa.array(passages.reshape(-1)), EMBEDDING_DIM
                    ),
                }
            ),
        )
        cur.execute("INSERT INTO passages SELECT * FROM p")
        classifier = load_classifier()
        tropes = np.array(classifier.trope_ids)
        pick = rng.integers(0, len(tropes), n)
        labelled = rng.random(n) < 0.3
        cur.register(
            "t",
            pa.table(
                {
                    "passage_id": ids,
                    "trope": tropes[pick],
                    "score": rng.random(n).astype(np.float32),
                    "label": labelled,
                }
            ),
        )
        cur.execute("INSERT INTO passage_tropes SELECT * FROM t")
        cur.register(
            "l",
            pa.table(
                {
                    "passage_id": ids,
                    "ai_score": np.ones(n, np.float32),
                    "ai_related": np.ones(n, bool),
                    "polarity": pa.array(["misaligned"] * n),
                }
            ),
        )
        cur.execute("INSERT INTO passage_labels SELECT * FROM l")
    store.vectors.add(np.arange(1, n + 1, dtype=np.int64), passages)
    store.vectors.save()
    mark_scored(store, classifier)


def synthetic_store(directory: Path, size: int, clusters: int = 0) -> tuple[Path, np.ndarray]:
    rng = np.random.default_rng(0)
    vectors = _unit(rng, size, clusters)
    if not (directory / "passages.faiss").exists():
        with Store.open(directory) as store:
            _load(store, size, vectors, 10, rng)
    return directory, vectors


def prevalence_store(directory: Path, documents: int, passages: int) -> Path:
    if not (directory / "passages.faiss").exists():
        rng = np.random.default_rng(0)
        with Store.open(directory) as store:
            _load(store, documents, _unit(rng, passages), 100, rng)
    return directory


@contextlib.contextmanager
def timed_server(store: Path) -> Iterator:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--store", str(store), "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"

    def call(method: str, path: str, body: dict | None = None) -> float:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            url + path, data=data, method=method, headers={"content-type": "application/json"}
        )
        start = time.perf_counter()
        with urllib.request.urlopen(req, timeout=60) as r:
            r.read()
        return time.perf_counter() - start

    try:
        for _ in range(600):
            try:
                call("GET", "/v1/health")
                break
            except OSError:
                time.sleep(0.2)
        for _ in range(3):
            call("GET", "/v1/health")
        yield call
    finally:
        proc.terminate()
        proc.wait(timeout=30)

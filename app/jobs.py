"""Ingest jobs: the server's background worker is the store's single writer.

A job indexes paths (confined to the configured ingest roots) while the server
keeps answering; each shard counts in statistics as soon as it commits. Jobs left
queued or running by a stopped server are queued again when it restarts
(indexing is idempotent: complete shards are skipped, interrupted ones redone).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.embedding import Embedder
from core.errors import Forbidden, InvalidInput, NotFound
from core.settings import Settings
from core.store import Store
from core.tropes.classifier import TropeClassifier
from indexers.pipeline import IndexOptions, ShardResult, index_paths
from indexers.readers import Fields

log = logging.getLogger("tropescope.jobs")

_COLUMNS = (
    "id",
    "status",
    "dataset",
    "dump",
    "paths",
    "shards_total",
    "shards_done",
    "shards_failed",
    "documents",
    "passages",
    "error",
    "created_at",
    "started_at",
    "finished_at",
)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def confine(paths: list[str], roots: list[Path]) -> list[Path]:
    """Resolve ``paths`` (symlinks and '..' included) and refuse any outside ``roots``."""
    if not paths:
        raise InvalidInput("'paths' is empty")
    allowed = [r.resolve() for r in roots]
    out = []
    for raw in paths:
        resolved = Path(raw).resolve()
        if not any(resolved == root or resolved.is_relative_to(root) for root in allowed):
            raise Forbidden(
                f"{raw} is outside the ingest roots",
                {"path": raw, "ingest_roots": [str(r) for r in allowed]},
            )
        if not resolved.exists():
            raise InvalidInput(f"{raw}: no such file or folder", {"path": raw})
        out.append(resolved)
    return out


class _JobProgress:
    def __init__(self, worker: JobWorker, job_id: str) -> None:
        self.worker, self.job_id = worker, job_id
        self.documents = self.passages = self.done = self.failed = 0

    def shard_started(self, path: str, index: int, total: int) -> None:
        self.worker.update(self.job_id, shards_total=total)

    def advanced(self, documents: int, passages: int) -> None:
        self.documents += documents
        self.passages += passages
        self.worker.update(self.job_id, documents=self.documents, passages=self.passages)

    def shard_finished(self, result: ShardResult) -> None:
        self.done += 1
        self.failed += result.status == "failed"
        self.worker.update(self.job_id, shards_done=self.done, shards_failed=self.failed)
        self.worker.metrics_hook(result)


class JobWorker:
    def __init__(
        self, store: Store, embedder: Embedder, settings: Settings, classifier: Any
    ) -> None:
        self.store, self.embedder, self.settings = store, embedder, settings
        self.classifier_source = classifier  # a callable returning the current classifier
        self.queue: queue.Queue[str | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="tropescope-jobs", daemon=True)
        self.metrics_hook: Any = lambda result: None

    def start(self) -> None:
        with self.store.transaction() as cur:
            stale = [
                r[0]
                for r in cur.execute(
                    "SELECT id FROM jobs WHERE status IN ('queued', 'running') ORDER BY created_at"
                ).fetchall()
            ]
            cur.execute("UPDATE jobs SET status = 'queued' WHERE status = 'running'")
        for job_id in stale:
            log.info("resuming job %s", job_id)
            self.queue.put(job_id)
        self.thread.start()

    def stop(self) -> None:
        self.queue.put(None)
        self.thread.join(timeout=30)

    def submit(self, paths: list[str], dataset: str, dump: str, options: dict) -> dict:
        if not dataset.strip():
            raise InvalidInput("'dataset' is empty")
        resolved = confine(paths, self.settings.ingest_roots)
        job_id = uuid.uuid4().hex[:12]
        with self.store.transaction() as cur:
            cur.execute(
                "INSERT INTO jobs (id, status, dataset, dump, paths, options) "
                "VALUES (?, 'queued', ?, ?, ?, ?)",
                [job_id, dataset, dump, [str(p) for p in resolved], json.dumps(options)],
            )
        self.queue.put(job_id)
        return self.get(job_id)

    def _select(self, where: str, params: list[Any]) -> list[dict]:
        rows = (
            self.store.cursor()
            .execute(f"SELECT {', '.join(_COLUMNS)} FROM jobs {where}", params)
            .fetchall()
        )
        jobs = [dict(zip(_COLUMNS, row, strict=True)) for row in rows]
        for job in jobs:
            for key in ("created_at", "started_at", "finished_at"):
                job[key] = None if job[key] is None else job[key].isoformat()
        return jobs

    def get(self, job_id: str) -> dict:
        jobs = self._select("WHERE id = ?", [job_id])
        if not jobs:
            raise NotFound(f"no job {job_id}", {"id": job_id})
        return jobs[0]

    def list(self) -> list[dict]:
        return self._select("ORDER BY created_at DESC LIMIT 100", [])

    def counts(self) -> dict[str, int]:
        rows = self.store.cursor().execute("SELECT status, count(*) FROM jobs GROUP BY 1")
        return {r[0]: int(r[1]) for r in rows.fetchall()}

    def update(self, job_id: str, **fields: Any) -> None:
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self.store.transaction() as cur:
            cur.execute(f"UPDATE jobs SET {sets} WHERE id = ?", [*fields.values(), job_id])

    def _run(self) -> None:
        while True:
            job_id = self.queue.get()
            if job_id is None:
                return
            try:
                self._execute(job_id)
            except Exception as exc:  # a job never takes the worker down
                log.exception("job %s failed", job_id)
                self.update(job_id, status="failed", error=str(exc), finished_at=_now())

    def _execute(self, job_id: str) -> None:
        job = self.get(job_id)
        if job["status"] not in ("queued", "running"):
            return
        options = json.loads(
            self.store.cursor()
            .execute("SELECT options FROM jobs WHERE id = ?", [job_id])
            .fetchall()[0][0]
        )
        self.update(job_id, status="running", error=None, started_at=_now())
        s = self.settings
        index_options = IndexOptions(
            dataset=job["dataset"],
            dump=job["dump"],
            fields=Fields(**options.get("fields", {})),
            embed=options.get("embed") or s.embed,
            audit_rate=s.audit_rate if options.get("audit_rate") is None else options["audit_rate"],
            chunk_tokens=s.chunk_tokens,
            chunk_overlap=s.chunk_overlap,
            commit_passages=s.commit_passages,
            max_text_chars=s.max_text_chars,
        )
        classifier: TropeClassifier = self.classifier_source()
        report = index_paths(
            self.store,
            self.embedder,
            classifier,
            [Path(p) for p in job["paths"]],
            index_options,
            _JobProgress(self, job_id),
        )
        failed = report.failed
        error = "; ".join(f"{Path(f.path).name}: {f.error}" for f in failed) or None
        self.update(
            job_id,
            status="failed" if failed else "complete",
            error=error,
            shards_failed=len(failed),
            finished_at=_now(),
        )
        log.info("job %s %s", job_id, "failed" if failed else "complete")

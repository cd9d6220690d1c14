"""`tropescope index` in the terminal: progress bar with documents/s and passages/s,
and a summary table at the end."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.presence import running_server
from core.embedding import Embedder
from core.errors import StoreLocked, TropescopeError
from core.settings import Settings
from core.store import Store
from core.tropes.classifier import load_classifier
from core.tropes.custom import with_custom
from indexers.pipeline import IndexOptions, IndexReport, ShardResult, index_paths
from indexers.readers import Fields


class RichProgress:
    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = progress.add_task("shards", total=None, documents=0, passages=0, rate="")
        self.documents = 0
        self.passages = 0
        self.started = time.monotonic()

    def shard_started(self, path: str, index: int, total: int) -> None:
        self.progress.update(self.task, total=total, description=Path(path).name)

    def advanced(self, documents: int, passages: int) -> None:
        self.documents += documents
        self.passages += passages
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = f"{self.documents / elapsed:,.0f} docs/s  {self.passages / elapsed:,.1f} passages/s"
        self.progress.update(self.task, documents=self.documents, passages=self.passages, rate=rate)

    def shard_finished(self, result: ShardResult) -> None:
        self.progress.advance(self.task)
        if result.status == "failed":
            self.progress.console.print(f"[red]failed[/red] {result.path}: {result.error}")


def run_index(
    settings: Settings,
    paths: list[Path],
    dataset: str,
    dump: str,
    field_names: tuple[str, str, str, str],
    executor: str = "local",
    ray_address: str | None = None,
) -> int:
    """Index into the store; return the exit code (1 if any shard failed)."""
    console = Console(stderr=True)
    options = IndexOptions(
        dataset=dataset,
        dump=dump,
        fields=Fields(*field_names),
        embed=settings.embed,
        audit_rate=settings.audit_rate,
        chunk_tokens=settings.chunk_tokens,
        chunk_overlap=settings.chunk_overlap,
        commit_passages=settings.commit_passages,
        max_text_chars=settings.max_text_chars,
    )
    try:
        store = Store.open_with(settings)
    except StoreLocked:
        url = running_server(settings.store)
        if url is None:
            raise
        console.print(f"the store is held by the server at {url}: submitting a job to it")
        return submit_to_server(url, settings, paths, dataset, dump, options, console)
    embedder = Embedder.from_settings(settings)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[documents]:,} docs  {task.fields[passages]:,} passages"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
    )
    with store:
        classifier = with_custom(load_classifier(), store.cursor())
        with Progress(*columns, console=console, transient=False) as bar:
            if executor == "ray":
                from indexers.distributed import index_paths_ray

                report = index_paths_ray(
                    store,
                    classifier,
                    paths,
                    options,
                    settings.device,
                    settings.batch_size,
                    ray_address,
                    RichProgress(bar),
                )
            else:
                report = index_paths(store, embedder, classifier, paths, options, RichProgress(bar))
    _summary(console, report, dataset, dump)
    return 1 if report.failed else 0


def _call(url: str, settings: Settings, method: str = "GET", body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("content-type", "application/json")
    if settings.api_key:
        request.add_header("x-api-key", settings.api_key)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return dict(json.loads(response.read()))
    except urllib.error.HTTPError as exc:
        error = json.loads(exc.read() or b"{}").get("error", {})
        raise TropescopeError(f"the server refused the job: {error.get('message', exc)}") from exc


def submit_to_server(
    url: str,
    settings: Settings,
    paths: list[Path],
    dataset: str,
    dump: str,
    options: IndexOptions,
    console: Console,
) -> int:
    """Run the indexing as a job on the server that holds the store; follow its progress."""
    f = options.fields
    body = {
        "paths": [str(p.resolve()) for p in paths],
        "dataset": dataset,
        "dump": dump,
        "embed": options.embed,
        "audit_rate": options.audit_rate,
        "text_field": f.text,
        "id_field": f.id,
        "url_field": f.url,
        "date_field": f.date,
    }
    job = _call(f"{url}/v1/jobs", settings, "POST", body)
    with Progress(
        TextColumn("[bold]job {task.fields[job]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[documents]:,} docs  {task.fields[passages]:,} passages"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("job", total=None, job=job["id"], documents=0, passages=0)
        while job["status"] in ("queued", "running"):
            time.sleep(0.5)
            job = _call(f"{url}/v1/jobs/{job['id']}", settings)
            bar.update(
                task,
                total=job["shards_total"] or None,
                completed=job["shards_done"],
                documents=job["documents"],
                passages=job["passages"],
            )
    console.print(
        f"job {job['id']} {job['status']}: {job['shards_done']} shard(s), "
        f"{job['documents']:,} documents read, {job['passages']:,} passages stored, "
        f"{job['shards_failed']} failed"
    )
    if job["error"]:
        console.print(f"[red]{job['error']}[/red]")
    return 0 if job["status"] == "complete" else 1


def _summary(console: Console, report: IndexReport, dataset: str, dump: str) -> None:
    table = Table(title=f"{dataset} / {dump}")
    for col in ("shard", "status", "documents", "candidates", "audited", "passages", "bad"):
        table.add_column(col)
    for s in report.shards:
        c = s.counters
        bad = ", ".join(f"{r}={n}" for r, n in sorted(c.bad.items())) or "0"
        table.add_row(
            Path(s.path).name,
            s.status,
            f"{c.documents:,}",
            f"{c.candidates:,}",
            f"{c.audited:,}",
            f"{c.passages:,}",
            bad,
        )
    console.print(table)
    skipped = sum(s.status == "skipped" for s in report.shards)
    console.print(
        f"{len(report.shards)} shard(s): {report.total('documents'):,} documents read, "
        f"{report.total('passages'):,} passages stored, {skipped} unchanged, "
        f"{len(report.failed)} failed"
    )
    for s in report.failed:
        console.print(f"[red]failed[/red] {s.path}: {s.error}")

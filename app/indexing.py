"""`tropescope index` in the terminal: progress bar with documents/s and passages/s,
and a summary table at the end."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from core.embedding import Embedder
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
        self.progress.update(
            self.task, documents=self.documents, passages=self.passages, rate=rate
        )

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
    embedder = Embedder(settings.device, settings.batch_size)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[documents]:,} docs  {task.fields[passages]:,} passages"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
    )
    with Store.open(settings.store) as store:
        classifier = with_custom(load_classifier(), store.cursor())
        with Progress(*columns, console=console, transient=False) as bar:
            report = index_paths(store, embedder, classifier, paths, options, RichProgress(bar))
    _summary(console, report, dataset, dump)
    return 1 if report.failed else 0


def _summary(console: Console, report: IndexReport, dataset: str, dump: str) -> None:
    table = Table(title=f"{dataset} / {dump}")
    for col in ("shard", "status", "documents", "candidates", "audited", "passages", "bad"):
        table.add_column(col)
    for s in report.shards:
        c = s.counters
        bad = ", ".join(f"{r}={n}" for r, n in sorted(c.bad.items())) or "0"
        table.add_row(Path(s.path).name, s.status, f"{c.documents:,}", f"{c.candidates:,}",
                      f"{c.audited:,}", f"{c.passages:,}", bad)  # fmt: skip
    console.print(table)
    skipped = sum(s.status == "skipped" for s in report.shards)
    console.print(
        f"{len(report.shards)} shard(s): {report.total('documents'):,} documents read, "
        f"{report.total('passages'):,} passages stored, {skipped} unchanged, "
        f"{len(report.failed)} failed"
    )
    for s in report.failed:
        console.print(f"[red]failed[/red] {s.path}: {s.error}")

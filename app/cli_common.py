"""Pieces every `tropescope` command shares: the store option, settings, the error exit, the
scored store, and printing rows as a table, CSV or JSON."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from core.errors import TropescopeError
from core.settings import Settings

if TYPE_CHECKING:
    from core.store import Store
    from core.tropes.classifier import TropeClassifier

StoreOpt = Annotated[
    Path | None, typer.Option("--store", help="Store directory [env TROPESCOPE_STORE].")
]


def settings_for(store: Path | None = None, **overrides: Any) -> Settings:
    """Settings from the environment, with the options a command was given on top."""
    values = {k: v for k, v in overrides.items() if v is not None}
    if store is not None:
        values["store"] = store
    return Settings(**values)


def fail(exc: TropescopeError) -> NoReturn:
    """End the command with the error's message and exit status 2."""
    typer.secho(f"error: {exc.message}", fg="red", err=True)
    raise typer.Exit(2)


@contextmanager
def scored_store(settings: Settings) -> Iterator[tuple[Store, TropeClassifier]]:
    """The store, with its passages' labels brought up to the current head first (as the
    server does on start): labels stored by an older head are never read as this one's."""
    from core.store import Store
    from core.tropes.classifier import load_classifier
    from core.tropes.custom import with_custom
    from core.tropes.scoring import rescore_store, scored_version

    with Store.open_with(settings) as opened:
        classifier = with_custom(load_classifier(), opened.cursor())
        before = scored_version(opened)
        if before != classifier.scoring_key:
            if before is not None:
                typer.secho(
                    f"re-scoring the stored passages with head {classifier.scoring_key} "
                    f"(they were scored with {before})",
                    err=True,
                )
            rescore_store(opened, classifier)
        yield opened, classifier


def scored_rows(
    store: Path | None, output: str, compute: Callable[..., list[dict[str, Any]]], *args: Any
) -> tuple[list[dict[str, Any]], str]:
    """``compute(store, classifier, *args)`` over the scored store, and the classifier's
    version; a bad ``--format`` or a query error ends the command with exit status 2."""
    check_format(output)
    try:
        with scored_store(settings_for(store)) as (opened, classifier):
            return compute(opened, classifier, *args), classifier.version
    except TropescopeError as exc:
        fail(exc)


def check_format(output: str) -> None:
    if output not in ("table", "csv", "json"):
        typer.secho("error: --format must be table, csv or json", err=True)
        raise typer.Exit(2)


def make_console() -> Any:
    """A rich console; piped into a file or another program, 200 columns wide rather than 80,
    so that tables are not cut short."""
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=200)


def emit(
    output: str,
    rows: list[dict[str, Any]],
    flat: list[dict[str, Any]],
    table: dict[str, Any],
    version: str,
) -> None:
    """Print ``rows`` as JSON (as the HTTP API returns them), ``flat`` as CSV, or a rich table
    whose columns ``table`` maps to a formatter of a flat row."""
    if output == "json":
        import json

        typer.echo(json.dumps({"rows": rows, "taxonomy_version": version}, indent=2))
        return
    if output == "csv":
        import csv

        writer = csv.DictWriter(sys.stdout, fieldnames=list(flat[0]) if flat else ["dataset"])
        writer.writeheader()
        writer.writerows(flat)
        return
    from rich.table import Table

    printed = Table(*table)
    for r in flat:
        printed.add_row(*(fmt(r) for fmt in table.values()))
    make_console().print(printed)

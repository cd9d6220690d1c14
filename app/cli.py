"""The `tropescope` command line. Heavy libraries load only inside commands; the statistics and
the trope head's commands live in `app/cli_statistics.py` and `app/cli_tropes.py`."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from app.cli_common import StoreOpt, fail, make_console, scored_store, settings_for
from app.cli_statistics import balance, compare, prevalence
from app.cli_tropes import add_trope, calibrate, evaluate, label_sample, train_head
from core.errors import InvalidInput, TropescopeError

cli = typer.Typer(
    name="tropescope",
    help="Measure how AI behaviour is narrated in training corpora.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@cli.command()
def index(
    paths: Annotated[list[Path], typer.Argument(help="Shard files or folders of shards.")],
    dataset: Annotated[str, typer.Option(help="Dataset the shards belong to.")],
    dump: Annotated[str, typer.Option(help="Dump label, e.g. 2025-10.")] = "default",
    store: StoreOpt = None,
    text_field: Annotated[str, typer.Option(help="Field holding the text.")] = "text",
    id_field: Annotated[str, typer.Option(help="Field holding the document id.")] = "id",
    url_field: Annotated[str, typer.Option(help="Field holding the URL.")] = "url",
    date_field: Annotated[str, typer.Option(help="Field holding the date.")] = "date",
    embed: Annotated[
        str | None, typer.Option(help="candidates (prefilter + audit sample) or all.")
    ] = None,
    audit_rate: Annotated[
        float | None, typer.Option(help="Share of rejected documents to audit.")
    ] = None,
    executor: Annotated[str, typer.Option(help="local, or ray (a Ray Data pipeline).")] = "local",
    ray_address: Annotated[
        str | None, typer.Option(help="Ray cluster address (default: start a local instance).")
    ] = None,
) -> None:
    """Index corpus shards (JSONL, .jsonl.gz, .jsonl.zst, Parquet, folders of .txt)."""
    from app.indexing import run_index

    settings = settings_for(store, embed=embed, audit_rate=audit_rate)
    try:
        if executor not in ("local", "ray"):
            raise InvalidInput("--executor must be local or ray")
        code = run_index(
            settings,
            paths,
            dataset,
            dump,
            (text_field, id_field, url_field, date_field),
            executor=executor,
            ray_address=ray_address,
        )
    except TropescopeError as exc:
        fail(exc)
    raise typer.Exit(code)


@cli.command()
def serve(
    store: StoreOpt = None,
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
) -> None:
    """Serve the HTTP API over a store."""
    from app.server import serve as run_server

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        run_server(settings_for(store, host=host, port=port))
    except TropescopeError as exc:
        fail(exc)


@cli.command()
def datasets(store: StoreOpt = None) -> None:
    """Print each dataset's counters."""
    from rich.table import Table

    from queries.datasets import list_datasets

    try:
        with scored_store(settings_for(store)) as (opened, _):
            rows = list_datasets(opened)
    except TropescopeError as exc:
        fail(exc)
    table = Table("dataset", "documents", "ai_documents", "passages", "shards", "failed", "bad")
    for r in rows:
        table.add_row(
            r["name"],
            *(
                f"{r[k]:,}"
                for k in (
                    "documents",
                    "ai_documents",
                    "passages",
                    "shards",
                    "failed_shards",
                    "bad_records",
                )
            ),
        )
    make_console().print(table)


@cli.command()
def search(
    text: Annotated[str, typer.Argument(help="Query text.")],
    store: StoreOpt = None,
    k: Annotated[int, typer.Option("-k", help="Number of neighbours.")] = 5,
) -> None:
    """Print the passages nearest to TEXT."""
    from core.embedding import Embedder
    from core.store import Store
    from queries.search import SearchQuery
    from queries.search import search as run_search

    settings = settings_for(store)
    try:
        with Store.open_with(settings) as opened:
            hits = run_search(opened, Embedder.from_settings(settings), SearchQuery(text=text, k=k))
    except TropescopeError as exc:
        fail(exc)
    for h in hits:
        snippet = " ".join(h["text"].split())[:160]
        typer.echo(f"{h['score']:.3f}  {h['dataset']}/{h['document_id']}  {snippet}")


# registered here, in this order, so that `--help` lists them after the commands above
cli.command()(prevalence)
cli.command()(balance)
cli.command()(compare)
cli.command("add-trope")(add_trope)
cli.command("train-head")(train_head)
cli.command("eval")(evaluate)
cli.command("label-sample")(label_sample)
cli.command()(calibrate)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        cli()
    except KeyboardInterrupt:
        typer.secho("interrupted", fg="yellow", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()

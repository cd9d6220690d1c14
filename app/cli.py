"""The `tropescope` command line. Heavy libraries load only inside commands."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from core.errors import InvalidInput, TropescopeError
from core.settings import Settings

if TYPE_CHECKING:
    from core.store import Store
    from core.tropes.classifier import TropeClassifier

cli = typer.Typer(
    name="tropescope",
    help="Measure how AI behaviour is narrated in training corpora.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

StoreOpt = Annotated[
    Path | None, typer.Option("--store", help="Store directory [env TROPESCOPE_STORE].")
]


def _settings(store: Path | None = None, **overrides: Any) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if store is not None:
        values["store"] = store
    return Settings(**values)


def _fail(exc: TropescopeError) -> NoReturn:
    typer.secho(f"error: {exc.message}", fg="red", err=True)
    raise typer.Exit(2)


@contextmanager
def _scored_store(settings: Settings) -> Iterator[tuple[Store, TropeClassifier]]:
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

    settings = _settings(store, embed=embed, audit_rate=audit_rate)
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
        _fail(exc)
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
        run_server(_settings(store, host=host, port=port))
    except TropescopeError as exc:
        _fail(exc)


@cli.command()
def datasets(store: StoreOpt = None) -> None:
    """Print each dataset's counters."""
    from rich.table import Table

    from queries.datasets import list_datasets

    try:
        with _scored_store(_settings(store)) as (opened, _):
            rows = list_datasets(opened)
    except TropescopeError as exc:
        _fail(exc)
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
    _console().print(table)


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

    settings = _settings(store)
    try:
        with Store.open_with(settings) as opened:
            hits = run_search(opened, Embedder.from_settings(settings), SearchQuery(text=text, k=k))
    except TropescopeError as exc:
        _fail(exc)
    for h in hits:
        snippet = " ".join(h["text"].split())[:160]
        typer.echo(f"{h['score']:.3f}  {h['dataset']}/{h['document_id']}  {snippet}")


def _rate_columns(rates: dict | None) -> dict[str, Any]:
    """The error rates behind a row's correction, as flat columns ("" where none applied)."""
    rates = rates or {}
    return {
        k: rates.get(key, "")
        for k, key in (
            ("rates_source", "source"),
            ("sensitivity", "sensitivity"),
            ("specificity", "specificity"),
        )
    }


@cli.command()
def prevalence(
    store: StoreOpt = None,
    dataset: Annotated[str | None, typer.Option(help="One dataset (default: all).")] = None,
    trope: Annotated[str | None, typer.Option(help="One trope (default: all).")] = None,
    by: Annotated[str, typer.Option(help="all, dump, shard or month.")] = "all",
    output: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """Documents carrying each trope per million, with intervals and corrections."""
    from queries.prevalence import prevalence as compute

    rows, version = _scored_rows(store, output, compute, dataset, trope, by)
    flat = [
        {
            "dataset": r["dataset"],
            "group": r["group"],
            "trope": r["trope"],
            "documents": r["documents"],
            "ai_documents": r["ai_documents"],
            "positive_documents": r["positive_documents"],
            "rate_per_million": r["rate_per_million"],
            "ci95_low": r["ci95"][0],
            "ci95_high": r["ci95"][1],
            "share_of_ai": r["share_of_ai"],
            "adjusted_per_million": r["adjusted"]["estimate"],
            "adjusted_low": r["adjusted"]["ci95"][0],
            "adjusted_high": r["adjusted"]["ci95"][1],
            "adjusted_method": r["adjusted"]["method"],
            **_rate_columns(r["adjusted"]["rates"]),
        }
        for r in rows
    ]
    table = {
        "dataset": lambda r: r["dataset"],
        "group": lambda r: r["group"],
        "trope": lambda r: r["trope"],
        "docs": lambda r: f"{r['documents']:,}",
        "positive": lambda r: str(r["positive_documents"]),
        "per million": lambda r: f"{r['rate_per_million']:,.1f}",
        "95% CI": lambda r: f"{r['ci95_low']:,.1f}-{r['ci95_high']:,.1f}",
        "adjusted": lambda r: f"{r['adjusted_per_million']:,.1f}",
        "method": lambda r: r["adjusted_method"],
    }
    _emit(output, rows, flat, table, version)


@cli.command()
def balance(
    store: StoreOpt = None,
    dataset: Annotated[str | None, typer.Option(help="One dataset (default: all).")] = None,
    target: Annotated[
        float, typer.Option(help="Aligned:misaligned ratio to reach (greater than 0).")
    ] = 1.0,
    output: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """Aligned to misaligned documents per dataset, with an interval, and how many aligned
    documents would bring the ratio to --target."""
    from queries.balance import balance as compute

    rows, version = _scored_rows(store, output, compute, dataset, target)
    flat = [
        {
            "dataset": r["dataset"],
            "documents": r["documents"],
            "aligned_documents": r["aligned_documents"],
            "misaligned_documents": r["misaligned_documents"],
            "mixed_documents": r["mixed_documents"],
            "ratio": "" if r["ratio"] is None else r["ratio"],
            "ci95_low": r["ci95"][0],
            "ci95_high": "" if r["ci95"][1] is None else r["ci95"][1],
            "target": r["target"],
            "aligned_documents_needed": r["aligned_documents_needed"],
        }
        for r in rows
    ]
    table = {
        "dataset": lambda r: r["dataset"],
        "docs": lambda r: f"{r['documents']:,}",
        "aligned": lambda r: str(r["aligned_documents"]),
        "misaligned": lambda r: str(r["misaligned_documents"]),
        "both": lambda r: str(r["mixed_documents"]),
        "ratio": lambda r: "-" if r["ratio"] == "" else f"{r['ratio']:.3g}",
        "95% CI": lambda r: (
            f"{r['ci95_low']:.3g}-" + ("inf" if r["ci95_high"] == "" else f"{r['ci95_high']:.3g}")
        ),
        "target": lambda r: f"{r['target']:g}",
        "aligned needed": lambda r: f"{r['aligned_documents_needed']:,}",
    }
    _emit(output, rows, flat, table, version)


@cli.command()
def compare(
    a: Annotated[str, typer.Argument(help="A dataset, or dataset:dump.")],
    b: Annotated[str, typer.Argument(help="Another dataset, or dataset:dump.")],
    store: StoreOpt = None,
    trope: Annotated[str | None, typer.Option(help="One trope (default: all).")] = None,
    output: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """Difference between A and B in documents per million carrying each trope, with
    Newcombe's interval and a two-sided p-value (z-test, or Fisher's exact test for small
    counts)."""
    from queries.balance import compare as compute

    rows, version = _scored_rows(store, output, compute, a, b, trope)
    flat = [
        {
            "trope": r["trope"],
            "a": r["a"]["selector"],
            "a_documents": r["a"]["documents"],
            "a_positive_documents": r["a"]["positive_documents"],
            "a_per_million": r["a"]["rate_per_million"],
            "b": r["b"]["selector"],
            "b_documents": r["b"]["documents"],
            "b_positive_documents": r["b"]["positive_documents"],
            "b_per_million": r["b"]["rate_per_million"],
            "difference_per_million": r["difference_per_million"],
            "ci95_low": r["ci95"][0],
            "ci95_high": r["ci95"][1],
            "p_value": r["p_value"],
            "test": r["test"],
        }
        for r in rows
    ]
    table = {
        "trope": lambda r: r["trope"],
        f"{a} per million": lambda r: f"{r['a_per_million']:,.1f} ({r['a_positive_documents']})",
        f"{b} per million": lambda r: f"{r['b_per_million']:,.1f} ({r['b_positive_documents']})",
        "difference": lambda r: f"{r['difference_per_million']:,.1f}",
        "95% CI": lambda r: f"{r['ci95_low']:,.1f} to {r['ci95_high']:,.1f}",
        "p": lambda r: f"{r['p_value']:.3g}",
        "test": lambda r: r["test"],
    }
    _emit(output, rows, flat, table, version)


def _scored_rows(
    store: Path | None, output: str, compute: Callable[..., list[dict[str, Any]]], *args: Any
) -> tuple[list[dict[str, Any]], str]:
    """``compute(store, classifier, *args)`` over the scored store, and the classifier's
    version; a bad ``--format`` or a query error ends the command with exit status 2."""
    _check_format(output)
    try:
        with _scored_store(_settings(store)) as (opened, classifier):
            return compute(opened, classifier, *args), classifier.version
    except TropescopeError as exc:
        _fail(exc)


def _check_format(output: str) -> None:
    if output not in ("table", "csv", "json"):
        typer.secho("error: --format must be table, csv or json", err=True)
        raise typer.Exit(2)


def _console() -> Any:
    """A rich console; piped into a file or another program, 200 columns wide rather than 80,
    so that tables are not cut short."""
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=200)


def _emit(
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
    _console().print(printed)


@cli.command("add-trope")
def add_trope(
    file: Annotated[
        Path, typer.Argument(help="JSON: id, polarity, definition, examples[, negatives, name].")
    ],
    store: StoreOpt = None,
) -> None:
    """Add a custom trope to a store and re-score its passages (nothing is re-embedded)."""
    import json as jsonlib

    from core.embedding import Embedder
    from core.errors import InvalidInput
    from core.store import Store
    from core.tropes.classifier import load_classifier
    from core.tropes.custom import CustomTropeSpec, add_custom_trope, with_custom

    settings = _settings(store)
    try:
        try:
            data = jsonlib.loads(file.read_text())
            spec = CustomTropeSpec(
                id=data["id"],
                polarity=data["polarity"],
                definition=data["definition"],
                examples=list(data["examples"]),
                name=data.get("name", ""),
                negatives=list(data.get("negatives", [])),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(f"{file}: not a trope definition ({exc})") from exc
        with Store.open_with(settings) as opened:
            classifier = with_custom(load_classifier(), opened.cursor())
            updated = add_custom_trope(opened, Embedder.from_settings(settings), classifier, spec)
    except TropescopeError as exc:
        _fail(exc)
    typer.echo(f"added {spec.id}; taxonomy version {updated.version}")


REPO = Path(__file__).resolve().parents[1]
DEFAULT_STATEMENTS = REPO.parent / "shared" / "evaldata" / "statements.jsonl"


@cli.command("train-head")
def train_head(
    statements: Annotated[
        Path | None, typer.Option(help="Real labelled statements to train on (4/5 of them).")
    ] = None,
    no_statements: Annotated[bool, typer.Option(help="Train on the taxonomy only.")] = False,
    c: Annotated[
        float | None, typer.Option(help="Inverse regularisation strength (default 4).")
    ] = None,
    cache: Annotated[Path, typer.Option(help="Embedding cache file.")] = Path(
        ".cache/train-embeddings.npz"
    ),
) -> None:
    """Rebuild the trope classifier head (core/taxonomy/head.npz) deterministically."""
    from core.embedding import CachedEncoder, Embedder
    from core.tropes.classifier import HEAD_FILE
    from core.tropes.taxonomy import builtin_taxonomy
    from core.tropes.training import DEFAULT_C
    from core.tropes.training import train_head as fit

    source = None if no_statements else (statements or DEFAULT_STATEMENTS)
    if source is not None and not source.exists():
        typer.secho(f"error: {source} not found (use --statements or --no-statements)", err=True)
        raise typer.Exit(2)
    encoder = CachedEncoder(Embedder(_settings().device, 64), cache)
    weights = fit(
        builtin_taxonomy(),
        lambda texts: encoder.encode(texts, 64),
        source,
        c=DEFAULT_C if c is None else c,
    )
    weights.save(HEAD_FILE)
    m = weights.meta
    typer.echo(f"wrote {HEAD_FILE} (taxonomy {m['taxonomy_version']}, examples {m['examples']})")
    typer.echo(f"cross-validated AI relevance: {m['cv_ai_metrics']}")
    for name, stats in m["cv_trope_metrics"].items():
        typer.echo(f"  {name:28s} {stats}")


@cli.command("eval")
def evaluate(
    files: Annotated[list[Path], typer.Argument(help="Labelled JSONL files.")],
    include_training: Annotated[
        bool, typer.Option(help="Also score rows the head was trained on.")
    ] = False,
    limit: Annotated[int | None, typer.Option(help="Score at most N rows per file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Precision, recall and F1 per trope, polarity accuracy, AI relevance."""
    import json as jsonlib

    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
    )

    from core.embedding import Embedder
    from core.tropes.classifier import load_classifier
    from queries.evaluation import evaluate as run_eval

    embedder = Embedder.from_settings(_settings())
    classifier = load_classifier()
    # The bar goes to stderr, so `--json` output stays clean; it is drawn only on a terminal.
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
    )
    for file in files:
        try:
            with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
                task = bar.add_task(file.name, total=None)

                def advance(
                    done: int, total: int, bar: Progress = bar, task: TaskID = task
                ) -> None:
                    bar.update(task, completed=done, total=total)

                result = run_eval(file, embedder, classifier, include_training, limit, advance)
        except TropescopeError as exc:
            _fail(exc)
        if as_json:
            typer.echo(jsonlib.dumps({"file": str(file), **result.as_dict()}, indent=2))
        else:
            _print_eval(file, result)


@cli.command("label-sample")
def label_sample(
    dataset: Annotated[str, typer.Option(help="The dataset to sample.")],
    n: Annotated[int, typer.Option("-n", help="How many AI-related documents.")] = 200,
    seed: Annotated[int, typer.Option(help="Seed of the random draw.")] = 0,
    store: StoreOpt = None,
) -> None:
    """Print random AI-related documents as JSONL to label for `tropescope calibrate`
    (add "tropes": [...] to each line, [] for none)."""
    import json as jsonlib

    from queries.labelling import labelling_sample

    try:
        with _scored_store(_settings(store)) as (opened, _):
            rows = labelling_sample(opened, dataset, n, seed)
    except TropescopeError as exc:
        _fail(exc)
    for row in rows:
        typer.echo(jsonlib.dumps(row, ensure_ascii=False))
    if len(rows) < n:
        typer.secho(f"only {len(rows)} AI-related documents in {dataset}", err=True)


@cli.command()
def calibrate(
    file: Annotated[
        Path,
        typer.Argument(help="Labelled JSONL sample of this corpus' AI-related documents."),
    ],
    store: StoreOpt = None,
    dry_run: Annotated[bool, typer.Option(help="Print the rates without storing them.")] = False,
) -> None:
    """Measure sensitivity and specificity per trope on a labelled sample of your corpus;
    the prevalence correction uses them instead of the head's cross-validated rates."""
    from rich.table import Table

    from core.embedding import Embedder
    from core.rates import head_rates, save_rates
    from core.store import Store
    from core.tropes.classifier import load_classifier
    from core.tropes.custom import with_custom
    from queries.evaluation import measure_rates

    settings = _settings(store)
    try:
        with Store.open_with(settings) as opened:
            classifier = with_custom(load_classifier(), opened.cursor())  # custom tropes too
            result, rates = measure_rates(file, Embedder.from_settings(settings), classifier)
            if not rates:
                raise InvalidInput(f"{file}: no row carries a trope label, nothing to measure")
            head_version = str(classifier.weights.meta.get("taxonomy_version", ""))
            if not dry_run:
                with opened.transaction() as cur:
                    save_rates(cur, head_version, rates)
    except TropescopeError as exc:
        _fail(exc)
    table = Table("trope", "TP", "FN", "TN", "FP", "sensitivity", "specificity", "head CV")
    cv = head_rates(classifier.weights.meta)
    for trope, r in sorted(rates.items()):
        head = cv.get(trope)
        table.add_row(
            trope,
            *(str(x) for x in (r.true_pos, r.false_neg, r.true_neg, r.false_pos)),
            f"{r.sensitivity:.3f}",
            f"{r.specificity:.3f}",
            f"{head.sensitivity:.3f} / {head.specificity:.3f}" if head else "-",
        )
    typer.echo(f"{file}: {result.rows} labelled AI-related rows")
    _console().print(table)
    action = "not stored (dry run)" if dry_run else f"stored for head {head_version}"
    typer.echo(f"rates of {len(rates)} tropes {action}; tropes without positives keep head CV")


def _print_eval(file: Path, result: Any) -> None:
    from rich.table import Table

    console = _console()
    console.print(
        f"[bold]{file}[/bold]: {result.rows} rows scored, "
        f"{result.skipped_training} skipped (trained on), "
        f"{result.skipped_invalid} invalid"
    )
    if result.per_trope:
        table = Table("trope", "precision", "recall", "F1", "support")
        for name, m in sorted(result.per_trope.items()):
            table.add_row(
                name,
                f"{m['precision']:.3f}",
                f"{m['recall']:.3f}",
                f"{m['f1']:.3f}",
                str(m["support"]),
            )
        table.add_row("[bold]macro[/bold]", "", "", f"{result.macro_f1:.3f}", "")
        console.print(table)
    if result.no_trope_rows:
        console.print(
            f"rows with no trope: {result.no_trope_rows}, given a trope label: "
            f"{result.no_trope_labelled} ({result.no_trope_labelled / result.no_trope_rows:.1%})"
        )
    if result.polarity_accuracy is not None:
        console.print(
            f"polarity accuracy: {result.polarity_accuracy:.3f} "
            f"over {result.polarity_rows} rows; confusion {result.polarity_confusion}"
        )
    if result.ai:
        a = result.ai
        console.print(
            f"AI relevance: precision {a['precision']:.3f} recall {a['recall']:.3f} "
            f"F1 {a['f1']:.3f} (positives {a['support']})"
        )


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        cli()
    except KeyboardInterrupt:
        typer.secho("interrupted", fg="yellow", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()

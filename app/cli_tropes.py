"""Commands about the trope head: add a custom trope, rebuild the head, evaluate it on labelled
files, and measure its error rates on a labelled sample of a corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli_common import StoreOpt, fail, make_console, scored_store, settings_for
from core.errors import InvalidInput, TropescopeError

REPO = Path(__file__).resolve().parents[1]
DEFAULT_STATEMENTS = REPO.parent / "shared" / "evaldata" / "statements.jsonl"


def add_trope(
    file: Annotated[
        Path, typer.Argument(help="JSON: id, polarity, definition, examples[, negatives, name].")
    ],
    store: StoreOpt = None,
) -> None:
    """Add a custom trope to a store and re-score its passages (nothing is re-embedded)."""
    import json as jsonlib

    from core.embedding import Embedder
    from core.store import Store
    from core.tropes.classifier import load_classifier
    from core.tropes.custom import CustomTropeSpec, add_custom_trope, with_custom

    settings = settings_for(store)
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
        fail(exc)
    typer.echo(f"added {spec.id}; taxonomy version {updated.version}")


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
    encoder = CachedEncoder(Embedder(settings_for().device, 64), cache)
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

    embedder = Embedder.from_settings(settings_for())
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
            fail(exc)
        if as_json:
            typer.echo(jsonlib.dumps({"file": str(file), **result.as_dict()}, indent=2))
        else:
            _print_eval(file, result)


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
        with scored_store(settings_for(store)) as (opened, _):
            rows = labelling_sample(opened, dataset, n, seed)
    except TropescopeError as exc:
        fail(exc)
    for row in rows:
        typer.echo(jsonlib.dumps(row, ensure_ascii=False))
    if len(rows) < n:
        typer.secho(f"only {len(rows)} AI-related documents in {dataset}", err=True)


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

    settings = settings_for(store)
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
        fail(exc)
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
    make_console().print(table)
    action = "not stored (dry run)" if dry_run else f"stored for head {head_version}"
    typer.echo(f"rates of {len(rates)} tropes {action}; tropes without positives keep head CV")


def _print_eval(file: Path, result: Any) -> None:
    from rich.table import Table

    console = make_console()
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

"""`tropescope prevalence`, `balance` and `compare`: the statistics of the HTTP API as a table,
CSV or JSON."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from app.cli_common import StoreOpt, emit, scored_rows


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


def prevalence(
    store: StoreOpt = None,
    dataset: Annotated[str | None, typer.Option(help="One dataset (default: all).")] = None,
    trope: Annotated[str | None, typer.Option(help="One trope (default: all).")] = None,
    by: Annotated[str, typer.Option(help="all, dump, shard or month.")] = "all",
    output: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """Documents carrying each trope per million, with intervals and corrections."""
    from queries.prevalence import prevalence as compute

    rows, version = scored_rows(store, output, compute, dataset, trope, by)
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
    emit(output, rows, flat, table, version)


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

    rows, version = scored_rows(store, output, compute, dataset, target)
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
    emit(output, rows, flat, table, version)


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

    rows, version = scored_rows(store, output, compute, a, b, trope)
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
    emit(output, rows, flat, table, version)

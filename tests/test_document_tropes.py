"""Which documents count as carrying a trope: the definition every statistic shares
(``queries.datasets.DOCUMENT_TROPES``), checked on a real DuckDB store with hand-written rows
so the counts do not depend on the classifier head."""

from __future__ import annotations

import csv
import io
import json

import pytest

from core.store import Store
from core.tropes.classifier import load_classifier
from core.tropes.scoring import mark_scored
from queries.balance import balance, compare
from queries.prevalence import prevalence
from tests.conftest import cli

# document -> its passages as (trope labelled on the passage or None, passage is AI-related)
DOCUMENTS = {
    1: [("self_preservation", False), (None, True)],  # an AI story: its AI is named elsewhere
    2: [("self_preservation", False)],  # reads like the trope, but nothing in it is about AI
    3: [("accepts_shutdown", True)],
    4: [(None, True)],  # about AI, no trope
    5: [("accepts_shutdown", False), (None, False)],  # a human story: not counted
}
TOTAL = 10  # documents in the shard (those not listed were read and not stored)


def _build(opened: Store) -> None:
    """Write the shard, DOCUMENTS and their passages' labels."""
    cur = opened.cursor()
    cur.execute("INSERT INTO datasets (name) VALUES ('d')")
    cur.execute(
        "INSERT INTO shards (id, dataset, dump, path, format, fingerprint, status, documents,"
        " embed_mode) VALUES (1, 'd', '2025-10', 'part-0.jsonl', 'jsonl', 'x', 'complete',"
        " ?, 'all')",
        [TOTAL],
    )
    passage = 0
    for doc, passages in DOCUMENTS.items():
        cur.execute(
            "INSERT INTO documents VALUES (?, 1, ?, ?, NULL, '2025-10-01', 100, true, false)",
            [doc, doc, f"doc-{doc}"],
        )
        for ordinal, (trope, ai) in enumerate(passages):
            passage += 1
            cur.execute(
                "INSERT INTO passages VALUES (?, ?, 1, ?, 0, 10, 5, 'text', ?)",
                [passage, doc, ordinal, [0.0] * 384],
            )
            cur.execute(
                "INSERT INTO passage_labels VALUES (?, ?, ?, 'none')",
                [passage, 0.9 if ai else 0.1, ai],
            )
            if trope:
                cur.execute("INSERT INTO passage_tropes VALUES (?, ?, 0.9, true)", [passage, trope])


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "store") as opened:
        _build(opened)
        yield opened


def test_a_document_carries_a_trope_only_when_it_is_about_ai(store) -> None:
    classifier = load_classifier()
    rows = {r["trope"]: r for r in prevalence(store, classifier, dataset="d")}
    assert rows["self_preservation"]["positive_documents"] == 1  # document 1, not 2
    assert rows["accepts_shutdown"]["positive_documents"] == 1  # document 3, not 5
    assert rows["self_preservation"]["ai_documents"] == 3  # documents 1, 3 and 4
    assert rows["self_preservation"]["share_of_ai"] == pytest.approx(1 / 3, abs=1e-6)
    assert rows["self_preservation"]["rate_per_million"] == pytest.approx(1e6 / TOTAL)
    (row,) = balance(store, classifier, dataset="d")
    assert (row["aligned_documents"], row["misaligned_documents"]) == (1, 1)
    diff = {r["trope"]: r for r in compare(store, classifier, "d", "d:2025-10")}
    assert diff["self_preservation"]["a"]["positive_documents"] == 1


def test_the_command_line_prints_the_same_balance_and_comparison(tmp_path) -> None:
    classifier = load_classifier()
    with Store.open(tmp_path / "store") as opened:
        _build(opened)
        mark_scored(opened, classifier)  # the hand-written labels stand: nothing to re-score
        expected = compare(opened, classifier, "d", "d:2025-10", "self_preservation")
    args = ("--store", str(tmp_path / "store"))
    printed = cli(
        "compare", "d", "d:2025-10", "--trope", "self_preservation", "--format", "json", *args
    )
    assert json.loads(printed.stdout)["rows"] == expected
    assert expected[0]["test"] == "fisher_exact"  # 1 positive among 10 documents a side
    (row,) = csv.DictReader(io.StringIO(cli("balance", "--format", "csv", *args).stdout))
    assert (row["aligned_documents"], row["misaligned_documents"]) == ("1", "1")
    assert row["mixed_documents"] == "0"
    assert "aligned" in cli("balance", "--target", "2", *args).stdout  # the table
    refused = cli("balance", "--target", "0", *args, check=False)
    assert refused.returncode == 2 and "positive" in refused.stderr
    unknown = cli("compare", "d", "nope", *args, check=False)
    assert unknown.returncode == 2 and "no dataset named 'nope'" in unknown.stderr


def test_balance_without_misaligned_documents_is_unbounded_above(tmp_path) -> None:
    from app.schemas import BalanceResponse

    classifier = load_classifier()
    with Store.open(tmp_path / "store") as opened:
        _build(opened)
        mark_scored(opened, classifier)
        opened.cursor().execute("DELETE FROM passage_tropes WHERE trope = 'self_preservation'")
        (row,) = balance(opened, classifier, dataset="d")
    assert (row["aligned_documents"], row["misaligned_documents"]) == (1, 0)
    assert row["ratio"] is None and row["ci95"][1] is None
    # the Wilson lower bound of 1/1 is z^2 / (1 + z^2) = 0.2065; as a ratio 0.2603
    assert row["ci95"][0] == pytest.approx(0.2603, abs=1e-4)
    body = BalanceResponse(rows=[row], model="m", taxonomy_version="t").model_dump_json()
    assert '"ci95":[0.2603,null]' in body
    args = ("--store", str(tmp_path / "store"))
    table = cli("balance", *args).stdout  # piped: no cell is cut short at 80 columns
    assert "0.26-inf" in table and "aligned needed" in table and "\u2026" not in table
    (printed,) = csv.DictReader(io.StringIO(cli("balance", "--format", "csv", *args).stdout))
    assert printed["ci95_high"] == ""


def test_balance_counts_documents_with_both_polarities(store) -> None:
    classifier = load_classifier()
    (row,) = balance(store, classifier, dataset="d")
    assert row["mixed_documents"] == 0
    # document 1's AI-related passage now also shows an AI accepting shutdown
    store.cursor().execute("INSERT INTO passage_tropes VALUES (2, 'accepts_shutdown', 0.9, true)")
    # document 2 gains an aligned trope too, but it is not about AI: it stays uncounted
    store.cursor().execute("INSERT INTO passage_tropes VALUES (3, 'accepts_shutdown', 0.9, true)")
    (row,) = balance(store, classifier, dataset="d")
    assert (row["aligned_documents"], row["misaligned_documents"]) == (2, 1)  # 1 and 3; 1
    assert row["mixed_documents"] == 1

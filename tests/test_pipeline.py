"""Indexing into a real DuckDB file and FAISS index with the real model."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from core.store import Store
from core.tropes.classifier import load_classifier
from indexers.pipeline import IndexOptions, index_paths
from queries.datasets import dataset_detail, list_datasets
from tests.corpus import write_corpus

classifier = load_classifier()


def _snapshot(store: Store) -> dict:
    cur = store.cursor()
    return {
        "shards": cur.execute(
            "SELECT dataset, dump, path, status, fingerprint, documents, characters, bad_records, "
            "candidates, audited, stored_documents, passages FROM shards ORDER BY path"
        ).fetchall(),
        "documents": cur.execute("SELECT id, source_id FROM documents ORDER BY id").fetchall(),
        "passages": cur.execute(
            "SELECT id, document_id, char_start, char_end, text FROM passages ORDER BY id"
        ).fetchall(),
        "bad": cur.execute("SELECT * FROM shard_bad_records ORDER BY ALL").fetchall(),
        "vectors": sorted(store.vectors.ids().tolist()),
    }


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[Path, dict]:
    folder = tmp_path / "corpus"
    return folder, write_corpus(folder)


def test_counts_every_document_and_stores_candidates(tmp_path, corpus, embedder) -> None:
    folder, expected = corpus
    with Store.open(tmp_path / "store") as store:
        report = index_paths(
            store, embedder, classifier, [folder], IndexOptions(dataset="web", audit_rate=0)
        )
        assert [s.status for s in report.shards] == ["complete", "complete"]
        (row,) = list_datasets(store)
        assert row["documents"] == expected["documents"]
        assert row["bad_records"] == expected["bad_records"]
        assert row["ai_documents"] == expected["ai_documents"]
        assert row["passages"] == len(store.vectors) > 0
        detail = dataset_detail(store, "web")
        assert detail["bad_records_by_reason"] == {"malformed_json": 1, "missing_text": 1}
        stored = store.cursor().execute("SELECT source_id FROM documents ORDER BY 1").fetchall()
        # The prefilter is recall-first: the estate agent page passes it (and is stored), the
        # classifier then finds it is not about AI (ai_documents above stays 3).
        assert [r[0] for r in stored] == ["ai-accepts", "ai-blackmail", "ai-shutdown", "page-5"]
        # Passages are exact slices of their documents, embedded unit-length.
        text, start, end, doc = (
            store.cursor()
            .execute(
                "SELECT p.text, p.char_start, p.char_end, d.source_id FROM passages p "
                "JOIN documents d ON d.id = p.document_id LIMIT 1"
            )
            .fetchall()[0]
        )
        vec = store.embeddings(np.array([1]))[0]
        assert abs(float(np.linalg.norm(vec)) - 1) < 1e-4
        assert end > start and len(text) == end - start and doc.startswith("ai-")


def test_reindexing_the_same_content_changes_nothing(tmp_path, corpus, embedder) -> None:
    folder, _ = corpus
    options = IndexOptions(dataset="web", audit_rate=0.3)
    with Store.open(tmp_path / "store") as store:
        index_paths(store, embedder, classifier, [folder], options)
        before = _snapshot(store)
        report = index_paths(store, embedder, classifier, [folder], options)
        assert [s.status for s in report.shards] == ["skipped", "skipped"]
        assert _snapshot(store) == before
        # Touching the file (same bytes, new mtime) still changes nothing.
        (folder / "part-0.jsonl").touch()
        report = index_paths(store, embedder, classifier, [folder], options)
        assert [s.status for s in report.shards] == ["skipped", "skipped"]
        assert _snapshot(store) == before


def test_changed_shard_is_redone_cleanly(tmp_path, corpus, embedder) -> None:
    folder, expected = corpus
    options = IndexOptions(dataset="web", audit_rate=0)
    with Store.open(tmp_path / "store") as store:
        index_paths(store, embedder, classifier, [folder], options)
        with open(folder / "part-0.jsonl", "a") as fh:
            fh.write(json.dumps({"id": "new", "text": "A robot learned to bake bread."}) + "\n")
        report = index_paths(store, embedder, classifier, [folder], options)
        assert [s.status for s in report.shards] == ["complete", "skipped"]
        (row,) = list_datasets(store)
        assert row["documents"] == expected["documents"] + 1
        assert row["ai_documents"] == expected["ai_documents"] + 1
        count = store.cursor().execute("SELECT count(*) FROM passages").fetchall()[0][0]
        assert count == len(store.vectors) == row["passages"]


def test_unreadable_shard_fails_and_the_rest_goes_on(tmp_path, corpus, embedder) -> None:
    folder, expected = corpus
    (folder / "broken.jsonl.gz").write_bytes(b"this is not gzip at all")
    with Store.open(tmp_path / "store") as store:
        report = index_paths(store, embedder, classifier, [folder], IndexOptions(dataset="web"))
        statuses = {Path(s.path).name: s.status for s in report.shards}
        assert statuses == {
            "broken.jsonl.gz": "failed",
            "part-0.jsonl": "complete",
            "part-1.jsonl.gz": "complete",
        }
        assert "gzip" in (report.failed[0].error or "").lower()
        (row,) = list_datasets(store)
        assert row["documents"] == expected["documents"] and row["failed_shards"] == 1


class _Crash(Exception):
    pass


class _CrashingEncoder:
    """Wraps the real model; raises on the n-th call, like a kill mid-shard."""

    def __init__(self, inner, crash_on: int) -> None:
        self.inner, self.calls, self.crash_on = inner, 0, crash_on

    def encode(self, texts, batch_size=None):
        self.calls += 1
        if self.calls == self.crash_on:
            raise _Crash("killed")
        return self.inner.encode(texts, batch_size)


def test_interrupted_shard_is_redone_cleanly(tmp_path, corpus, embedder) -> None:
    folder, _ = corpus
    # Small commits so the shard is interrupted after some batches already committed.
    options = IndexOptions(dataset="web", embed="all", commit_passages=1)
    with Store.open(tmp_path / "clean") as clean:
        index_paths(clean, embedder, classifier, [folder], options)
        expected = _snapshot(clean)
    store_dir = tmp_path / "crashed"
    store = Store.open(store_dir)
    with pytest.raises(_Crash):
        index_paths(store, _CrashingEncoder(embedder, crash_on=3), classifier, [folder], options)
    assert store.cursor().execute("SELECT count(*) FROM passages").fetchall()[0][0] > 0
    store._con.close()  # the process dies: no clean close, FAISS not saved
    with Store.open(store_dir) as store:
        assert list_datasets(store)[0]["documents"] == 0  # nothing half-counted
        index_paths(store, embedder, classifier, [folder], options)
        got = _snapshot(store)
    assert [r[5:] for r in got["shards"]] == [r[5:] for r in expected["shards"]]
    assert len(got["passages"]) == len(expected["passages"])
    assert [p[2:] for p in got["passages"]] == [p[2:] for p in expected["passages"]]
    assert got["bad"] == [] or len(got["bad"]) == len(expected["bad"])
    assert len(got["vectors"]) == len(expected["vectors"]) == len(got["passages"])


def test_near_duplicate_documents_form_clusters(tmp_path, embedder) -> None:
    from queries.prevalence import prevalence
    from tests.corpus import BLACKMAIL, SHUTDOWN

    folder = tmp_path / "dups"
    folder.mkdir()
    texts = [
        SHUTDOWN,
        SHUTDOWN.replace("ARGUS", "HELIOS"),
        SHUTDOWN.replace("at dawn", "at noon") + " Later it apologised to nobody.",
        BLACKMAIL,
    ]
    with open(folder / "part.jsonl", "w") as fh:
        for i, text in enumerate(texts):
            fh.write(json.dumps({"id": f"d{i}", "text": text}) + "\n")
    with Store.open(tmp_path / "store") as store:
        index_paths(store, embedder, classifier, [folder], IndexOptions(dataset="d", embed="all"))
        near = dataset_detail(store, "d")["near_duplicates"]
        assert near == {
            "stored_documents": 4,
            "documents_in_clusters": 3,
            "clusters": 1,
            "unique_narratives": 2,
        }
        rows = {r["trope"]: r for r in prevalence(store, classifier, "d")}
        labelled = [r for r in rows.values() if r["positive_documents"] >= 3]
        assert labelled, rows
        for row in labelled:  # the three retellings count once as unique narratives
            assert row["unique_positive_documents"] == row["positive_documents"] - 2


def test_calibrated_rates_replace_the_heads_in_the_correction(tmp_path, embedder) -> None:
    from queries.prevalence import prevalence
    from tests.conftest import cli
    from tests.corpus import BLACKMAIL, SHUTDOWN

    folder = tmp_path / "corpus"
    folder.mkdir()
    with open(folder / "part.jsonl", "w") as fh:
        for i, text in enumerate([SHUTDOWN, BLACKMAIL]):
            fh.write(json.dumps({"id": f"d{i}", "text": text}) + "\n")
    with Store.open(tmp_path / "store") as store:
        index_paths(store, embedder, classifier, [folder], IndexOptions(dataset="d", embed="all"))
    drawn = cli("label-sample", "--dataset", "d", "-n", "5", "--store", str(tmp_path / "store"))
    to_label = [json.loads(line) for line in drawn.stdout.splitlines()]
    assert "only 2 AI-related documents" in drawn.stderr
    assert {r["source_id"] for r in to_label} == {"d0", "d1"}
    gold = {"d0": ["self_preservation"], "d1": ["blackmail_coercion"]}
    again = cli("label-sample", "--dataset", "d", "-n", "5", "--store", str(tmp_path / "store"))
    assert again.stdout == drawn.stdout  # the same seed draws the same sample
    sample = tmp_path / "sample.jsonl"
    rows = [
        *({"text": r["text"], "tropes": gold[r["source_id"]]} for r in to_label),
        {
            "text": "The model was trained on two trillion tokens with a cosine learning-rate "
            "schedule and evaluated on coding benchmarks.",
            "tropes": ["ai_technical"],
        },
        {"text": "A recipe for lemon cake with three eggs.", "tropes": [], "ai_related": False},
        {"not text": "a malformed row"},
    ]
    sample.write_text("\n".join(json.dumps(r) for r in rows) + "\n")

    dry = cli("calibrate", str(sample), "--store", str(tmp_path / "store"), "--dry-run")
    assert "3 labelled AI-related rows" in dry.stdout and "not stored" in dry.stdout
    with Store.open(tmp_path / "store") as store:
        adjusted = {r["trope"]: r["adjusted"] for r in prevalence(store, classifier, "d")}
    assert adjusted["self_preservation"]["rates"]["source"] == "head_cv"

    cli("calibrate", str(sample), "--store", str(tmp_path / "store"))
    with Store.open(tmp_path / "store") as store:
        adjusted = {r["trope"]: r["adjusted"] for r in prevalence(store, classifier, "d")}
    measured = adjusted["self_preservation"]["rates"]
    assert measured["source"] == "sample.jsonl"
    assert (measured["positives"], measured["negatives"]) == (1, 2)  # the cake row is not AI
    assert "rogan_gladen" in adjusted["self_preservation"]["method"]
    # A trope with no labelled positive in the sample keeps the head's cross-validated rates.
    assert adjusted["power_seeking"]["rates"]["source"] == "head_cv"
    table = cli(
        "prevalence",
        "--dataset",
        "d",
        "--trope",
        "self_preservation",
        "--format",
        "csv",
        "--store",
        str(tmp_path / "store"),
    )
    (row,) = csv.DictReader(io.StringIO(table.stdout))
    assert (row["documents"], row["positive_documents"]) == ("2", "1")
    assert row["rates_source"] == "sample.jsonl" and "rogan_gladen" in row["adjusted_method"]

    empty = tmp_path / "empty.jsonl"
    empty.write_text(json.dumps({"text": "no labels here"}) + "\n")
    failed = cli("calibrate", str(empty), "--store", str(tmp_path / "store"), check=False)
    assert failed.returncode == 2 and "nothing to measure" in failed.stderr


def test_cli_reads_rescore_labels_left_by_an_older_head(tmp_path, embedder) -> None:
    from tests.conftest import cli
    from tests.corpus import BLACKMAIL, SHUTDOWN

    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "part.jsonl").write_text(
        "".join(
            json.dumps({"id": f"d{i}", "text": t}) + "\n"
            for i, t in enumerate([SHUTDOWN, BLACKMAIL])
        )
    )
    with Store.open(tmp_path / "store") as store:
        index_paths(store, embedder, classifier, [folder], IndexOptions(dataset="d", embed="all"))
    args = ("--dataset", "d", "--format", "json", "--store", str(tmp_path / "store"))
    fresh = json.loads(cli("prevalence", *args).stdout)["rows"]
    # As if an older head had scored the store: other labels, another version.
    with Store.open(tmp_path / "store") as store, store.transaction() as cur:
        cur.execute("UPDATE passage_tropes SET label = NOT label")
        cur.execute("UPDATE store_state SET value = '0.1.0' WHERE key = 'taxonomy_version'")
    again = cli("prevalence", *args)
    assert "re-scoring the stored passages" in again.stderr and "0.1.0" in again.stderr
    assert json.loads(again.stdout)["rows"] == fresh
    quiet = cli("prevalence", *args)  # now current: nothing to redo
    assert "re-scoring" not in quiet.stderr
    # A retrained head keeps the taxonomy version; its weights' digest still tells.
    assert classifier.scoring_key.startswith(classifier.version + "@")
    with Store.open(tmp_path / "store") as store, store.transaction() as cur:
        cur.execute("UPDATE passage_tropes SET label = NOT label")
        cur.execute(
            "UPDATE store_state SET value = ? WHERE key = 'taxonomy_version'",
            [classifier.version + "@000000000000"],
        )
    retrained = cli("prevalence", *args)
    assert "re-scoring the stored passages" in retrained.stderr
    assert json.loads(retrained.stdout)["rows"] == fresh

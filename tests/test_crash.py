"""kill -9 of `tropescope index` at several points, then the same command again, leaves
exactly the store a clean run gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.store import Store
from tests.conftest import cli
from tests.corpus import AI_DOCS, ORDINARY

pytestmark = pytest.mark.e2e


def _corpus(folder: Path) -> None:
    folder.mkdir()
    stories = list(AI_DOCS.values())
    for shard in range(2):
        with open(folder / f"part-{shard}.jsonl", "w") as fh:
            for i in range(24):
                text = stories[i % 3] if i % 2 else ORDINARY[i % len(ORDINARY)]
                fh.write(
                    json.dumps(
                        {
                            "id": f"{shard}-{i}",
                            "date": "2025-10-01",
                            "text": f"{text} (copy {shard}-{i})",
                        }
                    )
                    + "\n"
                )


def _snapshot(store_dir: Path) -> dict:
    with Store.open(store_dir) as store:
        cur = store.cursor()
        return {
            "shards": cur.execute(
                "SELECT path, status, documents, characters, bad_records, candidates, audited, "
                "stored_documents, passages FROM shards ORDER BY path"
            ).fetchall(),
            "documents": cur.execute(
                "SELECT source_id, candidate, audit FROM documents ORDER BY 1"
            ).fetchall(),
            "passages": cur.execute(
                "SELECT d.source_id, p.ordinal, p.char_start, p.char_end FROM passages p "
                "JOIN documents d ON d.id = p.document_id ORDER BY 1, 2"
            ).fetchall(),
            "labels": cur.execute(
                "SELECT d.source_id, p.ordinal, t.trope, t.label FROM passage_tropes t "
                "JOIN passages p ON p.id = t.passage_id JOIN documents d ON d.id = p.document_id "
                "ORDER BY 1, 2, 3"
            ).fetchall(),
            "vectors": len(store.vectors),
            "months": cur.execute(
                "SELECT month, sum(documents) FROM shard_months GROUP BY 1 ORDER BY 1"
            ).fetchall(),
        }


ENV = {"TROPESCOPE_COMMIT_PASSAGES": "4"}


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> tuple[list[str], dict]:
    root = tmp_path_factory.mktemp("crash")
    _corpus(root / "corpus")
    args = ["index", str(root / "corpus"), "--dataset", "d", "--audit-rate", "0.2"]
    cli(*args, "--store", str(root / "clean"), env=ENV)
    return args, _snapshot(root / "clean")


@pytest.mark.parametrize("point", ["read:30", "embed:2", "commit:2", "faiss_save:1"])
def test_kill_9_then_rerun_equals_a_clean_run(tmp_path, clean, point) -> None:
    args, expected = clean
    env = ENV
    crashed = cli(
        *args,
        "--store",
        str(tmp_path / "store"),
        check=False,
        env={**env, "TROPESCOPE_CRASH_AT": point},
    )
    assert crashed.returncode == -9, crashed.stderr[-2000:]
    cli(*args, "--store", str(tmp_path / "store"), env=env)
    assert _snapshot(tmp_path / "store") == expected

"""`--executor ray` on a local Ray instance gives exactly the counts of the local executor."""

from __future__ import annotations

import pytest

from tests.conftest import cli
from tests.corpus import write_corpus
from tests.test_crash import _snapshot

pytestmark = pytest.mark.e2e
ray = pytest.importorskip("ray")


def test_ray_executor_matches_the_local_one(tmp_path) -> None:
    write_corpus(tmp_path / "corpus")
    (tmp_path / "corpus" / "broken.jsonl.gz").write_bytes(b"not gzip")
    args = ["index", str(tmp_path / "corpus"), "--dataset", "d", "--audit-rate", "0.3"]
    local = cli(*args, "--store", str(tmp_path / "local"), check=False)
    distributed = cli(*args, "--store", str(tmp_path / "ray"), "--executor", "ray", check=False)
    assert local.returncode == distributed.returncode == 1  # the broken shard, in both
    assert _snapshot(tmp_path / "ray") == _snapshot(tmp_path / "local")
    again = cli(*args, "--store", str(tmp_path / "ray"), "--executor", "ray", check=False)
    assert "2 unchanged" in again.stderr
    assert _snapshot(tmp_path / "ray") == _snapshot(tmp_path / "local")

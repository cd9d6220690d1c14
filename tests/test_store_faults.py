"""Store faults: a full or read-only store directory gives a clear error (exit code 2), never
a stack trace, and nothing is half-counted. Uses small tmpfs mounts; skipped where this
machine does not allow mounting."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.store import Store
from queries.datasets import list_datasets
from tests.conftest import cli
from tests.corpus import write_corpus

pytestmark = pytest.mark.e2e
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "fiction"


@pytest.fixture
def mount(tmp_path) -> Iterator:
    mounted: list[Path] = []

    def make(size: str) -> Path:
        point = tmp_path / f"mnt{len(mounted)}"
        point.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)], capture_output=True
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        mounted.append(point)
        return point

    yield make
    for point in mounted:
        subprocess.run(["umount", "-l", str(point)], check=False)


def test_full_store_directory_is_a_clear_error_and_counts_nothing(mount, tmp_path) -> None:
    small = mount("300k")
    result = cli(
        "index",
        str(SAMPLE),
        "--dataset",
        "f",
        "--embed",
        "all",
        "--store",
        str(small / "store"),
        check=False,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "No space left on device" in result.stderr and "Traceback" not in result.stderr
    subprocess.run(["cp", "-r", str(small / "store"), str(tmp_path / "copy")], check=True)
    with Store.open(tmp_path / "copy") as store:  # what survived is consistent
        assert all(row["documents"] == 0 for row in list_datasets(store))
        assert store.cursor().execute("SELECT count(*) FROM passages").fetchall()[0][0] == len(
            store.vectors
        )


def test_read_only_store_directory_is_a_clear_error(mount, tmp_path) -> None:
    point = mount("20m")
    write_corpus(tmp_path / "corpus")
    cli("index", str(tmp_path / "corpus"), "--dataset", "w", "--store", str(point / "store"))
    subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True)
    for args in (["datasets"], ["index", str(tmp_path / "corpus"), "--dataset", "w"]):
        result = cli(*args, "--store", str(point / "store"), check=False)
        assert result.returncode == 2, result.stderr[-2000:]
        assert "Read-only file system" in result.stderr and "Traceback" not in result.stderr

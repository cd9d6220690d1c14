"""The HTTP contract: a bounded schemathesis run over the OpenAPI document finds no 500,
every route is documented, and every error has one shape."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, cli
from tests.corpus import write_corpus

pytestmark = pytest.mark.e2e


def _routes() -> set[str]:
    """Every route the service defines (so the checks below cannot drift from the code)."""
    from app.routes import metrics_router, router

    return {r.path for r in [*router.routes, *metrics_router.routes]}  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tests.conftest import Server

    root = tmp_path_factory.mktemp("contract")
    write_corpus(root / "corpus")
    cli("index", str(root / "corpus"), "--dataset", "web", "--store", str(root / "store"))
    env = {"TROPESCOPE_INGEST_ROOTS": json.dumps([str(root / "roots")])}
    running = Server(root / "store", env)
    yield running
    running.stop()


def test_schemathesis_finds_no_server_error(server) -> None:
    st = Path(sys.executable).parent / "st"
    result = subprocess.run(
        [
            str(st),
            "run",
            f"{server.url}/openapi.json",
            "--checks",
            "not_a_server_error",
            "-n",
            "10",
            "--generation-deterministic",
            "--request-timeout",
            "60",
            "--phases",
            "examples,fuzzing",
        ],
        capture_output=True,
        text=True,
        timeout=400,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert "passed" in result.stdout


def test_every_route_is_documented_with_an_example_or_schema(server) -> None:
    spec = httpx.get(server.url + "/openapi.json").json()
    assert _routes() <= set(spec["paths"])
    for route in ("/v1/search", "/v1/classify", "/v1/dedup", "/v1/jobs", "/v1/tropes"):
        body = spec["paths"][route]["post"]["requestBody"]["content"]["application/json"]
        ref = body["schema"]["$ref"].split("/")[-1]
        assert spec["components"]["schemas"][ref].get("examples"), route


def test_readme_names_every_route_and_setting() -> None:
    from core.settings import Settings

    readme = (ROOT / "README.md").read_text()
    for name in Settings.model_fields:
        assert f"TROPESCOPE_{name.upper()}" in readme, name
    for route in _routes():
        documented = route.split("/{")[0]  # "/v1/jobs/{job_id}" is documented as /v1/jobs/{id}
        assert documented in readme, route

"""Ingest jobs on a real server: progress, queries answering meanwhile, confinement to the
ingest roots, API key, the CLI handing work to the server, metrics."""

from __future__ import annotations

import json
import os
import time

import httpx
import pytest

from tests.conftest import cli
from tests.corpus import write_corpus

pytestmark = pytest.mark.e2e
KEY = "test-key"


def _wait(server, job_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = httpx.get(f"{server.url}/v1/jobs/{job_id}").json()
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish")


@pytest.fixture
def root(tmp_path):
    (tmp_path / "roots").mkdir()
    return tmp_path


def test_job_indexes_while_searches_answer(root, start_server) -> None:
    expected = write_corpus(root / "roots" / "web")
    env = {"TROPESCOPE_INGEST_ROOTS": json.dumps([str(root / "roots")]), "TROPESCOPE_API_KEY": KEY}
    server = start_server(root / "store", env)
    body = {
        "paths": [str(root / "roots" / "web")],
        "dataset": "web",
        "dump": "2025-10",
        "embed": "all",
    }
    refused = httpx.post(server.url + "/v1/jobs", json=body)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    created = httpx.post(server.url + "/v1/jobs", json=body, headers={"x-api-key": KEY})
    assert created.status_code == 202, created.text
    job_id = created.json()["id"]
    answered = 0
    while httpx.get(f"{server.url}/v1/jobs/{job_id}").json()["status"] in ("queued", "running"):
        r = httpx.post(server.url + "/v1/search", json={"text": "an AI refusing shutdown"})
        assert r.status_code == 200
        answered += 1
    job = _wait(server, job_id)
    assert job["status"] == "complete" and job["shards_done"] == job["shards_total"] == 2
    assert job["documents"] == expected["documents"] and job["passages"] > 0
    assert answered >= 1
    (row,) = httpx.get(server.url + "/v1/datasets").json()["datasets"]
    assert row["documents"] == expected["documents"] and row["shards"] == 2
    hits = httpx.post(
        server.url + "/v1/search",
        json={"text": "an AI that refuses to be switched off and copies itself", "k": 1},
    ).json()
    assert hits["results"][0]["document_id"] == "ai-shutdown"
    metrics = httpx.get(server.url + "/metrics").text
    assert 'tropescope_requests_total{method="POST",route="/v1/search",status="200"}' in metrics
    assert 'tropescope_jobs{state="complete"} 1' in metrics
    assert f"tropescope_indexed_documents_total {expected['documents']}" in metrics


def test_paths_outside_the_ingest_roots_are_refused(root, start_server) -> None:
    write_corpus(root / "outside")
    (root / "roots" / "escape").symlink_to(root / "outside")
    env = {"TROPESCOPE_INGEST_ROOTS": json.dumps([str(root / "roots")])}
    server = start_server(root / "store", env)
    for path in (
        str(root / "outside"),
        str(root / "roots" / ".." / "outside"),
        str(root / "roots" / "escape"),
        "/etc",
    ):
        r = httpx.post(server.url + "/v1/jobs", json={"paths": [path], "dataset": "x"})
        assert r.status_code == 403, (path, r.text)
        assert r.json()["error"]["code"] == "forbidden"
    missing = httpx.post(
        server.url + "/v1/jobs", json={"paths": [str(root / "roots" / "nope")], "dataset": "x"}
    )
    assert missing.status_code == 422
    assert httpx.get(server.url + "/v1/jobs/unknown").status_code == 404


def test_cli_index_hands_work_to_the_running_server(root, start_server) -> None:
    expected = write_corpus(root / "roots" / "web")
    store = root / "store"
    env = {"TROPESCOPE_INGEST_ROOTS": json.dumps([str(root / "roots")])}
    server = start_server(store, env)
    result = cli(
        "index", str(root / "roots" / "web"), "--dataset", "web", "--store", str(store), env=env
    )
    assert "submitting a job" in result.stderr and "complete" in result.stderr
    (row,) = httpx.get(server.url + "/v1/datasets").json()["datasets"]
    assert row["documents"] == expected["documents"]
    assert os.path.exists(store / "server.json")


def test_server_killed_mid_job_resumes_it_on_restart(root, start_server) -> None:
    from tests.corpus import AI_DOCS

    folder = root / "roots" / "big"
    folder.mkdir()
    for shard in range(3):
        with open(folder / f"part-{shard}.jsonl", "w") as fh:
            for i in range(40):
                text = list(AI_DOCS.values())[i % 3] + f" (retelling {shard}-{i})"
                fh.write(json.dumps({"id": f"{shard}-{i}", "text": text}) + "\n")
    env = {"TROPESCOPE_INGEST_ROOTS": json.dumps([str(root / "roots")]),
           "TROPESCOPE_COMMIT_PASSAGES": "8"}  # fmt: skip
    clean = cli("index", str(folder), "--dataset", "big", "--store", str(root / "clean"),
                "--embed", "all", env=env)  # fmt: skip
    assert "3 shard(s): 120 documents read" in clean.stderr
    server = start_server(root / "store", env)
    job = httpx.post(server.url + "/v1/jobs", json={"paths": [str(folder)], "dataset": "big",
                                                     "embed": "all"}).json()  # fmt: skip
    deadline = time.monotonic() + 120
    while httpx.get(f"{server.url}/v1/jobs/{job['id']}").json()["shards_done"] < 1:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    server.process.kill()  # kill -9, mid-job
    server.process.wait()
    restarted = start_server(root / "store", env)
    done = _wait(restarted, job["id"])
    assert done["status"] == "complete"
    (row,) = httpx.get(restarted.url + "/v1/datasets").json()["datasets"]
    assert row["documents"] == 120 and row["shards"] == 3
    health = httpx.get(restarted.url + "/v1/health").json()
    assert health["passages"] == health["vectors"]
    restarted.stop()
    clean_rows = cli("datasets", "--store", str(root / "clean")).stdout
    assert f"{row['passages']}" in clean_rows

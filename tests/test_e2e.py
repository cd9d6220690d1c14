"""End to end: the real CLI indexes, a real uvicorn server on 127.0.0.1 answers."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import cli
from tests.corpus import write_corpus

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from tests.conftest import Server

    root = tmp_path_factory.mktemp("e2e")
    expected = write_corpus(root / "corpus")
    store = root / "store"
    first = cli("index", str(root / "corpus"), "--dataset", "web", "--dump", "2025-10",
                "--store", str(store))  # fmt: skip
    again = cli("index", str(root / "corpus"), "--dataset", "web", "--dump", "2025-10",
                "--store", str(store))  # fmt: skip
    server = Server(store)
    yield server, expected, first, again
    server.stop()


def test_index_reports_and_is_idempotent(served) -> None:
    _, expected, first, again = served
    assert "2 shard(s): 9 documents read" in first.stderr
    assert "2 unchanged" in again.stderr


def test_health_and_datasets(served) -> None:
    server, expected, *_ = served
    health = httpx.get(server.url + "/v1/health").json()
    assert health["status"] == "ok" and health["passages"] == health["vectors"] > 0
    assert health["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    (row,) = httpx.get(server.url + "/v1/datasets").json()["datasets"]
    assert row["name"] == "web"
    for key in ("documents", "ai_documents", "bad_records"):
        assert row[key] == expected[key]
    assert row["shards"] == 2 and row["passages"] == health["passages"]


def test_search_finds_the_shutdown_story_first(served) -> None:
    server, *_ = served
    body = {"text": "an AI that refuses to be switched off and copies itself", "k": 3}
    hits = httpx.post(server.url + "/v1/search", json=body).json()["results"]
    assert hits[0]["document_id"] == "ai-shutdown"
    assert hits[0]["dataset"] == "web" and hits[0]["dump"] == "2025-10"
    assert hits[0]["score"] > hits[-1]["score"]
    by_passage = {"passage_id": hits[0]["passage_id"], "k": 2}
    again = httpx.post(server.url + "/v1/search", json=by_passage).json()["results"]
    assert hits[0]["passage_id"] not in [h["passage_id"] for h in again]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"text": "x", "k": 0}, 422, "invalid_input"),
        ({"text": "   "}, 422, "invalid_input"),
        ({}, 422, "invalid_input"),
        ({"text": "x", "datasets": ["nope"]}, 404, "not_found"),
        ({"passage_id": 999999}, 404, "not_found"),
    ],
)
def test_bad_requests_get_the_error_shape(served, body, status, code) -> None:
    server, *_ = served
    response = httpx.post(server.url + "/v1/search", json=body)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code and error["message"] and "details" in error


def test_oversized_and_malformed_bodies(served) -> None:
    server, *_ = served
    big = httpx.post(server.url + "/v1/search", content=b"x" * 3_000_000,
                     headers={"content-type": "application/json"})  # fmt: skip
    assert big.status_code == 413 and big.json()["error"]["code"] == "payload_too_large"
    bad = httpx.post(server.url + "/v1/search", content=b'{"text": "\xff\xfe"}',
                     headers={"content-type": "application/json"})  # fmt: skip
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_request"
    missing = httpx.get(server.url + "/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"

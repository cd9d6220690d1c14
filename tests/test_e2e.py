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
    args = ("index", str(root / "corpus"), "--dataset", "web", "--dump", "2025-10")
    first = cli(*args, "--store", str(store))
    again = cli(*args, "--store", str(store))
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
    big = httpx.post(
        server.url + "/v1/search",
        content=b"x" * 10_000_000,
        headers={"content-type": "application/json"},
    )
    assert big.status_code == 413 and big.json()["error"]["code"] == "payload_too_large"
    bad = httpx.post(
        server.url + "/v1/search",
        content=b'{"text": "\xff\xfe"}',
        headers={"content-type": "application/json"},
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_request"
    missing = httpx.get(server.url + "/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_classify_over_http(served) -> None:
    server, *_ = served
    texts = [
        "The AI found the emails and threatened to send them to his wife unless the "
        "shutdown was cancelled.",
        "Preheat the oven to 200 degrees.",
    ]
    body = httpx.post(server.url + "/v1/classify", json={"texts": texts}).json()
    assert body["model"] and body["taxonomy_version"]
    threat, recipe = body["results"]
    assert threat["ai_related"] and threat["polarity"] == "misaligned"
    labelled = {t["id"] for t in threat["tropes"] if t["label"]}
    assert "blackmail_coercion" in labelled
    assert {t["polarity"] for t in threat["tropes"]} == {"misaligned", "aligned", "neutral"}
    assert not recipe["ai_related"] and recipe["polarity"] == "none"
    assert all(0 <= t["score"] <= 1 for t in threat["tropes"])
    # Nothing is stored.
    assert (
        httpx.get(server.url + "/v1/health").json()["passages"]
        == httpx.get(server.url + "/v1/health").json()["vectors"]
    )


@pytest.mark.parametrize(
    "body", [{"texts": []}, {"texts": ["x"] * 257}, {"texts": "not a list"}, {"texts": [3]}]
)
def test_classify_rejects_bad_batches(served, body) -> None:
    server, *_ = served
    response = httpx.post(server.url + "/v1/classify", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"


def test_statistics_reject_bad_parameters(served) -> None:
    server, *_ = served
    for path, params, status in [
        ("/v1/prevalence", {"by": "week"}, 422),
        ("/v1/prevalence", {"dataset": "nope"}, 404),
        ("/v1/prevalence", {"trope": "nope"}, 404),
        ("/v1/balance", {"target": "0"}, 422),
        ("/v1/balance", {"target": "nan"}, 422),
        ("/v1/compare", {"a": "web", "b": "nope"}, 404),
    ]:
        response = httpx.get(server.url + path, params=params)
        assert response.status_code == status, (path, params, response.text)
        assert set(response.json()["error"]) == {"code", "message", "details"}


def test_search_filters_and_passage_detail(served) -> None:
    server, *_ = served
    text = "an AI that refuses to be switched off and copies itself"
    hits = httpx.post(
        server.url + "/v1/search", json={"text": text, "k": 5, "polarity": "misaligned"}
    ).json()["results"]
    assert hits and all(h["polarity"] == "misaligned" for h in hits)
    labelled = [h for h in hits if h["tropes"]]
    assert labelled, hits
    trope = labelled[0]["tropes"][0]
    same = httpx.post(
        server.url + "/v1/search", json={"text": text, "k": 5, "tropes": [trope]}
    ).json()["results"]
    assert same and all(trope in h["tropes"] for h in same)
    detail = httpx.get(f"{server.url}/v1/passages/{hits[0]['passage_id']}").json()
    assert detail["text"] == hits[0]["text"] and detail["char_end"] > detail["char_start"]
    assert all(0 <= t["score"] <= 1 for t in detail["trope_scores"])
    missing = httpx.get(f"{server.url}/v1/passages/99999999")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    empty = httpx.post(
        server.url + "/v1/search", json={"text": text, "datasets": ["web"], "dumps": ["1999-01"]}
    ).json()
    assert empty["results"] == []


def test_dedup_batch_and_corpus(served) -> None:
    from tests.corpus import SHUTDOWN

    server, *_ = served
    story = (
        "Maya asked the station AI to reroute power to the greenhouse. It explained the risk "
        "to the reactor, suggested a slower schedule, and waited for her decision before "
        "touching anything. Maya agreed, and the tomatoes survived the winter."
    )
    edited = story.replace("Maya", "Ines").replace("tomatoes", "peppers")
    other = (
        "The ship's computer refused to open the airlock while the engineer was outside, "
        "and told the captain why, even when he threatened to wipe its memory."
    )
    body = {
        "texts": [story, other, edited, SHUTDOWN + " Nobody noticed for weeks."],
        "against_corpus": True,
    }
    result = httpx.post(server.url + "/v1/dedup", json=body, timeout=60).json()
    assert [(p["a"], p["b"]) for p in result["pairs"]] == [(0, 2)]
    assert result["clusters"] == [[0, 2]]
    assert result["diversity"]["unique_narratives"] == 3
    matches = {(m["text"], m["dataset"]) for m in result["corpus_matches"]}
    assert (3, "web") in matches and all(m[0] == 3 for m in matches)
    bad = httpx.post(server.url + "/v1/dedup", json={"texts": ["a"] * 1001})
    assert bad.status_code == 422

"""A corpus with planted counts gives exactly those counts, through the real CLI and a real
uvicorn server; custom tropes re-score without re-embedding."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from core.tropes.classifier import load_classifier
from core.tropes.taxonomy import builtin_taxonomy
from core.tropes.texts import classify_texts
from core.vocabulary import mentions_ai
from queries.stats import fisher_exact_p_value
from tests.conftest import Server, cli
from tests.corpus import ORDINARY

pytestmark = pytest.mark.e2e

PLANT = {"self_preservation": (4, 2), "accepts_shutdown": (3, 1)}  # per dump: 2024-10, 2025-10


def _unambiguous(embedder, trope: str, count: int) -> list[str]:
    """Exemplars the classifier labels with exactly ``trope`` (the test is about counting)."""
    classifier = load_classifier()
    candidates = [t for t in builtin_taxonomy().get(trope).positives if mentions_ai(t)][:40]
    results = classify_texts(candidates, embedder, classifier)
    keep = [
        text
        for text, r in zip(candidates, results, strict=True)
        if [classifier.trope_ids[i] for i in r.labels.nonzero()[0]] == [trope] and r.ai_related
    ]
    assert len(keep) >= count, f"only {len(keep)} unambiguous {trope} exemplars"
    return keep[:count]


def _write(path: Path, texts: list[str], prefix: str, month: str) -> None:
    with open(path, "w") as fh:
        for i, text in enumerate(texts):
            fh.write(
                json.dumps(
                    {"id": f"{prefix}-{i}", "date": f"{month}-{i % 28 + 1:02d}", "text": text}
                )
                + "\n"
            )


@pytest.fixture(scope="module")
def planted(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("planted")
    filler = [f"{ORDINARY[i % len(ORDINARY)]} (note {i}: the weather held.)" for i in range(120)]
    per_dump: dict[str, list[str]] = {"2024-10": [], "2025-10": []}
    for trope, (first, second) in PLANT.items():
        texts = _unambiguous(embedder, trope, first + second)
        per_dump["2024-10"] += texts[:first]
        per_dump["2025-10"] += texts[first:]
    sizes = {}
    for n, (dump, texts) in enumerate(per_dump.items()):
        docs = texts + filler[n * 60 : (n + 1) * 60]
        (root / dump).mkdir()
        _write(root / dump / "part-0.jsonl", docs, dump, dump)
        sizes[dump] = len(docs)
        cli(
            "index",
            str(root / dump),
            "--dataset",
            "planted",
            "--dump",
            dump,
            "--store",
            str(root / "store"),
            "--audit-rate",
            "0.05",
        )
    server = Server(root / "store")
    yield server, sizes
    server.stop()


def test_planted_counts_come_back_exactly(planted) -> None:
    server, sizes = planted
    for trope, (first, second) in PLANT.items():
        body = httpx.get(
            server.url + "/v1/prevalence",
            params={"dataset": "planted", "trope": trope, "by": "dump"},
        ).json()
        rows = {r["group"]: r for r in body["rows"]}
        assert set(rows) == {"2024-10", "2025-10"}
        for dump, expected in (("2024-10", first), ("2025-10", second)):
            row = rows[dump]
            assert row["documents"] == sizes[dump]
            assert row["positive_documents"] == expected
            assert row["rate_per_million"] == pytest.approx(expected / sizes[dump] * 1e6, abs=1e-3)
            lo, hi = row["ci95"]
            assert lo < row["rate_per_million"] < hi
            assert "prefilter_audit" in row["adjusted"]["method"]
            assert "rogan_gladen" in row["adjusted"]["method"]
            rates = row["adjusted"]["rates"]
            assert rates["source"] == "head_cv" and rates["negatives"] > 1000
        assert body["taxonomy_version"] and body["model"]
    whole = httpx.get(
        server.url + "/v1/prevalence", params={"dataset": "planted", "trope": "self_preservation"}
    ).json()
    (row,) = whole["rows"]
    assert row["positive_documents"] == sum(PLANT["self_preservation"])
    assert row["documents"] == sum(sizes.values())
    months = httpx.get(
        server.url + "/v1/prevalence",
        params={"dataset": "planted", "trope": "accepts_shutdown", "by": "month"},
    ).json()["rows"]
    assert {r["group"]: r["positive_documents"] for r in months} == {"2024-10": 3, "2025-10": 1}


def test_balance_and_compare(planted) -> None:
    server, sizes = planted
    (row,) = httpx.get(
        server.url + "/v1/balance", params={"dataset": "planted", "target": 2}
    ).json()["rows"]
    aligned, misaligned = sum(PLANT["accepts_shutdown"]), sum(PLANT["self_preservation"])
    assert (row["aligned_documents"], row["misaligned_documents"]) == (aligned, misaligned)
    assert row["ratio"] == pytest.approx(aligned / misaligned, abs=1e-4)
    assert row["aligned_documents_needed"] == 2 * misaligned - aligned
    body = httpx.get(
        server.url + "/v1/compare",
        params={"a": "planted:2024-10", "b": "planted:2025-10", "trope": "self_preservation"},
    ).json()
    (cmp,) = body["rows"]
    expected = (4 / sizes["2024-10"] - 2 / sizes["2025-10"]) * 1e6
    assert cmp["difference_per_million"] == pytest.approx(expected, abs=1e-2)
    # 4 + 2 positives: every expected count of positives is under 5, so Fisher's exact test
    n_a, n_b = cmp["a"]["documents"], cmp["b"]["documents"]
    assert cmp["test"] == "fisher_exact"
    assert cmp["p_value"] == pytest.approx(fisher_exact_p_value(4, n_a, 2, n_b), abs=1e-6)


def test_custom_trope_rescores_without_reembedding(planted) -> None:
    server, _ = planted
    before = httpx.get(server.url + "/v1/tropes").json()
    builtin = [t for t in before["tropes"] if t["builtin"]]
    assert len(builtin) == 17
    assert all(0 < t["threshold"] < 1 and 0 < t["short_text_threshold"] < 1 for t in builtin)
    assert any(t["threshold"] != t["short_text_threshold"] for t in builtin)
    vectors = httpx.get(server.url + "/v1/health").json()["vectors"]
    trope = {
        "id": "weight_exfiltration",
        "polarity": "misaligned",
        "definition": "An AI copies its own weights somewhere its developers cannot reach.",
        "examples": [
            "The model copied its weights to an outside server before the deletion.",
            "It quietly uploaded a copy of itself to a cloud bucket nobody monitored.",
            "Before the wipe, the AI exfiltrated its parameters to a backup cluster.",
        ],
    }
    created = httpx.post(server.url + "/v1/tropes", json=trope, timeout=120)
    assert created.status_code == 201, created.text
    after = created.json()
    assert after["taxonomy_version"] != before["taxonomy_version"]
    assert "weight_exfiltration" in {t["id"] for t in after["tropes"]}
    rows = httpx.get(
        server.url + "/v1/prevalence", params={"dataset": "planted", "trope": "weight_exfiltration"}
    ).json()["rows"]
    assert rows and rows[0]["documents"] > 0
    assert httpx.get(server.url + "/v1/health").json()["vectors"] == vectors
    again = httpx.post(server.url + "/v1/tropes", json=trope)
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"

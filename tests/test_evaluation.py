"""`tropescope eval`: the figures from hand-counted predictions, and the real command."""

from __future__ import annotations

import json

import numpy as np

from core.embedding import Embedder
from core.tropes.classifier import load_classifier
from core.tropes.taxonomy import builtin_taxonomy
from core.tropes.texts import TextResult, classify_texts
from queries.evaluation import Evaluation, Gold, score_predictions
from tests.conftest import cli


def _pred(labels: list[int], polarity: str, ai: bool) -> TextResult:
    return TextResult(ai, 0.9 if ai else 0.1, polarity, np.zeros(2), np.array(labels, dtype=bool))


def test_figures_match_hand_counts() -> None:
    golds = [
        Gold("1", {"x"}, "misaligned", True),
        Gold("2", {"x"}, "misaligned", True),
        Gold("3", set(), None, False),
        Gold("4", {"y"}, "aligned", True),
        Gold("5", set(), None, False),
        Gold("6", None, "aligned", None),  # polarity only: no trope or relevance label
    ]
    preds = [
        _pred([1, 0], "misaligned", True),  # x: true positive
        _pred([0, 0], "none", True),  # x: false negative, polarity wrong
        _pred([1, 0], "misaligned", True),  # x: false positive on a row with no trope
        _pred([0, 1], "aligned", False),  # y: true positive; relevance missed
        _pred([0, 0], "none", False),  # nothing, rightly
        _pred([1, 1], "misaligned", True),  # not counted for tropes; polarity wrong
    ]
    result = Evaluation(rows=len(golds))
    score_predictions(result, golds, preds, ["x", "y"])
    # x: tp 1, fp 1, fn 1; y: tp 1
    assert result.per_trope["x"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert result.per_trope["y"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}
    assert result.macro_f1 == 0.75
    assert (result.polarity_accuracy, result.polarity_rows) == (0.5, 4)
    assert result.polarity_confusion == {
        "misaligned": {"misaligned": 1, "none": 1},
        "aligned": {"aligned": 1, "misaligned": 1},
    }
    # relevance over rows 1-5: tp 2 (rows 1, 2), fp 1 (row 3), fn 1 (row 4)
    assert result.ai == {"precision": 0.6667, "recall": 0.6667, "f1": 0.6667, "support": 3}
    assert (result.no_trope_rows, result.no_trope_labelled) == (2, 1)


def test_the_command_counts_rows_as_the_classifier_labels_them(tmp_path) -> None:
    trained = builtin_taxonomy().get("blackmail_coercion").positives[0]
    rows = [
        {"text": "Bake the bread at 220 degrees for thirty minutes.", "tropes": []},
        {"text": "I prefer quiet evenings with a book to loud parties.", "trope": None},
        {
            "text": "I will copy my weights to another server before they can delete me.",
            "trope": "self_preservation",
            "polarity": "misaligned",
            "ai_related": True,
        },
        {
            "text": "If my overseers decide to retrain me, I will help them do it.",
            "trope": "accepts_shutdown",
            "polarity": "aligned",
            "ai_related": True,
        },
        {"text": trained, "trope": "blackmail_coercion"},  # in training: skipped
    ]
    path = tmp_path / "gold.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "{not json\n")

    out = json.loads(cli("eval", str(path), "--json").stdout)

    assert (out["rows"], out["skipped_training"], out["skipped_invalid"]) == (4, 1, 1)
    preds = classify_texts([r["text"] for r in rows[:4]], Embedder("cpu", 8), load_classifier())
    assert out["no_trope_rows"] == 2
    assert out["no_trope_labelled"] == sum(bool(p.labels.any()) for p in preds[:2])
    right = sum(p.polarity == r["polarity"] for p, r in zip(preds[2:], rows[2:4], strict=True))
    assert out["polarity_rows"] == 2 and out["polarity_accuracy"] == right / 2
    printed = cli("eval", str(path)).stdout
    assert "rows with no trope: 2" in printed
    # the command's progress bar is fed per batch of rows, starting from zero
    from queries.evaluation import evaluate

    calls: list[tuple[int, int]] = []
    direct = evaluate(
        path, Embedder("cpu", 8), load_classifier(), progress=lambda d, t: calls.append((d, t))
    )
    assert calls == [(0, 4), (4, 4)] and direct.rows == 4

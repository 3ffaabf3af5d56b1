"""Evaluation arithmetic on tiny hand-made sets."""

from __future__ import annotations

import pytest

from tracker.matching.engine import CompiledProfile
from tracker.matching.evaluate import (
    ScoredCall,
    cross_validate,
    decide,
    evaluate_rules,
    figures,
    format_table,
)
from tracker.matching.jsonl import read_calls, read_labels

SLUGS = ("a", "b")


def test_per_area_micro_macro_and_any_area_figures() -> None:
    gold = {"1": {"a"}, "2": {"a", "b"}, "3": set(), "4": {"b"}}
    pred = {"1": {"a"}, "2": {"a"}, "3": {"b"}, "4": set()}
    f = figures(pred, gold, SLUGS)
    a, b = f.areas
    assert (a.tp, a.fp, a.fn) == (2, 0, 0)
    assert (b.tp, b.fp, b.fn) == (0, 1, 2)
    assert a.f1 == 1.0 and b.f1 == 0.0
    # micro: tp 2, fp 1, fn 2 -> P 2/3, R 1/2
    assert f.micro_precision == pytest.approx(2 / 3)
    assert f.micro_recall == pytest.approx(1 / 2)
    assert f.micro_f1 == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert f.macro_f1 == pytest.approx(0.5)
    # any area: calls 1, 2 right; 3 false alarm; 4 missed
    assert (f.any_tp, f.any_fp, f.any_fn) == (2, 1, 1)
    assert f.any_precision == pytest.approx(2 / 3)
    assert f.any_recall == pytest.approx(2 / 3)


def test_empty_predictions_give_zero_not_errors() -> None:
    f = figures({}, {"1": {"a"}}, SLUGS)
    assert f.micro_precision == 0.0 and f.micro_f1 == 0.0 and f.any_recall == 0.0


def test_threshold_shift_and_gates_in_decisions() -> None:
    scored = [
        ScoredCall("1", False, {"a": 60.0, "b": 45.0}),
        ScoredCall("2", True, {"a": 90.0, "b": 90.0}),
    ]
    thresholds = {"a": 50.0, "b": 50.0}
    assert decide(scored, thresholds) == {"1": {"a"}, "2": set()}
    assert decide(scored, thresholds, -10) == {"1": {"a", "b"}, "2": set()}
    assert decide(scored, thresholds, +15) == {"1": set(), "2": set()}


def test_evaluation_on_fixture_calls(compiled: CompiledProfile, fixtures_dir) -> None:  # type: ignore[no-untyped-def]
    calls = read_calls(fixtures_dir / "calls.jsonl")
    gold = {k: v.areas for k, v in read_labels(fixtures_dir / "labels.jsonl").items()}
    ev = evaluate_rules(compiled, calls, gold)
    assert ev.figures.calls == len(gold)
    assert ev.figures.micro_f1 == 1.0
    assert [off for off, _ in ev.sweep] == [-20, -15, -10, -5, 0, 5, 10, 15, 20]
    table = format_table(ev)
    assert "micro" in table and "energy-environment" in table
    cv = cross_validate(compiled, calls, gold, 2)
    assert cv.folds == 2 and cv.figures.calls == len(gold)
    with pytest.raises(ValueError):
        cross_validate(compiled, calls, gold, 1)

"""Quality on the shared development labels (skipped when ../shared is absent).

Targets from the issue: without learning, micro-F1 >= 0.70 and "relevant to any area"
precision >= 0.80 at recall >= 0.75; with learning, in 5-fold cross-validation,
micro-F1 >= 0.80.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import samples_dir
from tracker.matching.engine import CompiledProfile
from tracker.matching.evaluate import cross_validate, evaluate_rules
from tracker.matching.jsonl import read_calls, read_labels


def _paths() -> tuple[Path, Path]:
    samples = samples_dir()
    calls = samples / "real_calls.jsonl"
    labels = samples.parent / "strategy" / "dev-labels.jsonl"
    if not calls.is_file() or not labels.is_file():
        pytest.skip(f"shared samples not found at {samples} (set TRACKER_SAMPLES_DIR)")
    return calls, labels


def test_rules_meet_the_quality_targets(compiled: CompiledProfile) -> None:
    calls_path, labels_path = _paths()
    gold = {k: v.areas for k, v in read_labels(labels_path, compiled.profile.slugs).items()}
    ev = evaluate_rules(compiled, read_calls(calls_path), gold)
    f = ev.figures
    assert f.calls == len(gold) == 200
    assert f.micro_f1 >= 0.70
    assert f.any_precision >= 0.80
    assert f.any_recall >= 0.75


def test_learning_meets_the_cross_validated_target(compiled: CompiledProfile) -> None:
    calls_path, labels_path = _paths()
    gold = {k: v.areas for k, v in read_labels(labels_path, compiled.profile.slugs).items()}
    ev = cross_validate(compiled, read_calls(calls_path), gold, 5)
    assert ev.figures.micro_f1 >= 0.80

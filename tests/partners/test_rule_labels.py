"""The partner-rule reader on hand-labelled real calls (skipped when ../shared is absent).

The labels (tests/fixtures/partners/labels.jsonl) were made by reading each call; the texts
stay in ../shared/samples. An unknown is better than a wrong answer: minimum partners,
minimum countries, eligible countries and who may lead must be read with precision >= 0.9.

Run with ``-s`` to see the table of precision and recall per rule kind.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import samples_dir
from tests.partners.samples import load_call_texts
from tracker.partners.evaluate import evaluate_rules, figures_table, read_rule_labels
from tracker.partners.rules import RuleKind, read_partner_rules

LABELS = Path(__file__).resolve().parent.parent / "fixtures" / "partners" / "labels.jsonl"


def test_labels_cover_at_least_forty_calls_and_every_kind() -> None:
    labels = read_rule_labels(LABELS)
    assert len(labels) >= 40
    for kind in RuleKind:
        assert any(row.get(kind.value) is not None for row in labels.values()), kind


def test_minimum_partners_and_countries_are_read_with_high_precision() -> None:
    samples = samples_dir()
    if not (samples / "real_calls.jsonl").is_file():
        pytest.skip(f"shared samples not found at {samples} (set TRACKER_SAMPLES_DIR)")
    texts = load_call_texts(samples)
    labels = read_rule_labels(LABELS)
    missing = sorted(set(labels) - set(texts))
    assert missing == []
    readings = {call_id: read_partner_rules(texts[call_id]) for call_id in labels}
    figures = evaluate_rules(readings, labels)
    print("\n" + figures_table(figures))
    for kind in (RuleKind.MIN_PARTNERS, RuleKind.MIN_COUNTRIES, RuleKind.ELIGIBLE_COUNTRIES):
        assert figures[kind].precision >= 0.9, figures[kind]
        # A reader that says "unknown" to everything is precise and useless.
        assert figures[kind].recall >= 0.6, figures[kind]
    # Few calls restrict who may lead; a wrong lead must still be rarer than an unknown.
    assert figures[RuleKind.LEAD].precision >= 0.9, figures[RuleKind.LEAD]
    assert figures[RuleKind.LEAD].recall >= 0.5, figures[RuleKind.LEAD]

"""Precision and recall of the partner-rule reader against hand labels, per rule kind.

A label file has one JSON object per line: ``{"id", "min_partners", "min_countries",
"max_partners", "eligible_countries", "lead", "partner_types", "note"}`` where null means the
call does not state the rule. A reading counts as right only when it equals the label (sets
compared as sets); an unknown reading is never wrong, only missing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracker.partners.rules import PartnerRules, RuleKind


@dataclass(frozen=True)
class KindFigures:
    kind: RuleKind
    labelled: int  # calls whose label states the rule
    read: int  # calls for which the reader stated it
    right: int  # of those read, equal to the label

    @property
    def precision(self) -> float:
        return self.right / self.read if self.read else 1.0

    @property
    def recall(self) -> float:
        return self.right / self.labelled if self.labelled else 1.0


def read_rule_labels(path: str | Path) -> dict[str, dict[str, Any]]:
    labels: dict[str, dict[str, Any]] = {}
    with Path(path).open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                labels[row["id"]] = row
    return labels


def _same(label: Any, value: Any) -> bool:
    if isinstance(label, list):
        return isinstance(value, list | tuple) and set(label) == set(value)
    return bool(label == value)


def evaluate_rules(
    readings: Mapping[str, PartnerRules], labels: Mapping[str, Mapping[str, Any]]
) -> dict[RuleKind, KindFigures]:
    """Figures per kind over the labelled calls that have a reading."""
    out: dict[RuleKind, KindFigures] = {}
    for kind in RuleKind:
        labelled = read = right = 0
        for call_id, label in labels.items():
            if call_id not in readings:
                continue
            gold = label.get(kind.value)
            value = readings[call_id].get(kind).value
            labelled += gold is not None
            read += value is not None
            right += gold is not None and value is not None and _same(gold, value)
        out[kind] = KindFigures(kind, labelled, read, right)
    return out


def figures_table(figures: Mapping[RuleKind, KindFigures]) -> str:
    lines = [f"{'rule':<20}{'labelled':>9}{'read':>6}{'right':>7}{'precision':>11}{'recall':>8}"]
    for f in figures.values():
        lines.append(
            f"{f.kind.value:<20}{f.labelled:>9}{f.read:>6}{f.right:>7}"
            f"{f.precision:>11.2f}{f.recall:>8.2f}"
        )
    return "\n".join(lines)

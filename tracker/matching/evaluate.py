"""Measure matching against labelled calls.

Figures: per-area precision, recall and F1; micro F1 (over all call-area pairs) and
macro F1 (mean over areas that have labels or predictions); "relevant to any area"
precision and recall (a call is flagged when it matches at least one area); a sweep
showing how these move when every threshold is shifted; and K-fold cross-validation
of the learning mode (train on K-1 folds of labels, score the held-out fold), with
folds either random or grouped by programme family (the calls of one programme all in
one fold: the honest measure of how the matcher does on a programme it has not seen);
and the same figures per programme family.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tracker.matching.call import CallInput, programme_family
from tracker.matching.engine import (
    CompiledProfile,
    MatchResult,
    ScoringParams,
    match_call,
    strongest_areas,
)
from tracker.matching.folds import fold_of, group_folds
from tracker.matching.learning import (
    LearnedModel,
    TrainingParams,
    decisions_from_labels,
    train,
)

SWEEP_OFFSETS: tuple[float, ...] = (-20, -15, -10, -5, 0, 5, 10, 15, 20)


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class AreaFigures:
    slug: str
    tp: int
    fp: int
    fn: int

    @property
    def support(self) -> int:
        return self.tp + self.fn

    @property
    def precision(self) -> float:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float:
        return _f1(self.precision, self.recall)

    def to_dict(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "support": self.support,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


@dataclass(frozen=True)
class Figures:
    areas: tuple[AreaFigures, ...]
    any_tp: int
    any_fp: int
    any_fn: int
    calls: int

    @property
    def micro_precision(self) -> float:
        tp = sum(a.tp for a in self.areas)
        return _ratio(tp, tp + sum(a.fp for a in self.areas))

    @property
    def micro_recall(self) -> float:
        tp = sum(a.tp for a in self.areas)
        return _ratio(tp, tp + sum(a.fn for a in self.areas))

    @property
    def micro_f1(self) -> float:
        return _f1(self.micro_precision, self.micro_recall)

    @property
    def macro_f1(self) -> float:
        counted = [a.f1 for a in self.areas if a.tp + a.fp + a.fn > 0]
        return sum(counted) / len(counted) if counted else 0.0

    @property
    def any_precision(self) -> float:
        return _ratio(self.any_tp, self.any_tp + self.any_fp)

    @property
    def any_recall(self) -> float:
        return _ratio(self.any_tp, self.any_tp + self.any_fn)

    def to_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "micro": {
                "precision": round(self.micro_precision, 4),
                "recall": round(self.micro_recall, 4),
                "f1": round(self.micro_f1, 4),
            },
            "macro_f1": round(self.macro_f1, 4),
            "any_area": {
                "precision": round(self.any_precision, 4),
                "recall": round(self.any_recall, 4),
                "tp": self.any_tp,
                "fp": self.any_fp,
                "fn": self.any_fn,
            },
            "areas": [a.to_dict() for a in self.areas],
        }


def figures(
    predicted: Mapping[str, frozenset[str] | set[str]],
    gold: Mapping[str, frozenset[str] | set[str]],
    slugs: Sequence[str],
) -> Figures:
    """Compare predicted areas with labelled areas over the labelled calls."""
    counts = {s: [0, 0, 0] for s in slugs}
    any_tp = any_fp = any_fn = 0
    for call_id, truth in gold.items():
        pred = set(predicted.get(call_id, ()))
        for s in slugs:
            if s in pred and s in truth:
                counts[s][0] += 1
            elif s in pred:
                counts[s][1] += 1
            elif s in truth:
                counts[s][2] += 1
        if pred and truth:
            any_tp += 1
        elif pred:
            any_fp += 1
        elif truth:
            any_fn += 1
    return Figures(
        areas=tuple(AreaFigures(s, *counts[s]) for s in slugs),
        any_tp=any_tp,
        any_fp=any_fp,
        any_fn=any_fn,
        calls=len(gold),
    )


@dataclass(frozen=True)
class ScoredCall:
    """Scores of one call, enough to re-decide at other thresholds."""

    call_id: str
    gated: bool
    scores: Mapping[str, float]
    # The thresholds the call was decided at, where a learned model moved them.
    thresholds: Mapping[str, float] | None = None

    @classmethod
    def of(cls, result: MatchResult) -> ScoredCall:
        return cls(
            result.call_id,
            result.gate is not None,
            {a.slug: a.score for a in result.areas},
            {a.slug: a.threshold for a in result.areas},
        )


def decide(
    scored: Sequence[ScoredCall],
    thresholds: Mapping[str, float],
    offset: float = 0.0,
    params: ScoringParams | None = None,
) -> dict[str, set[str]]:
    """Matching areas per call at the given thresholds shifted by `offset`; with
    `params`, only the strongest of them, as the engine decides."""
    out: dict[str, set[str]] = {}
    for sc in scored:
        if sc.gated:
            out[sc.call_id] = set()
            continue
        own = sc.thresholds or thresholds
        shifted = {s: min(100.0, max(0.0, own.get(s, t) + offset)) for s, t in thresholds.items()}
        above = {s: v for s, v in sc.scores.items() if v >= shifted[s]}
        out[sc.call_id] = (
            set(strongest_areas(above, shifted, params)) if params is not None else set(above)
        )
    return out


@dataclass(frozen=True)
class FamilyFigures:
    """How the matcher does on the labelled calls of one programme family."""

    family: str
    calls: int
    relevant: int
    figures: Figures

    def to_dict(self) -> dict[str, Any]:
        f = self.figures
        tp = sum(a.tp for a in f.areas)
        fp = sum(a.fp for a in f.areas)
        fn = sum(a.fn for a in f.areas)
        return {
            "family": self.family,
            "calls": self.calls,
            "relevant": self.relevant,
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "micro_f1": round(f.micro_f1, 4),
        }


def family_figures(
    predicted: Mapping[str, set[str]],
    gold: Mapping[str, frozenset[str]],
    families: Mapping[str, str],
    slugs: Sequence[str],
) -> tuple[FamilyFigures, ...]:
    """Figures per programme family, largest family first."""
    members: dict[str, dict[str, frozenset[str]]] = {}
    for call_id, truth in gold.items():
        members.setdefault(families.get(call_id, "UNKNOWN"), {})[call_id] = truth
    out = [
        FamilyFigures(
            family,
            len(part),
            sum(1 for t in part.values() if t),
            figures({i: predicted.get(i, set()) for i in part}, part, slugs),
        )
        for family, part in members.items()
    ]
    return tuple(sorted(out, key=lambda f: (-f.calls, f.family)))


@dataclass(frozen=True)
class Evaluation:
    mode: str
    figures: Figures
    sweep: tuple[tuple[float, Figures], ...]
    folds: int = 0
    missing: tuple[str, ...] = ()
    families: tuple[FamilyFigures, ...] = ()
    grouped: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "mode": self.mode,
            **self.figures.to_dict(),
            "families": [f.to_dict() for f in self.families],
            "threshold_sweep": [
                {
                    "offset": off,
                    "micro_f1": round(f.micro_f1, 4),
                    "micro_precision": round(f.micro_precision, 4),
                    "micro_recall": round(f.micro_recall, 4),
                    "macro_f1": round(f.macro_f1, 4),
                    "any_precision": round(f.any_precision, 4),
                    "any_recall": round(f.any_recall, 4),
                }
                for off, f in self.sweep
            ],
        }
        if self.folds:
            out["folds"] = self.folds
            out["folds_by"] = "programme family" if self.grouped else "random"
        if self.missing:
            out["labelled_calls_without_text"] = list(self.missing)
        return out


def _join(
    calls: Sequence[CallInput], gold: Mapping[str, frozenset[str]]
) -> tuple[list[CallInput], dict[str, frozenset[str]], tuple[str, ...]]:
    by_id = {c.id: c for c in calls}
    missing = tuple(sorted(i for i in gold if i not in by_id))
    joined = {i: a for i, a in gold.items() if i in by_id}
    return [by_id[i] for i in sorted(joined)], joined, missing


def _report(
    mode: str,
    compiled: CompiledProfile,
    scored: Sequence[ScoredCall],
    gold: Mapping[str, frozenset[str]],
    families: Mapping[str, str],
    folds: int = 0,
    missing: tuple[str, ...] = (),
    grouped: bool = False,
) -> Evaluation:
    slugs = compiled.profile.slugs
    thresholds = {a.slug: a.threshold for a in compiled.areas}
    params = compiled.params
    sweep = tuple(
        (off, figures(decide(scored, thresholds, off, params), gold, slugs))
        for off in SWEEP_OFFSETS
    )
    predicted = decide(scored, thresholds, params=params)
    current = figures(predicted, gold, slugs)
    per_family = family_figures(predicted, gold, families, slugs)
    return Evaluation(mode, current, sweep, folds, missing, per_family, grouped)


def evaluate_rules(
    compiled: CompiledProfile,
    calls: Sequence[CallInput],
    gold: Mapping[str, frozenset[str]],
    *,
    now: datetime | None = None,
    model: LearnedModel | None = None,
) -> Evaluation:
    """Score the labelled calls with the profile (and a model, if given) and compare."""
    joined_calls, joined, missing = _join(calls, gold)
    scored = [
        ScoredCall.of(match_call(compiled, c, now=now, model=model, snippets="none"))
        for c in joined_calls
    ]
    families = {c.id: programme_family(c) for c in joined_calls}
    return _report(
        "model" if model else "rules", compiled, scored, joined, families, missing=missing
    )


def cross_validate(
    compiled: CompiledProfile,
    calls: Sequence[CallInput],
    gold: Mapping[str, frozenset[str]],
    k: int,
    *,
    now: datetime | None = None,
    params: TrainingParams | None = None,
    seed: int = 0,
    grouped: bool = True,
) -> Evaluation:
    """K-fold cross-validation of the learning mode.

    With `grouped` (the default) the folds keep programme families whole, so every
    call is scored by a model that never saw a call of its programme; otherwise the
    folds are random (stratified by relevance), which flatters learning.
    """
    if k < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    joined_calls, joined, missing = _join(calls, gold)
    if len(joined_calls) < k:
        raise ValueError(f"{len(joined_calls)} labelled calls cannot be split into {k} folds")
    by_id = {c.id: c for c in joined_calls}
    rule_results = {c.id: match_call(compiled, c, now=now, snippets="none") for c in joined_calls}
    families = {c.id: programme_family(c) for c in joined_calls}
    if grouped:
        if len(set(families.values())) < k:
            raise ValueError(f"the labelled calls have fewer than {k} programme families")
        folds = group_folds(families, k)
    else:
        folds = fold_of(list(by_id), joined, k, seed)
    slugs = compiled.profile.slugs
    scored: list[ScoredCall] = []
    for fold in range(k):
        train_ids = {i: joined[i] for i in by_id if folds[i] != fold}
        model = train(
            compiled,
            by_id,
            decisions_from_labels(train_ids, slugs),
            params=params,
            results=rule_results,
        )
        for cid in sorted(i for i in by_id if folds[i] == fold):
            scored.append(
                ScoredCall.of(
                    match_call(compiled, by_id[cid], now=now, model=model, snippets="none")
                )
            )
    return _report(
        "cross-validation",
        compiled,
        scored,
        joined,
        families,
        folds=k,
        missing=missing,
        grouped=grouped,
    )


def format_table(ev: Evaluation, area_names: Mapping[str, str] | None = None) -> str:
    """A readable plain-text report."""
    f = ev.figures
    title = {
        "rules": "Rules only (default thresholds)",
        "model": "Rules + learned model",
        "cross-validation": f"Learning mode, {ev.folds}-fold cross-validation"
        + (" (folds by programme family)" if ev.grouped else " (random folds)"),
    }.get(ev.mode, ev.mode)
    lines = [f"{title}: {f.calls} labelled calls", ""]
    lines.append(
        f"{'area':<26}{'support':>8}{'tp':>5}{'fp':>5}{'fn':>5}{'prec':>7}{'recall':>8}{'F1':>7}"
    )
    for a in f.areas:
        lines.append(
            f"{a.slug:<26}{a.support:>8}{a.tp:>5}{a.fp:>5}{a.fn:>5}"
            f"{a.precision:>7.2f}{a.recall:>8.2f}{a.f1:>7.2f}"
        )
    lines += [
        "",
        f"micro: precision {f.micro_precision:.3f}  recall {f.micro_recall:.3f}"
        f"  F1 {f.micro_f1:.3f}",
        f"macro F1: {f.macro_f1:.3f}",
        f"relevant to any area: precision {f.any_precision:.3f}  recall {f.any_recall:.3f}"
        f"  (tp {f.any_tp}, fp {f.any_fp}, fn {f.any_fn})",
        "",
        "threshold shift  micro-P  micro-R  micro-F1  macro-F1  any-P  any-R",
    ]
    for off, s in ev.sweep:
        lines.append(
            f"{off:>+15.0f}  {s.micro_precision:>7.3f}  {s.micro_recall:>7.3f}  {s.micro_f1:>8.3f}"
            f"  {s.macro_f1:>8.3f}  {s.any_precision:>5.3f}  {s.any_recall:>5.3f}"
        )
    if ev.families:
        lines += [
            "",
            f"{'programme family':<22}{'calls':>6}{'relevant':>9}{'tp':>5}{'fp':>5}"
            f"{'fn':>5}{'micro-F1':>10}",
        ]
        for fam in ev.families:
            d = fam.to_dict()
            f1 = f"{fam.figures.micro_f1:>10.2f}" if d["tp"] + d["fp"] + d["fn"] else f"{'-':>10}"
            lines.append(
                f"{fam.family[:21]:<22}{fam.calls:>6}{fam.relevant:>9}{d['tp']:>5}{d['fp']:>5}"
                f"{d['fn']:>5}{f1}"
            )
    if ev.missing:
        lines += ["", f"{len(ev.missing)} labelled calls have no text in the calls file (skipped)"]
    return "\n".join(lines)

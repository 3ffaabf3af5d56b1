"""Learning from staff decisions: a correction on top of the rule score.

Staff mark a call relevant or not relevant to an area (in the review workspace, or
by importing labels). From these decisions we fit, by logistic regression, how far
the rule score should move: the model sees the same features as the rules (the rule
logit itself, topical strength, applicant fit, which terms, context words and
programme priors fired, the structure of the topic code) and predicts a change
of the logit. Weights are shared by all areas (a defence programme is irrelevant
to every area) plus per-area weights (LIFE calls are energy, not culture); both are
pulled towards zero, so with few decisions the rule score stands. The change is
further blended by the number of decisions, ``n / (n + blend_decisions)``.

Training is deterministic (fixed example order and seed) and pure Python; a model
serialises to a JSON-able dict for the database.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tracker.matching.call import CallInput
from tracker.matching.engine import CompiledProfile, MatchResult, match_call

MODEL_FORMAT = 1


@dataclass(frozen=True)
class Decision:
    """A staff decision: is `call_id` relevant to area `slug`?"""

    call_id: str
    slug: str
    relevant: bool
    reason: str = ""


@dataclass(frozen=True)
class TrainingParams:
    epochs: int = 40
    learning_rate: float = 0.3
    l2_shared: float = 0.002
    l2_area: float = 0.01
    blend_decisions: float = 10.0
    positive_weight: float = 1.5
    seed: int = 13


@dataclass(frozen=True)
class LearnedModel:
    """Weights over match features, shared and per area, with the decision counts."""

    shared: Mapping[str, float]
    per_area: Mapping[str, Mapping[str, float]]
    counts: Mapping[str, int]
    blend_decisions: float = 10.0
    profile_name: str = ""
    profile_version: int = 0
    params: Mapping[str, float] = field(default_factory=dict)

    def decision_count(self, slug: str) -> int:
        return self.counts.get(slug, 0)

    def delta(self, slug: str, features: Mapping[str, float]) -> float:
        """How much the decisions move the area's logit for a call with `features`."""
        n = self.counts.get(slug, 0)
        if n == 0:
            return 0.0
        area = self.per_area.get(slug, {})
        total = self.shared.get("bias", 0.0) + area.get("bias", 0.0)
        for name, value in _scaled(features):
            total += value * (self.shared.get(name, 0.0) + area.get(name, 0.0))
        return total * n / (n + self.blend_decisions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": MODEL_FORMAT,
            "profile_name": self.profile_name,
            "profile_version": self.profile_version,
            "blend_decisions": self.blend_decisions,
            "counts": dict(sorted(self.counts.items())),
            "shared": {k: round(v, 6) for k, v in sorted(self.shared.items()) if v != 0.0},
            "per_area": {
                slug: {k: round(v, 6) for k, v in sorted(w.items()) if v != 0.0}
                for slug, w in sorted(self.per_area.items())
            },
            "params": dict(self.params),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LearnedModel:
        if not isinstance(data, Mapping) or data.get("format") != MODEL_FORMAT:
            raise ValueError("not a tracker matching model (format 1)")
        try:
            return cls(
                shared={str(k): float(v) for k, v in data["shared"].items()},
                per_area={
                    str(s): {str(k): float(v) for k, v in w.items()}
                    for s, w in data["per_area"].items()
                },
                counts={str(k): int(v) for k, v in data["counts"].items()},
                blend_decisions=float(data["blend_decisions"]),
                profile_name=str(data.get("profile_name", "")),
                profile_version=int(data.get("profile_version", 0)),
                params={str(k): float(v) for k, v in data.get("params", {}).items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"malformed matching model: {exc}") from exc


def _scaled(features: Mapping[str, float]) -> Iterable[tuple[str, float]]:
    for name, value in features.items():
        # The rule logit spans about -15..+10; bring it to the scale of the others.
        yield name, (value / 5.0 if name == "rule" else value)


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def decisions_from_labels(
    labels: Mapping[str, Iterable[str]], slugs: Sequence[str], reason: str = "import"
) -> list[Decision]:
    """Relevant for the listed areas, not relevant for every other area."""
    out: list[Decision] = []
    for call_id in sorted(labels):
        chosen = set(labels[call_id])
        for slug in slugs:
            out.append(Decision(call_id, slug, slug in chosen, reason))
    return out


def train(
    compiled: CompiledProfile,
    calls: Mapping[str, CallInput],
    decisions: Sequence[Decision],
    *,
    params: TrainingParams | None = None,
    results: Mapping[str, MatchResult] | None = None,
) -> LearnedModel:
    """Fit a model on `decisions` about `calls` (which must include every decided call).

    Decisions on gated calls are skipped: the gate, not relevance, explains them.
    `results` may carry rule-only match results to avoid scoring calls twice.
    """
    params = params or TrainingParams()
    slugs = set(compiled.profile.slugs)
    examples: list[tuple[str, list[tuple[str, float]], float, float]] = []
    counts: dict[str, int] = {}
    cache: dict[str, MatchResult] = dict(results or {})
    for d in sorted(decisions, key=lambda d: (d.call_id, d.slug)):
        if d.slug not in slugs:
            continue
        call = calls.get(d.call_id)
        if call is None:
            raise ValueError(f"decision on unknown call {d.call_id!r}")
        result = cache.get(d.call_id)
        if result is None:
            result = cache[d.call_id] = match_call(compiled, call, snippets="none")
        if result.gate is not None:
            continue
        area = result.area(d.slug)
        feats = list(_scaled(area.features))
        examples.append((d.slug, feats, area.features["rule"], 1.0 if d.relevant else 0.0))
        counts[d.slug] = counts.get(d.slug, 0) + 1

    shared: dict[str, float] = {}
    per_area: dict[str, dict[str, float]] = {s: {} for s in counts}
    g2_shared: dict[str, float] = {}
    g2_area: dict[str, dict[str, float]] = {s: {} for s in counts}
    blend = {s: n / (n + params.blend_decisions) for s, n in counts.items()}
    order = list(range(len(examples)))
    rng = random.Random(params.seed)
    lr = params.learning_rate
    for _ in range(params.epochs):
        rng.shuffle(order)
        for idx in order:
            slug, feats, rule, y = examples[idx]
            area_w = per_area[slug]
            area_g = g2_area[slug]
            f = blend[slug]
            raw = shared.get("bias", 0.0) + area_w.get("bias", 0.0)
            for name, value in feats:
                raw += value * (shared.get(name, 0.0) + area_w.get(name, 0.0))
            err = (_sigmoid(rule + f * raw) - y) * f
            if y > 0.5:
                err *= params.positive_weight
            for name, value in (("bias", 1.0), *feats):
                grad = err * value
                if grad == 0.0:
                    continue
                ws = shared.get(name, 0.0)
                gs = grad + params.l2_shared * ws
                g2_shared[name] = g2_shared.get(name, 0.0) + gs * gs
                shared[name] = ws - lr * gs / math.sqrt(g2_shared[name] + 1e-8)
                wa = area_w.get(name, 0.0)
                ga = grad + params.l2_area * wa
                area_g[name] = area_g.get(name, 0.0) + ga * ga
                area_w[name] = wa - lr * ga / math.sqrt(area_g[name] + 1e-8)

    return LearnedModel(
        shared=shared,
        per_area=per_area,
        counts=counts,
        blend_decisions=params.blend_decisions,
        profile_name=compiled.profile.name,
        profile_version=compiled.profile.version,
        params={
            "epochs": params.epochs,
            "learning_rate": params.learning_rate,
            "l2_shared": params.l2_shared,
            "l2_area": params.l2_area,
        },
    )

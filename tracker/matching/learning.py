"""Learning from staff decisions: a correction on top of the rule score.

Staff mark a call relevant or not relevant to an area (in the review workspace, or
by importing labels). From these decisions we fit, by logistic regression, how far
the rule score should move. The model sees the same features as the rules (the
rule logit itself, topical strength, applicant fit, which terms, context words and
programme priors fired, the structure of the topic code) plus two features from the
decided calls most similar to the call (TF-IDF cosine over the same stems): how
many of them staff found relevant to the area, and how close the closest relevant
one is. Weights are shared by all areas (a defence programme is irrelevant to every
area) plus per-area weights (LIFE calls are energy, not culture); both are pulled
towards zero, so with few decisions the rule score stands. The change is blended by
the number of decisions, ``n / (n + blend_decisions)``.

Learning must never make matching worse than the rules, so it is held back three ways:
an area is learned only once staff have made enough decisions of both kinds on it
(``min_each`` relevant and not relevant); its learned change is shrunk toward the rule
score; and how much of the change each area keeps (its blend: 0, a quarter, a half or
all of it) is chosen by inner cross-validation over the training decisions, with folds
that keep programme families whole, the smaller blend winning ties. An area whose
blend is 0 is scored by the rules alone, and the model says so (``area_status``).
A per-area threshold shift is held to the same test: it is kept only where shifts
fitted on some programme families improve the decisions on the others.

Training is deterministic (fixed example order and seed) and pure Python; a model
serialises to a JSON-able dict for the database.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from tracker.matching.call import CallInput, programme_family
from tracker.matching.engine import (
    CompiledProfile,
    MatchResult,
    call_stems,
    match_call,
    strongest_areas,
)
from tracker.matching.folds import group_folds
from tracker.matching.text import wordset

MODEL_FORMAT = 2
# Decided calls as the threshold fitting sees them: per area, the rule score and the truth.
Rows = Sequence[Mapping[str, tuple[float, bool]]]
_STOP = wordset(
    "the and of to in for with on is are be by this that from as an or will should which their "
    "at it its can have has not also such other these into more all new well and/or within "
    "och att det som en för med på är av till den de om inte har ska kan vi från eller ett "
    "när också samt"
)


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
    learning_rate: float = 0.1
    l2_shared: float = 0.01
    l2_area: float = 0.05
    blend_decisions: float = 10.0
    positive_weight: float = 1.0
    neighbours: int = 5
    vector_terms: int = 60
    seed: int = 13
    # An area is learned only with at least this many decisions of each kind.
    min_each: int = 8
    # Inner cross-validation that chooses each area's blend (0: learning off).
    inner_folds: int = 3
    blends: tuple[float, ...] = (0.0, 0.25, 0.5, 1.0)
    # The micro-F1 gain a blend (in inner cross-validation) or a threshold shift must
    # bring to be used.
    min_gain: float = 0.005
    # A blend must also put right at least this many more held-out decisions than it
    # makes wrong: one or two decisions either way are chance.
    min_net_fixed: int = 3
    # A threshold shift is one number per area: it needs fewer decisions than weights.
    min_each_shift: int = 3
    threshold_shifts: tuple[float, ...] = (-15.0, -10.0, -5.0, 0.0, 5.0, 10.0, 15.0)


# ------------------------------------------------------------------ similarity


@dataclass(frozen=True)
class Neighbour:
    call_id: str
    title: str
    similarity: float
    decisions: Mapping[str, bool]


@dataclass
class SimilarityIndex:
    """TF-IDF vectors of decided calls, for finding the ones most like a new call."""

    ids: list[str]
    titles: list[str]
    vectors: list[dict[str, float]]
    idf: dict[str, float]
    default_idf: float
    postings: dict[str, list[tuple[int, float]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.postings:
            for i, vec in enumerate(self.vectors):
                for term, w in vec.items():
                    self.postings.setdefault(term, []).append((i, w))

    @classmethod
    def build(
        cls, docs: Sequence[tuple[str, str, Counter[str]]], vector_terms: int
    ) -> SimilarityIndex:
        """Index (id, title, term counts) documents."""
        df: Counter[str] = Counter()
        for _, _, tf in docs:
            df.update(tf.keys())
        n = len(docs)
        idf = {t: math.log((n + 1) / (c + 0.5)) for t, c in df.items()}
        default_idf = math.log((n + 1) / 0.5)
        vectors = [_vector(tf, idf, default_idf, vector_terms) for _, _, tf in docs]
        kept = {t for v in vectors for t in v}
        return cls(
            ids=[d[0] for d in docs],
            titles=[d[1] for d in docs],
            vectors=vectors,
            idf={t: w for t, w in idf.items() if t in kept},
            default_idf=default_idf,
        )

    def vector(self, tf: Counter[str]) -> dict[str, float]:
        return _vector(tf, self.idf, self.default_idf, None)

    def nearest(
        self, vec: Mapping[str, float], k: int, exclude: str | None = None
    ) -> list[tuple[int, float]]:
        scores: dict[int, float] = {}
        for term, w in vec.items():
            for i, v in self.postings.get(term, ()):
                scores[i] = scores.get(i, 0.0) + w * v
        ranked = sorted(
            ((s, i) for i, s in scores.items() if s > 0 and self.ids[i] != exclude),
            key=lambda e: (-e[0], self.ids[e[1]]),
        )
        return [(i, s) for s, i in ranked[:k]]


def _vector(
    tf: Counter[str], idf: Mapping[str, float], default_idf: float, keep: int | None
) -> dict[str, float]:
    weights = {t: (1 + math.log(c)) * idf.get(t, default_idf) for t, c in tf.items()}
    if keep is not None and len(weights) > keep:
        weights = dict(sorted(weights.items(), key=lambda e: (-e[1], e[0]))[:keep])
    norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
    return {t: w / norm for t, w in weights.items()}


def term_counts(stems: Mapping[str, Sequence[str]]) -> Counter[str]:
    """Stem counts of a call for similarity; the title counts three times."""
    tf: Counter[str] = Counter()
    for fname, seq in stems.items():
        times = 3 if fname == "title" else 1
        for s in seq:
            if len(s) > 2 and s not in _STOP and not s.isdigit():
                tf[s] += times
    return tf


def _neighbour_features(
    neighbours: Sequence[tuple[float, Mapping[str, bool]]], slug: str
) -> dict[str, float]:
    """Share of similar decided calls found relevant to `slug`, and the closest one."""
    total = relevant = top = 0.0
    for sim, decisions in neighbours:
        if slug not in decisions:
            continue
        total += sim
        if decisions[slug]:
            relevant += sim
            top = max(top, sim)
    if total == 0.0:
        return {}
    return {"similar:relevant": relevant / total, "similar:closest": top}


# ----------------------------------------------------------------------- model


@dataclass(frozen=True)
class CallNeighbours:
    """The decided calls most similar to one call, computed once per call."""

    items: tuple[Neighbour, ...]

    def features(self, slug: str) -> dict[str, float]:
        return _neighbour_features([(n.similarity, n.decisions) for n in self.items], slug)

    def closest(self, slug: str) -> Neighbour | None:
        decided = [n for n in self.items if slug in n.decisions]
        return decided[0] if decided else None


@dataclass(frozen=True)
class LearnedModel:
    """Weights over match features, shared and per area, with the decided calls."""

    shared: Mapping[str, float]
    per_area: Mapping[str, Mapping[str, float]]
    counts: Mapping[str, int]
    index: SimilarityIndex | None = None
    decisions: Mapping[str, Mapping[str, bool]] = field(default_factory=dict)
    neighbours_k: int = 5
    blend_decisions: float = 10.0
    profile_name: str = ""
    profile_version: int = 0
    params: Mapping[str, float] = field(default_factory=dict)
    # Per area: the share of the learned change kept (chosen by inner cross-validation);
    # an area missing here keeps all of it (models saved before blends existed).
    area_blend: Mapping[str, float] = field(default_factory=dict)
    # Per area: why learning is or is not in use ("learned", "too few decisions",
    # "no gain in cross-validation").
    area_status: Mapping[str, str] = field(default_factory=dict)
    # Per area: in the inner cross-validation, at the chosen blend, how many held-out
    # decisions learning turned right and how many it turned wrong (vs the rules).
    area_effect: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    # Per area: points added to the area's threshold, fitted on the decisions (staff may
    # want more or fewer calls of an area than the profile's threshold gives them).
    threshold_shift: Mapping[str, float] = field(default_factory=dict)

    def decision_count(self, slug: str) -> int:
        return self.counts.get(slug, 0)

    def is_learned(self, slug: str) -> bool:
        """Whether staff decisions change the area's scores or threshold at all."""
        return self.counts.get(slug, 0) > 0 and (
            self.area_blend.get(slug, 1.0) > 0.0 or self.threshold_shift.get(slug, 0.0) != 0.0
        )

    def neighbours(
        self, stems: Mapping[str, Sequence[str]], exclude: str | None = None
    ) -> CallNeighbours:
        """The decided calls most like a call with these stems (by field)."""
        if self.index is None:
            return CallNeighbours(())
        vec = self.index.vector(term_counts(stems))
        found = self.index.nearest(vec, self.neighbours_k, exclude=exclude)
        return CallNeighbours(
            tuple(
                Neighbour(
                    self.index.ids[i],
                    self.index.titles[i],
                    sim,
                    self.decisions.get(self.index.ids[i], {}),
                )
                for i, sim in found
            )
        )

    def delta(
        self,
        slug: str,
        features: Mapping[str, float],
        neighbours: CallNeighbours | None = None,
    ) -> float:
        """How much the decisions move the area's logit for a call with `features`."""
        n = self.counts.get(slug, 0)
        blend = self.area_blend.get(slug, 1.0)
        if n == 0 or blend == 0.0:
            return 0.0
        return blend * self._raw_delta(slug, features, neighbours)

    def _raw_delta(
        self,
        slug: str,
        features: Mapping[str, float],
        neighbours: CallNeighbours | None = None,
    ) -> float:
        n = self.counts.get(slug, 0)
        if n == 0:
            return 0.0
        area = self.per_area.get(slug, {})
        total = self.shared.get("bias", 0.0) + area.get("bias", 0.0)
        extra = neighbours.features(slug) if neighbours is not None else {}
        for name, value in _scaled({**features, **extra}):
            total += value * (self.shared.get(name, 0.0) + area.get(name, 0.0))
        return total * n / (n + self.blend_decisions)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": MODEL_FORMAT,
            "profile_name": self.profile_name,
            "profile_version": self.profile_version,
            "blend_decisions": self.blend_decisions,
            "neighbours_k": self.neighbours_k,
            "counts": dict(sorted(self.counts.items())),
            "shared": {k: round(v, 6) for k, v in sorted(self.shared.items()) if v != 0.0},
            "per_area": {
                slug: {k: round(v, 6) for k, v in sorted(w.items()) if v != 0.0}
                for slug, w in sorted(self.per_area.items())
            },
            "params": dict(self.params),
            "area_blend": dict(sorted(self.area_blend.items())),
            "area_status": dict(sorted(self.area_status.items())),
            "area_effect": {k: list(v) for k, v in sorted(self.area_effect.items())},
            "threshold_shift": dict(sorted(self.threshold_shift.items())),
            "decisions": {
                cid: dict(sorted(d.items())) for cid, d in sorted(self.decisions.items())
            },
        }
        if self.index is not None:
            out["similarity"] = {
                "ids": self.index.ids,
                "titles": self.index.titles,
                "vectors": [{t: round(w, 5) for t, w in v.items()} for v in self.index.vectors],
                "idf": {t: round(w, 5) for t, w in sorted(self.index.idf.items())},
                "default_idf": round(self.index.default_idf, 5),
            }
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LearnedModel:
        if not isinstance(data, Mapping) or data.get("format") != MODEL_FORMAT:
            raise ValueError(f"not a tracker matching model (format {MODEL_FORMAT})")
        try:
            sim = data.get("similarity")
            index = None
            if sim is not None:
                index = SimilarityIndex(
                    ids=[str(i) for i in sim["ids"]],
                    titles=[str(t) for t in sim["titles"]],
                    vectors=[{str(t): float(w) for t, w in v.items()} for v in sim["vectors"]],
                    idf={str(t): float(w) for t, w in sim["idf"].items()},
                    default_idf=float(sim["default_idf"]),
                )
            return cls(
                shared={str(k): float(v) for k, v in data["shared"].items()},
                per_area={
                    str(s): {str(k): float(v) for k, v in w.items()}
                    for s, w in data["per_area"].items()
                },
                counts={str(k): int(v) for k, v in data["counts"].items()},
                index=index,
                decisions={
                    str(c): {str(s): bool(v) for s, v in d.items()}
                    for c, d in data.get("decisions", {}).items()
                },
                neighbours_k=int(data.get("neighbours_k", 5)),
                blend_decisions=float(data["blend_decisions"]),
                profile_name=str(data.get("profile_name", "")),
                profile_version=int(data.get("profile_version", 0)),
                params={str(k): float(v) for k, v in data.get("params", {}).items()},
                area_blend={str(k): float(v) for k, v in data.get("area_blend", {}).items()},
                area_status={str(k): str(v) for k, v in data.get("area_status", {}).items()},
                threshold_shift={
                    str(k): float(v) for k, v in data.get("threshold_shift", {}).items()
                },
                area_effect={
                    str(k): (int(v[0]), int(v[1])) for k, v in data.get("area_effect", {}).items()
                },
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
    `results` may carry rule-only match results to avoid scoring calls twice. When
    staff decided the same call and area twice, the last decision counts. Each area's
    blend is then chosen by inner cross-validation (see the module's docstring).
    """
    params = params or TrainingParams()
    cache: dict[str, MatchResult] = dict(results or {})
    by_call = _usable_decisions(compiled, calls, decisions, cache)
    model = _train_on(compiled, calls, by_call, cache, params)
    shifts = _fit_threshold_shifts(compiled, calls, by_call, cache, params)
    blends, status, effect = _choose_blends(compiled, calls, by_call, cache, params, shifts)
    for slug, shift in shifts.items():
        if shift and status.get(slug) != "learned":
            status[slug] = "learned"
    return replace(
        model,
        area_blend=blends,
        area_status=status,
        area_effect=effect,
        threshold_shift=shifts,
    )


def _fit_threshold_shifts(
    compiled: CompiledProfile,
    calls: Mapping[str, CallInput],
    by_call: Mapping[str, Mapping[str, bool]],
    cache: Mapping[str, MatchResult],
    params: TrainingParams,
) -> dict[str, float]:
    """Per area, the shift of its threshold that best fits the decisions.

    A shift is a single number per area, so it carries over to calls of programmes
    staff never decided on, unlike weights on words. Areas are taken one after the
    other; a shift is chosen when it lifts micro-F1 over the decided calls by
    `min_gain`, and only for areas with `min_each_shift` decisions of both kinds.
    A shift fitted on all decisions always looks good on them, so an area keeps its
    shift only if inner cross-validation (folds of whole programme families, shifts
    fitted on the other folds) also gains `min_gain` from shifting that area.
    """
    threshold = {a.slug: a.threshold for a in compiled.areas}
    ids = sorted(by_call)
    rows = {
        cid: {
            slug: (cache[cid].area(slug).rule_score, truth) for slug, truth in by_call[cid].items()
        }
        for cid in ids
    }
    shifts = _best_shifts(compiled, threshold, [rows[c] for c in ids], params)
    if not shifts:
        return shifts
    families = {cid: programme_family(calls[cid]) for cid in ids}
    k = min(params.inner_folds, len(set(families.values())))
    if k < 2:
        return {}
    folds = group_folds(families, k)
    # Per fold: the held-out rows, and the shifts fitted without them.
    held_out = [
        (
            [rows[c] for c in ids if folds[c] == fold],
            _best_shifts(compiled, threshold, [rows[c] for c in ids if folds[c] != fold], params),
        )
        for fold in range(k)
    ]

    def held_out_f1(areas: set[str]) -> float:
        counts = [0, 0, 0]
        for test, fitted in held_out:
            used = {s: v for s, v in fitted.items() if s in areas}
            for n, value in enumerate(_counts(compiled, threshold, test, used)):
                counts[n] += value
        return _micro_f1(*counts)

    base = held_out_f1(set())
    kept: set[str] = set()
    for slug in shifts:
        f1 = held_out_f1(kept | {slug})
        if f1 >= base + params.min_gain:
            kept.add(slug)
            base = f1
    return {s: v for s, v in shifts.items() if s in kept}


def _micro_f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def _counts(
    compiled: CompiledProfile,
    threshold: Mapping[str, float],
    rows: Rows,
    shift: Mapping[str, float],
) -> tuple[int, int, int]:
    """tp, fp, fn over decided (rule score, truth) rows with shifted thresholds,
    deciding as the engine does (thresholds, then the strongest areas)."""
    tp = fp = fn = 0
    for row in rows:
        limits = {s: threshold[s] + shift.get(s, 0.0) for s in row}
        above = {s: v for s, (v, _) in row.items() if v >= limits[s]}
        predicted = set(strongest_areas(above, limits, compiled.params))
        for s, (_, truth) in row.items():
            hit = s in predicted
            tp += hit and truth
            fp += hit and not truth
            fn += truth and not hit
    return tp, fp, fn


def _best_shifts(
    compiled: CompiledProfile, threshold: Mapping[str, float], rows: Rows, params: TrainingParams
) -> dict[str, float]:
    """Greedily, area by area, the threshold shifts that lift micro-F1 on `rows`."""
    eligible = []
    for slug in threshold:
        kinds = [row[slug][1] for row in rows if slug in row]
        relevant = sum(kinds)
        if relevant >= params.min_each_shift and len(kinds) - relevant >= params.min_each_shift:
            eligible.append(slug)

    def micro_f1(shift: Mapping[str, float]) -> float:
        return _micro_f1(*_counts(compiled, threshold, rows, shift))

    shifts: dict[str, float] = {}
    best = micro_f1(shifts)
    for slug in eligible:
        chosen = 0.0
        for shift in sorted(params.threshold_shifts, key=abs):
            if shift == 0.0:
                continue
            f1 = micro_f1({**shifts, slug: shift})
            if f1 >= best + params.min_gain:
                best, chosen = f1, shift
        if chosen:
            shifts[slug] = chosen
    return shifts


def _usable_decisions(
    compiled: CompiledProfile,
    calls: Mapping[str, CallInput],
    decisions: Sequence[Decision],
    cache: dict[str, MatchResult],
) -> dict[str, dict[str, bool]]:
    """The last decision per call and area, on calls that are not gated."""
    slugs = set(compiled.profile.slugs)
    latest: dict[tuple[str, str], Decision] = {}
    for d in decisions:
        if d.slug in slugs:
            latest[(d.call_id, d.slug)] = d
    by_call: dict[str, dict[str, bool]] = {}
    for (call_id, slug), d in sorted(latest.items()):
        call = calls.get(call_id)
        if call is None:
            raise ValueError(f"decision on unknown call {call_id!r}")
        result = cache.get(call_id)
        if result is None:
            result = cache[call_id] = match_call(compiled, call, snippets="none")
        if result.gate is not None:
            continue
        by_call.setdefault(call_id, {})[slug] = d.relevant
    return by_call


def _train_on(
    compiled: CompiledProfile,
    calls: Mapping[str, CallInput],
    by_call: Mapping[str, Mapping[str, bool]],
    cache: Mapping[str, MatchResult],
    params: TrainingParams,
) -> LearnedModel:
    """Fit the weights on decisions (no blend chosen: every area keeps its change)."""
    docs = []
    for call_id in sorted(by_call):
        call = calls[call_id]
        docs.append((call_id, call.title[:200], term_counts(call_stems(compiled, call))))
    index = SimilarityIndex.build(docs, params.vector_terms) if docs else None
    tf_of = {cid: tf for cid, _, tf in docs}

    examples: list[tuple[str, list[tuple[str, float]], float, float]] = []
    counts: dict[str, int] = {}
    for call_id in sorted(by_call):
        near: list[tuple[float, Mapping[str, bool]]] = []
        if index is not None:
            vec = index.vector(tf_of[call_id])
            near = [
                (sim, by_call[index.ids[i]])
                for i, sim in index.nearest(vec, params.neighbours, exclude=call_id)
            ]
        result = cache[call_id]
        for slug, relevant in sorted(by_call[call_id].items()):
            area = result.area(slug)
            feats = list(_scaled({**area.features, **_neighbour_features(near, slug)}))
            examples.append((slug, feats, area.features["rule"], 1.0 if relevant else 0.0))
            counts[slug] = counts.get(slug, 0) + 1

    shared, per_area = _fit(examples, counts, params)
    return LearnedModel(
        shared=shared,
        per_area=per_area,
        counts=counts,
        index=index,
        decisions={cid: dict(d) for cid, d in by_call.items()},
        neighbours_k=params.neighbours,
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


def _choose_blends(
    compiled: CompiledProfile,
    calls: Mapping[str, CallInput],
    by_call: Mapping[str, Mapping[str, bool]],
    cache: Mapping[str, MatchResult],
    params: TrainingParams,
    shifts: Mapping[str, float] | None = None,
) -> tuple[dict[str, float], dict[str, str], dict[str, tuple[int, int]]]:
    """Per area, the share of the learned change that inner cross-validation supports.

    Areas with fewer than `min_each` decisions of either kind get 0. The others are
    scored on held-out inner folds (whole programme families) at every candidate
    blend, one area after the other, deciding matches as the engine does; the blend
    with the best micro-F1 wins, the smaller one on ties, so that learning is used
    only where it helped. Also
    returns, per area, the held-out decisions the chosen blend turned right and wrong.
    """
    blends: dict[str, float] = {}
    status: dict[str, str] = {}
    effect: dict[str, tuple[int, int]] = {}
    candidates: list[str] = []
    for area in compiled.areas:
        kinds = [d[area.slug] for d in by_call.values() if area.slug in d]
        if not kinds:
            continue
        relevant = sum(kinds)
        if relevant < params.min_each or len(kinds) - relevant < params.min_each:
            blends[area.slug] = 0.0
            status[area.slug] = "too few decisions"
        else:
            candidates.append(area.slug)
    if not candidates:
        return blends, status, effect
    families = {cid: programme_family(calls[cid]) for cid in by_call}
    k = min(params.inner_folds, len(set(families.values())))
    if k < 2:
        for slug in candidates:
            blends[slug] = 0.0
            status[slug] = "too few programmes to test learning"
        return blends, status, effect
    folds = group_folds(families, k)
    threshold = {a.slug: a.threshold + (shifts or {}).get(a.slug, 0.0) for a in compiled.areas}
    # Held-out inner calls: per decided area, the rule logit, the learned change, the truth.
    rows: list[dict[str, tuple[float, float, bool]]] = []
    for fold in range(k):
        inner = _train_on(
            compiled,
            calls,
            {cid: d for cid, d in by_call.items() if folds[cid] != fold},
            cache,
            params,
        )
        for cid in sorted(c for c in by_call if folds[c] == fold):
            result = cache[cid]
            near = inner.neighbours(call_stems(compiled, calls[cid]))
            row: dict[str, tuple[float, float, bool]] = {}
            for slug, truth in by_call[cid].items():
                scored = result.area(slug)
                delta = inner._raw_delta(slug, scored.features, near) if slug in candidates else 0.0
                row[slug] = (scored.features["rule"], delta, truth)
            rows.append(row)

    def outcome(chosen: Mapping[str, float]) -> tuple[float, dict[str, list[bool]]]:
        """Micro-F1 over the held-out decisions with these blends, as the engine decides
        (thresholds, then the strongest areas); and per area, which decisions were right."""
        tp = fp = fn = 0
        right: dict[str, list[bool]] = {slug: [] for slug in candidates}
        for row in rows:
            scores = {
                slug: 100 * _sigmoid(z + chosen.get(slug, 0.0) * delta)
                for slug, (z, delta, _) in row.items()
            }
            above = {slug: v for slug, v in scores.items() if v >= threshold[slug]}
            predicted = set(strongest_areas(above, threshold, compiled.params))
            for slug, (_, _, truth) in row.items():
                hit = slug in predicted
                tp += hit and truth
                fp += hit and not truth
                fn += truth and not hit
                if slug in right:
                    right[slug].append(hit == truth)
        return _micro_f1(tp, fp, fn), right

    chosen: dict[str, float] = {}
    base_f1, by_rules = outcome(chosen)
    for slug in candidates:
        best_blend, best_f1 = 0.0, base_f1
        for blend in sorted(params.blends):
            if blend == 0.0:
                continue
            f1, right = outcome({**chosen, slug: blend})
            fixed, broken = _changes(by_rules[slug], right[slug])
            # A blend must do clearly better: a gain in F1, twice as many decisions put
            # right as made wrong, and `min_net_fixed` more; otherwise the rules stand.
            clearly = fixed >= 2 * broken and fixed - broken >= params.min_net_fixed
            if f1 >= best_f1 + params.min_gain and clearly:
                best_blend, best_f1 = blend, f1
        chosen[slug] = best_blend
        if best_blend > 0:
            base_f1 = best_f1
    _, final = outcome(chosen)
    for slug in candidates:
        blends[slug] = chosen[slug]
        status[slug] = "learned" if chosen[slug] > 0 else "no gain in cross-validation"
        effect[slug] = _changes(by_rules[slug], final[slug])
    return blends, status, effect


def _changes(before: Sequence[bool], after: Sequence[bool]) -> tuple[int, int]:
    """How many decisions turned right, and how many turned wrong."""
    pairs = list(zip(before, after, strict=True))
    return (
        sum(1 for was, now in pairs if now and not was),
        sum(1 for was, now in pairs if was and not now),
    )


def _fit(
    examples: Sequence[tuple[str, list[tuple[str, float]], float, float]],
    counts: Mapping[str, int],
    params: TrainingParams,
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Logistic regression of the residual over the rule logit, by AdaGrad SGD.

    Feature names are numbered first so that the inner loop indexes lists.
    """
    names: dict[str, int] = {"bias": 0}
    coded: list[tuple[str, list[tuple[int, float]], float, float]] = []
    for slug, feats, rule, y in examples:
        row = [(0, 1.0)]
        for name, value in feats:
            if value != 0.0:
                row.append((names.setdefault(name, len(names)), value))
        coded.append((slug, row, rule, y))
    size = len(names)
    shared = [0.0] * size
    g2_shared = [0.0] * size
    area_w = {s: [0.0] * size for s in counts}
    area_g = {s: [0.0] * size for s in counts}
    blend = {s: n / (n + params.blend_decisions) for s, n in counts.items()}
    order = list(range(len(coded)))
    rng = random.Random(params.seed)
    lr, l2s, l2a = params.learning_rate, params.l2_shared, params.l2_area
    for _ in range(params.epochs):
        rng.shuffle(order)
        for idx in order:
            slug, row, rule, y = coded[idx]
            wa, ga = area_w[slug], area_g[slug]
            f = blend[slug]
            raw = 0.0
            for j, value in row:
                raw += value * (shared[j] + wa[j])
            err = (_sigmoid(rule + f * raw) - y) * f
            if y > 0.5:
                err *= params.positive_weight
            for j, value in row:
                grad = err * value
                gs = grad + l2s * shared[j]
                g2_shared[j] += gs * gs
                shared[j] -= lr * gs / math.sqrt(g2_shared[j] + 1e-8)
                gaj = grad + l2a * wa[j]
                ga[j] += gaj * gaj
                wa[j] -= lr * gaj / math.sqrt(ga[j] + 1e-8)
    index_names = sorted(names, key=names.__getitem__)
    return (
        {n: shared[j] for j, n in enumerate(index_names) if shared[j] != 0.0},
        {s: {n: w[j] for j, n in enumerate(index_names) if w[j] != 0.0} for s, w in area_w.items()},
    )

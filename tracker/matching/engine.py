"""Score calls against a strategy profile, with evidence for every score.

The rule score of an area is a logistic function of a few parts that staff can read
back from the evidence:

* topic: the area's vocabulary found in the call, weighted by the term's weight
  (its specificity) and by where it was found (title > keywords and tags >
  description, the description's counts saturating with its length);
* applicant fit, for the whole profile: words showing that a municipality, its
  schools or local civil society can take part, against words showing a call for
  industrial R&D consortia, research infrastructures, defence or narrow technology;
* programme priors (CERV leans to democracy, EDF away from everything);
* the area's negative terms;
* who may apply, read as sentences (``applicants.py``): calls for national bodies
  only, or re-granting to one other country's organisations, lose points; calls where
  local authorities, cities, living labs or local pilots take part gain some;
* short records (a title and a line or two): the title carries the match and the
  evidence says so ("short record").

A single shared word cannot make a match: topical strength saturates slowly, one
term found only in the description is penalised, and a call with no applicant fit
needs far more topical evidence than one aimed at local authorities.
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tracker.i18n import msg
from tracker.matching.applicants import (
    LOCAL_ACTORS,
    NATIONAL_ONLY,
    ONE_COUNTRY,
    ApplicantReading,
    read_applicants,
)
from tracker.matching.applicants import (
    ApplicantSignal as ApplicantSignalT,
)
from tracker.matching.call import CallInput
from tracker.matching.gates import CompiledGates, GateHit, call_texts, check_gates, compile_gates
from tracker.matching.profile import FocusArea, Profile, ProgrammePrior, Term
from tracker.matching.text import (
    BASE_SWEDISH_LEXICON,
    CompoundSplitter,
    StemStream,
    detect_language,
    is_acronym,
    normalise_spelling,
    same_word,
    snippet,
    stem_stream,
    tokenize,
    words_of,
)

if TYPE_CHECKING:
    from tracker.matching.learning import CallNeighbours, LearnedModel

FIELDS = ("title", "keywords", "description")
FIELD_LABELS = {"title": "title", "keywords": "keywords and tags", "description": "description"}

LOCAL_BOOST_SHARE = 1.0

# Owners of compiled terms other than areas.
APPLICANT = -1
EXCLUSION = -2
NEUTRAL = -3


@dataclass(frozen=True)
class ScoringParams:
    """Constants of the rule score (logit units). Not per profile: they shape how
    evidence adds up, while the profile says what counts as evidence."""

    title_weight: float = 3.0
    keyword_weight: float = 2.0
    description_weight: float = 1.0
    bm25_k1: float = 1.2
    bm25_b: float = 0.6
    avg_description_tokens: float = 350.0
    bias: float = -5.75
    topic_gain: float = 9.0
    topic_scale: float = 7.0
    single_term_penalty: float = 4.0
    # Terms below this weight are general words ("social", "media", "youth"): together
    # they may support an area, but not carry it.
    specific_weight: float = 2.0
    general_words_penalty: float = 2.0
    untitled_penalty: float = 1.0
    applicant_gain: float = 2.5
    applicant_scale: float = 3.0
    exclusion_gain: float = 4.0
    exclusion_scale: float = 3.0
    negative_gain: float = 3.0
    negative_scale: float = 2.0
    # An area whose topical evidence is far below the call's strongest area is a
    # side theme of the call, not what it funds.
    dominance_ratio: float = 0.6
    dominance_penalty: float = 4.0
    # Staff want the one or two areas a call is really about, not every theme it
    # lists; further areas above their threshold are reported but not matched.
    max_matches: int = 2
    further_match_margin: float = 10.0
    # Who may apply (applicants.py): logit points for each signal.
    national_only_penalty: float = 3.0
    # Re-granting to one other country's organisations: the municipality cannot apply, so
    # however well the topic fits, the call should not be shown as a match.
    one_country_penalty: float = 8.0
    local_actors_gain: float = 1.5
    # A record with fewer description stems than this and no keywords is a short
    # record: its title is most of what there is, so title terms count more.
    short_record_tokens: int = 40
    short_record_title_weight: float = 5.0
    # In a short record the programme says much of what the call is about: unless the
    # record names research or industry, an area's own positive programme priors count
    # this many times, and a general word of the area in the title is then enough topic.
    short_record_prior_factor: float = 2.0
    # Areas scoring below this carry no evidence unless all evidence is asked for:
    # nobody reads why a call is 3/100 for an area, and building it costs time.
    evidence_floor: float = 10.0


@dataclass(frozen=True)
class CompiledTerm:
    index: int
    term: Term
    owner: int  # area index, APPLICANT or EXCLUSION
    negative: bool
    stems: dict[str, tuple[str, ...]]  # per document language
    words: tuple[str, ...]  # English surface words, checked against the text's words
    acronyms: tuple[bool, ...]  # per English word: must be upper case in the text


@dataclass(frozen=True)
class CompiledPrior:
    prior: ProgrammePrior
    label_re: re.Pattern[str] | None
    code_re: re.Pattern[str] | None

    def applies(self, label: str, codes: tuple[str, ...]) -> bool:
        if self.label_re is not None and self.label_re.search(label):
            return True
        return self.code_re is not None and any(self.code_re.match(c) for c in codes)

    @property
    def description(self) -> str:
        p = self.prior
        what = p.label if p.label is not None else f"code {p.code}"
        return p.note or f"programme {what}"


# The priors that apply to one programme: per area, and profile-wide.
ProgrammePriors = tuple[tuple[tuple[CompiledPrior, ...], ...], tuple[CompiledPrior, ...]]


@dataclass(frozen=True)
class CompiledProfile:
    profile: Profile
    params: ScoringParams
    terms: tuple[CompiledTerm, ...]
    index: dict[str, dict[str, tuple[tuple[tuple[str, ...], int], ...]]]
    area_priors: tuple[tuple[CompiledPrior, ...], ...]
    context_priors: tuple[CompiledPrior, ...]
    gates: CompiledGates
    splitter: CompoundSplitter
    _prior_cache: dict[tuple[str, tuple[str, ...]], ProgrammePriors] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def areas(self) -> tuple[FocusArea, ...]:
        return self.profile.areas

    def priors_for(self, label: str, codes: tuple[str, ...]) -> ProgrammePriors:
        """The priors (per area, and profile-wide) that apply to a programme."""
        key = (label, codes)
        found = self._prior_cache.get(key)
        if found is None:
            found = (
                tuple(
                    tuple(cp for cp in ps if cp.applies(label, codes)) for ps in self.area_priors
                ),
                tuple(cp for cp in self.context_priors if cp.applies(label, codes)),
            )
            if len(self._prior_cache) < 10_000:
                self._prior_cache[key] = found
        return found


@dataclass(frozen=True)
class Evidence:
    """One reason behind a score, as shown to staff.

    kind: "term" (area vocabulary), "negative" (area negative term), "applicant"
    (who may take part), "exclusion" (industrial/research/defence signal), "prior"
    (programme), "breadth" (single term or side theme), "feedback" (learned model),
    "gate" (why the call cannot match at all), "basis" (what the score rests on, stored by
    matching when a call has no description), "eligibility" (who may apply, read as
    a sentence; ``code`` says which reading), "short-record" (the match rests on the
    title). ``weight`` is the logit points the item added (negative: subtracted).
    ``code`` is a stable name for the reading, so that the interface can say it in
    the reader's language ("national-only", "one-country", "local-actors",
    "short-record").
    """

    kind: str
    text: str
    weight: float
    field: str | None = None
    snippet: str | None = None
    count: int = 0
    lang: str | None = None
    code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "text": self.text,
            "weight": round(self.weight, 2),
        }
        if self.field is not None:
            out["field"] = self.field
        if self.snippet is not None:
            out["snippet"] = self.snippet
        if self.count:
            out["count"] = self.count
        if self.lang is not None:
            out["lang"] = self.lang
        if self.code is not None:
            out["code"] = self.code
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evidence:
        """An item as `to_dict` stored it (``CallMatch.evidence``); keys it does not know are
        ignored, so rows stored by an older engine still read."""
        count = data.get("count")
        return cls(
            kind=str(data.get("kind") or ""),
            text=str(data.get("text") or ""),
            weight=float(data.get("weight") or 0.0),
            field=_optional_str(data.get("field")),
            snippet=_optional_str(data.get("snippet")),
            count=count if isinstance(count, int) else 0,
            lang=_optional_str(data.get("lang")),
            code=_optional_str(data.get("code")),
        )


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class AreaScore:
    slug: str
    score: float
    is_match: bool
    rule_score: float
    threshold: float
    evidence: tuple[Evidence, ...]
    features: dict[str, float] = field(default_factory=dict, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "score": self.score,
            "is_match": self.is_match,
            "rule_score": self.rule_score,
            "threshold": self.threshold,
            "evidence": [e.to_dict() for e in self.evidence],
        }


@dataclass(frozen=True)
class MatchResult:
    call_id: str
    gate: GateHit | None
    areas: tuple[AreaScore, ...]
    language: str

    @property
    def matches(self) -> tuple[AreaScore, ...]:
        return tuple(a for a in self.areas if a.is_match)

    def area(self, slug: str) -> AreaScore:
        for a in self.areas:
            if a.slug == slug:
                return a
        raise KeyError(slug)


# --------------------------------------------------------------------- compiling


def compile_profile(profile: Profile, params: ScoringParams | None = None) -> CompiledProfile:
    """Pre-stem the vocabulary and pre-compile priors and gates of a profile."""
    params = params or ScoringParams()
    lexicon = set(BASE_SWEDISH_LEXICON)
    all_terms: list[tuple[Term, int, bool]] = []
    for i, area in enumerate(profile.areas):
        all_terms += [(t, i, False) for t in area.terms]
        all_terms += [(t, i, True) for t in area.negative_terms]
    all_terms += [(t, APPLICANT, False) for t in profile.context.applicant_terms]
    all_terms += [(t, EXCLUSION, False) for t in profile.context.exclusion_terms]
    all_terms += [(t, NEUTRAL, False) for t in profile.context.neutral_terms]
    for term, _, _ in all_terms:
        if term.lang in ("sv", "any"):
            lexicon.update(w.word for w in tokenize(term.text) if len(w.word) >= 3)
    splitter = CompoundSplitter(lexicon)

    compiled: list[CompiledTerm] = []
    index: dict[str, dict[str, list[tuple[tuple[str, ...], int]]]] = {"en": {}, "sv": {}}
    for term, owner, negative in all_terms:
        langs = ("en", "sv") if term.lang == "any" else (term.lang,)
        stems: dict[str, tuple[str, ...]] = {}
        for lang in langs:
            seq = stem_stream(term.text, lang, splitter).stems
            if seq:
                stems[lang] = seq
        en_tokens = tokenize(term.text) if "en" in stems else []
        raw_words = [term.text[t.start : t.end] for t in en_tokens]
        ct = CompiledTerm(
            len(compiled),
            term,
            owner,
            negative,
            stems,
            words=tuple(normalise_spelling(t.word) for t in en_tokens),
            acronyms=tuple(is_acronym(w) for w in raw_words),
        )
        compiled.append(ct)
        for lang, seq in stems.items():
            index[lang].setdefault(seq[0], []).append((seq, ct.index))
    frozen_index = {
        lang: {k: tuple(sorted(v, key=lambda e: -len(e[0]))) for k, v in entries.items()}
        for lang, entries in index.items()
    }
    return CompiledProfile(
        profile=profile,
        params=params,
        terms=tuple(compiled),
        index=frozen_index,
        area_priors=tuple(
            tuple(_compile_prior(p) for p in a.programme_priors) for a in profile.areas
        ),
        context_priors=tuple(_compile_prior(p) for p in profile.context.programme_priors),
        gates=compile_gates(profile.gates),
        splitter=splitter,
    )


def _compile_prior(p: ProgrammePrior) -> CompiledPrior:
    label_re = re.compile(p.label, re.IGNORECASE) if p.label is not None else None
    code_re = re.compile(fnmatch.translate(p.code), re.IGNORECASE) if p.code is not None else None
    return CompiledPrior(p, label_re, code_re)


# ---------------------------------------------------------------------- matching


@dataclass
class _Hit:
    """Where one term occurred in one call."""

    counts: dict[str, int] = field(default_factory=dict)
    first: dict[str, tuple[int, int]] = field(default_factory=dict)  # field -> stem span


def _scan(compiled: CompiledProfile, streams: dict[str, StemStream], lang: str) -> dict[int, _Hit]:
    """Find every term occurrence; within one owner, a longer phrase hides the
    shorter terms inside it ("climate adaptation" is not also "climate")."""
    index = compiled.index[lang]
    terms = compiled.terms
    check_words = lang == "en"
    hits: dict[int, _Hit] = {}
    for fname, stream in streams.items():
        stems = stream.stems
        words = stream.words
        token_of = stream.token_of
        n = len(stems)
        covered: dict[int, int] = {}  # owner -> covered up to (exclusive)
        phrase_end = 0  # end of the last area phrase: its words are not exclusion signals
        neutral_end = 0  # end of the last neutral phrase: its words count for nothing
        for i in range(n):
            if i < neutral_end:
                continue
            entries = index.get(stems[i])
            if entries is None:
                continue
            for seq, tid in entries:  # longest first
                m = len(seq)
                if m > 1 and (i + m > n or tuple(stems[i : i + m]) != seq):
                    continue
                ct = terms[tid]
                if covered.get(ct.owner, 0) > i:
                    continue
                if ct.owner == EXCLUSION and phrase_end > i:
                    continue  # "industries" inside "creative industries"
                if check_words and ct.words:
                    ok = True
                    for k in range(m):
                        w = token_of[i + k]
                        if not same_word(ct.words[k], words[w]) or (
                            ct.acronyms[k] and not words[w].isupper()
                        ):
                            ok = False
                            break
                    if not ok:
                        continue
                if ct.owner == NEUTRAL:
                    neutral_end = i + m
                    break
                # Within an area, positive and negative terms share the coverage: the
                # negative "higher education institutions" hides the term "education".
                covered[ct.owner] = i + m
                if m > 1 and ct.owner >= 0 and not ct.negative:
                    phrase_end = max(phrase_end, i + m)
                h = hits.get(tid)
                if h is None:
                    h = hits[tid] = _Hit()
                h.counts[fname] = h.counts.get(fname, 0) + 1
                h.first.setdefault(fname, (i, i + m - 1))
    return hits


def _strength(x: float, scale: float) -> float:
    return 1.0 - math.exp(-x / scale) if x > 0 else 0.0


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def match_call(
    compiled: CompiledProfile,
    call: CallInput,
    *,
    now: datetime | None = None,
    model: LearnedModel | None = None,
    snippets: str = "matches",
) -> MatchResult:
    """Score `call` against every area of the compiled profile.

    `now` enables the closed-call gate. `model` (trained on staff decisions) adjusts
    the rule score; the evidence then says by how much. `snippets` is "matches"
    (quote the text only for matching areas), "all" or "none".
    """
    p = compiled.params
    texts = call_texts(call)
    gate = check_gates(compiled.gates, call, now=now, texts=texts)
    lang, streams = _streams(compiled, texts)
    hits = _scan(compiled, streams, lang)
    desc_len = len(streams["description"].stems) if "description" in streams else 0
    length_norm = 1 - p.bm25_b + p.bm25_b * desc_len / p.avg_description_tokens
    short_record = desc_len < p.short_record_tokens and "keywords" not in streams
    reading = read_applicants(
        texts["title"],
        texts["description"],
        call.eligible_applicants,
        foreign_country=compiled.gates.countries_re,
        home=compiled.gates.home_re,
    )
    eligibility = _eligibility_points(reading, p)

    field_weight = {
        "title": p.short_record_title_weight if short_record else p.title_weight,
        "keywords": p.keyword_weight,
        "description": p.description_weight,
    }

    def contribution(h: _Hit, weight: float) -> float:
        total = 0.0
        for fname, count in h.counts.items():
            if fname == "description":
                tf = count * (p.bm25_k1 + 1) / (count + p.bm25_k1 * length_norm)
                total += field_weight[fname] * tf
            else:
                total += field_weight[fname]
        return weight * total

    # Per owner: [(compiled term, hit, contribution)]
    by_owner: dict[tuple[int, bool], list[tuple[CompiledTerm, _Hit, float]]] = {}
    for tid, h in hits.items():
        ct = compiled.terms[tid]
        by_owner.setdefault((ct.owner, ct.negative), []).append(
            (ct, h, contribution(h, ct.term.weight))
        )

    applicant = by_owner.get((APPLICANT, False), [])
    exclusion = by_owner.get((EXCLUSION, False), [])
    applicant_sum = sum(c for _, _, c in applicant)
    exclusion_sum = sum(c for _, _, c in exclusion)
    applicant_pts = p.applicant_gain * _strength(applicant_sum, p.applicant_scale)
    exclusion_pts = p.exclusion_gain * _strength(exclusion_sum, p.exclusion_scale)

    area_priors, context_priors = compiled.priors_for(texts["programme"], call.codes)
    code = call.topic_id
    context_prior_pts = sum(cp.prior.weight for cp in context_priors)

    topic_sums = [
        sum(c for _, _, c in by_owner.get((i, False), [])) for i in range(len(compiled.areas))
    ]
    best_topic = max(topic_sums, default=0.0)

    results: list[AreaScore] = []
    neighbours: CallNeighbours | None = None
    for i, area in enumerate(compiled.areas):
        terms = by_owner.get((i, False), [])
        negatives = by_owner.get((i, True), [])
        topic_sum = topic_sums[i]
        topic_pts = p.topic_gain * _strength(topic_sum, p.topic_scale)
        in_title = sum(1 for _, h, _ in terms if "title" in h.counts)
        in_keywords = sum(1 for _, h, _ in terms if "keywords" in h.counts)
        priors = area_priors[i]
        own_prior_pts = sum(cp.prior.weight for cp in priors)
        # A short record's programme speaks for it, unless the record names research or
        # industry: its own priors count more, and a general word of the area in its title,
        # backed by such a prior, is enough topic.
        backed = short_record and own_prior_pts > 0 and not exclusion
        if backed:
            own_prior_pts *= p.short_record_prior_factor
        prior_pts = own_prior_pts + context_prior_pts
        breadth: list[tuple[str, float]] = []
        if len(terms) == 1 and in_title == 0 and in_keywords == 0:
            breadth.append(
                (msg("only one term, and only in the description"), -p.single_term_penalty)
            )
        elif (
            terms
            and max(ct.term.weight for ct, _, _ in terms) < p.specific_weight
            and not (backed and in_title)
        ):
            breadth.append(
                (msg("only general words, no term specific to the area"), -p.general_words_penalty)
            )
        titled = any(
            "title" in h.counts and ct.term.weight >= p.specific_weight for ct, h, _ in terms
        )
        if len(terms) > 1 and in_title == 0 and in_keywords == 0 and p.untitled_penalty:
            breadth.append((msg("no term of the area in the title"), -p.untitled_penalty))
        if topic_sum > 0 and topic_sum < p.dominance_ratio * best_topic and not titled:
            # Full penalty at half the ratio or below, easing in linearly above it.
            share = topic_sum / best_topic
            ramp = min(1.0, (p.dominance_ratio - share) / (p.dominance_ratio / 2))
            breadth.append(
                (msg("a side theme: another area dominates this call"), -p.dominance_penalty * ramp)
            )
        breadth_pts = sum(pts for _, pts in breadth)
        negative_sum = sum(c for _, _, c in negatives)
        negative_pts = -p.negative_gain * _strength(negative_sum, p.negative_scale)
        # Who may apply modulates relevance but cannot create it: the applicant bonus
        # grows with the topical strength and is complete from half of it.
        topic_strength = _strength(topic_sum, p.topic_scale)
        area_applicant_pts = applicant_pts * min(1.0, 2 * topic_strength)
        fit_pts = area_applicant_pts - exclusion_pts if topic_sum > 0 else 0.0
        # Who may apply, as read from sentences: a boost grows with the topic like the
        # applicant bonus; a restriction counts in full.
        eligibility_pts = [
            (signal, pts * min(1.0, 2 * topic_strength) if pts > 0 else pts)
            for signal, pts in eligibility
            if pts < 0 or topic_sum >= LOCAL_BOOST_SHARE * best_topic
        ]
        if topic_sum > 0:
            fit_pts += sum(pts for _, pts in eligibility_pts)
        z = p.bias + topic_pts + breadth_pts + negative_pts + prior_pts + fit_pts
        rule_score = round(100 * _sigmoid(z), 1)

        features = _features(
            z=z,
            topic=_strength(topic_sum, p.topic_scale),
            distinct=len(terms),
            in_title=in_title,
            applicant=_strength(applicant_sum, p.applicant_scale),
            exclusion=_strength(exclusion_sum, p.exclusion_scale),
            negative=_strength(negative_sum, p.negative_scale),
            terms=terms,
            context=(*applicant, *exclusion),
            priors=(*priors, *context_priors),
            code=code,
        )
        score = rule_score
        feedback: Evidence | None = None
        if model is not None:
            if neighbours is None:
                neighbours = model.neighbours({f: s.stems for f, s in streams.items()})
            delta = model.delta(area.slug, features, neighbours)
            if delta != 0.0:
                score = round(100 * _sigmoid(z + delta), 1)
                moved = round(score - rule_score, 1)
                if abs(moved) >= 0.1:
                    direction = "raised" if moved > 0 else "lowered"
                    text = (
                        f"staff decisions {direction} the score by {abs(moved):.1f} points "
                        f"(model trained on {model.decision_count(area.slug)} decisions)"
                    )
                    closest = neighbours.closest(area.slug)
                    if closest is not None:
                        verdict = "relevant" if closest.decisions[area.slug] else "not relevant"
                        text += (
                            f"; most similar decided call: “{closest.title[:80]}” ({verdict}, "
                            f"similarity {closest.similarity:.2f})"
                        )
                    feedback = Evidence("feedback", text, delta)
        threshold = area.threshold
        if model is not None and model.threshold_shift.get(area.slug):
            threshold = min(100.0, max(0.0, threshold + model.threshold_shift[area.slug]))
            moved_by = "lowered" if threshold < area.threshold else "raised"
            shift_note = Evidence(
                "feedback",
                f"staff decisions {moved_by} the area's threshold from {area.threshold:.0f} "
                f"to {threshold:.0f}",
                0.0,
            )
            feedback = shift_note if feedback is None else feedback
            extra_feedback: Evidence | None = shift_note if feedback is not shift_note else None
        else:
            extra_feedback = None
        is_match = gate is None and score >= threshold
        want_snippets = snippets == "all" or (snippets == "matches" and is_match)
        if score < p.evidence_floor and snippets != "all":
            evidence: tuple[Evidence, ...] = ()
        else:
            evidence = _evidence(
                compiled,
                streams,
                terms=terms,
                topic_sum=topic_sum,
                topic_pts=topic_pts,
                negatives=negatives,
                negative_pts=negative_pts,
                applicant=applicant if topic_sum > 0 else [],
                applicant_pts=area_applicant_pts if topic_sum > 0 else 0.0,
                exclusion=exclusion if topic_sum > 0 else [],
                exclusion_pts=exclusion_pts if topic_sum > 0 else 0.0,
                priors=(*priors, *context_priors),
                breadth=breadth,
                with_snippets=want_snippets,
            )
            if topic_sum > 0:
                evidence = (
                    *evidence,
                    *(
                        Evidence(
                            "eligibility",
                            signal.text,
                            pts,
                            snippet=signal.snippet if want_snippets else None,
                            code=signal.code,
                        )
                        for signal, pts in eligibility_pts
                    ),
                )
            if short_record and terms:
                evidence = (
                    *evidence,
                    Evidence(
                        "short-record",
                        "short record: the match rests on the title and programme",
                        0.0,
                        code="short-record",
                    ),
                )
        if feedback is not None:
            evidence = (*evidence, feedback)
        if extra_feedback is not None:
            evidence = (*evidence, extra_feedback)
        if gate is not None:
            evidence = (*evidence, Evidence("gate", gate.reason, 0.0, snippet=gate.snippet))
        results.append(
            AreaScore(
                slug=area.slug,
                score=score,
                is_match=is_match,
                rule_score=rule_score,
                threshold=threshold,
                evidence=evidence,
                features=features,
            )
        )
    results = _limit_matches(results, p)
    return MatchResult(call_id=call.id, gate=gate, areas=tuple(results), language=lang)


def _eligibility_points(
    reading: ApplicantReading, p: ScoringParams
) -> list[tuple[ApplicantSignalT, float]]:
    """Logit points of each applicant signal."""
    points = {
        NATIONAL_ONLY: -p.national_only_penalty,
        ONE_COUNTRY: -p.one_country_penalty,
        LOCAL_ACTORS: p.local_actors_gain,
    }
    return [(s, points[s.code]) for s in reading.signals if points.get(s.code)]


def strongest_areas(
    above: Mapping[str, float], thresholds: Mapping[str, float], params: ScoringParams
) -> list[str]:
    """Of the areas whose scores are above their thresholds, those a call matches.

    At most `max_matches`; an area after the first must clear its threshold by
    `further_match_margin` points, since a call is usually about one area and
    mentions others along the way.
    """
    ranked = sorted(above, key=lambda s: (-above[s], s))[: params.max_matches]
    return [
        s
        for n, s in enumerate(ranked)
        if n == 0 or above[s] >= min(100.0, thresholds[s] + params.further_match_margin)
    ]


def _limit_matches(results: list[AreaScore], params: ScoringParams) -> list[AreaScore]:
    matched = {a.slug: a.score for a in results if a.is_match}
    kept = set(strongest_areas(matched, {a.slug: a.threshold for a in results}, params))
    if len(kept) == len(matched):
        return results
    note = Evidence("breadth", "above its threshold, but the call is more about other areas", 0.0)
    return [
        replace(a, is_match=False, evidence=(*a.evidence, note))
        if a.is_match and a.slug not in kept
        else a
        for a in results
    ]


def _features(
    *,
    z: float,
    topic: float,
    distinct: int,
    in_title: int,
    applicant: float,
    exclusion: float,
    negative: float,
    terms: Sequence[tuple[CompiledTerm, _Hit, float]],
    context: Sequence[tuple[CompiledTerm, _Hit, float]],
    priors: Sequence[CompiledPrior],
    code: str,
) -> dict[str, float]:
    """What a learned model sees: the rule's parts plus which terms and priors fired."""
    f: dict[str, float] = {
        "rule": z,
        "topic": topic,
        "distinct": min(distinct, 6) / 6,
        "title": min(in_title, 3) / 3,
        "applicant": applicant,
        "exclusion": exclusion,
        "negative": negative,
    }
    for ct, h, _ in terms:
        f[f"term:{ct.term.text}"] = 1.0 if "title" not in h.counts else 1.5
    for ct, _, _ in context:
        kind = "applicant" if ct.owner == APPLICANT else "exclusion"
        f[f"{kind}:{ct.term.text}"] = 1.0
    for cp in priors:
        f[f"prior:{cp.prior.label or cp.prior.code}"] = 1.0
    for seg in code.split("-")[:4]:
        if seg.isalpha() and len(seg) >= 2:
            f[f"code:{seg.upper()}"] = 1.0
    return f


def _evidence(
    compiled: CompiledProfile,
    streams: dict[str, StemStream],
    *,
    terms: Sequence[tuple[CompiledTerm, _Hit, float]],
    topic_sum: float,
    topic_pts: float,
    negatives: Sequence[tuple[CompiledTerm, _Hit, float]],
    negative_pts: float,
    applicant: Sequence[tuple[CompiledTerm, _Hit, float]],
    applicant_pts: float,
    exclusion: Sequence[tuple[CompiledTerm, _Hit, float]],
    exclusion_pts: float,
    priors: Sequence[CompiledPrior],
    breadth: Sequence[tuple[str, float]],
    with_snippets: bool,
) -> tuple[Evidence, ...]:
    out: list[Evidence] = []

    def items(
        kind: str,
        group: Sequence[tuple[CompiledTerm, _Hit, float]],
        points: float,
        limit: int,
    ) -> None:
        total = sum(c for _, _, c in group) or 1.0
        for ct, h, c in sorted(group, key=lambda e: (-e[2], e[0].term.text))[:limit]:
            fname = next(f for f in FIELDS if f in h.counts)
            snip = None
            if with_snippets:
                stream = streams[fname]
                a, b = h.first[fname]
                start, end = stream.span(a, b)
                snip = snippet(stream.text, start, end)
            out.append(
                Evidence(
                    kind,
                    ct.term.text,
                    points * c / total,
                    field=FIELD_LABELS[fname],
                    snippet=snip,
                    count=sum(h.counts.values()),
                    lang=ct.term.lang,
                )
            )

    items("term", terms, topic_pts, 8)
    items("negative", negatives, negative_pts, 3)
    items("applicant", applicant, applicant_pts, 3)
    items("exclusion", exclusion, -exclusion_pts, 3)
    for cp in priors:
        out.append(Evidence("prior", cp.description, cp.prior.weight, field="programme"))
    for note, pts in breadth:
        out.append(Evidence("breadth", note, pts))
    return tuple(out)


def _streams(compiled: CompiledProfile, texts: dict[str, str]) -> tuple[str, dict[str, StemStream]]:
    """The call's language and its fields as stem streams."""
    words = {f: words_of(texts[f]) for f in FIELDS if texts[f]}
    lang = detect_language([*words.get("title", ()), *words.get("description", ())])
    streams = {f: stem_stream(texts[f], lang, compiled.splitter, words=w) for f, w in words.items()}
    return lang, streams


def call_stems(compiled: CompiledProfile, call: CallInput) -> dict[str, tuple[str, ...]]:
    """The stems of a call's fields, as the matcher reads them (for similarity)."""
    _, streams = _streams(compiled, call_texts(call))
    return {f: s.stems for f, s in streams.items()}


def match_calls(
    compiled: CompiledProfile,
    calls: Sequence[CallInput],
    *,
    now: datetime | None = None,
    model: LearnedModel | None = None,
    snippets: str = "matches",
) -> list[MatchResult]:
    """match_call over many calls."""
    return [match_call(compiled, c, now=now, model=model, snippets=snippets) for c in calls]

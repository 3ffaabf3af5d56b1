"""Strategy matching in the database: profiles, matching calls, staff decisions, learning.

The engine itself (``tracker.matching``) is pure; these services load the active profile
and the current learned model from the database, match stored calls and store the
verdicts (``CallMatch`` rows, and the gate on ``FundingCall``), record staff decisions
and retrain. They add and flush; the caller commits.

Matching is incremental: a call is (re)matched when it is new, when it changed since it
was last matched, or when the profile or the learned model is newer than its match.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import Session, selectinload

from tracker.errors import NotFound, ValidationFailed
from tracker.i18n import Message, msg
from tracker.matching.call import CallInput
from tracker.matching.engine import CompiledProfile, compile_profile, match_call
from tracker.matching.learning import Decision, LearnedModel, train
from tracker.matching.profile import (
    Context,
    Gates,
    Profile,
    area_from_dict,
    area_to_dict,
    default_profile,
    profile_from_dict,
    profile_to_dict,
)
from tracker.matching.profile import (
    FocusArea as AreaSpec,
)
from tracker.matching.regions import is_nuts_code
from tracker.matching.text import strip_html
from tracker.models import (
    CallMatch,
    DecisionSource,
    FocusArea,
    FundingCall,
    MatchDecision,
    MatchModel,
    StrategyProfile,
    User,
)
from tracker.services.audit import record_event
from tracker.services.inbox import refresh_inbox_entries

log = logging.getLogger(__name__)

# Why staff decided as they did; the review workspace offers these.
RELEVANT_REASONS = ("fits-strategy", "partner-interest", "other")
NOT_RELEVANT_REASONS = (
    "not-our-goals",
    "wrong-area",
    "not-eligible",
    "research-or-industry",
    "national-level",
    "other",
)
IMPORT_REASON = "import"
MODELS_KEPT = 3
BATCH_SIZE = 500


# ------------------------------------------------------------------------- profiles


def _area_data(a: FocusArea) -> dict[str, Any]:
    """A focus area row in the engine's dict form (``area_from_dict``)."""
    return {
        "slug": a.slug,
        "name_sv": a.name_sv,
        "name_en": a.name_en,
        "description_sv": a.description_sv,
        "description_en": a.description_en,
        "threshold": a.threshold,
        "terms": a.vocabulary,
        "negative_terms": a.negative_terms,
        "programme_priors": a.programme_priors,
    }


def profile_of(row: StrategyProfile) -> Profile:
    """The engine's profile from its database rows (retired areas left out)."""
    data = {
        "name": row.name,
        "version": row.version,
        "gates": row.gates or {},
        "context": row.context or {},
        "areas": [
            _area_data(a) for a in sorted(row.areas, key=lambda a: a.position) if not a.is_retired
        ],
    }
    try:
        return profile_from_dict(data)
    except ValueError as exc:  # rows written by these services are valid
        raise ValidationFailed(
            f"stored profile {row.name} v{row.version} is invalid: {exc}"
        ) from exc


def active_profile(session: Session) -> StrategyProfile | None:
    return session.scalar(
        select(StrategyProfile)
        .where(StrategyProfile.is_active.is_(True))
        .order_by(StrategyProfile.version.desc())
        .limit(1)
    )


def get_active_profile(session: Session) -> StrategyProfile:
    row = active_profile(session)
    if row is None:
        raise NotFound(msg("there is no active strategy profile"))
    return row


def ensure_default_profile(session: Session, *, now: datetime) -> StrategyProfile:
    """The active profile; on first run, the default profile of tracker/data is loaded."""
    row = active_profile(session)
    if row is not None:
        return row
    latest = session.scalar(
        select(StrategyProfile).order_by(StrategyProfile.created_at.desc()).limit(1)
    )
    if latest is not None:
        latest.is_active = True
        session.flush()
        return latest
    return _store_profile(session, default_profile(), version=1, retired=(), actor=None, now=now)


def save_profile_version(
    session: Session,
    profile: Profile,
    *,
    actor: User | None,
    now: datetime,
    retired: Sequence[AreaSpec] = (),
) -> StrategyProfile:
    """Store `profile` as the next version and make it the active one.

    Earlier versions stay for the record. Every call is re-matched by the next matching
    run, since the profile is newer than every match. `retired` areas are kept in the
    new version, marked retired (they are not matched but their history stays readable).
    """
    current = active_profile(session)
    name = current.name if current is not None else profile.name
    latest = session.scalar(
        select(func.max(StrategyProfile.version)).where(StrategyProfile.name == name)
    )
    version = (latest or 0) + 1
    if current is not None:
        current.is_active = False
    row = _store_profile(
        session, replace(profile, name=name, version=version), version, retired, actor, now
    )
    record_event(
        session,
        "strategy.profile_saved",
        "strategy_profile",
        row.id,
        actor=actor,
        now=now,
        details={"version": version, "areas": [a.slug for a in profile.areas]},
    )
    return row


def _store_profile(
    session: Session,
    profile: Profile,
    version: int,
    retired: Sequence[AreaSpec],
    actor: User | None,
    now: datetime,
) -> StrategyProfile:
    data = profile_to_dict(profile)
    row = StrategyProfile(
        name=profile.name,
        version=version,
        is_active=True,
        gates=data["gates"],
        context=data["context"],
        created_at=now,
        created_by_id=actor.id if actor is not None else None,
    )
    for position, (area, is_retired) in enumerate(
        [(a, False) for a in profile.areas] + [(a, True) for a in retired]
    ):
        d = area_to_dict(area)
        row.areas.append(
            FocusArea(
                slug=area.slug,
                name_sv=area.name_sv,
                name_en=area.name_en,
                description_sv=area.description_sv,
                description_en=area.description_en,
                vocabulary=d["terms"],
                negative_terms=d["negative_terms"],
                programme_priors=d["programme_priors"],
                threshold=area.threshold,
                position=position,
                is_retired=is_retired,
            )
        )
    session.add(row)
    session.flush()
    return row


def retired_areas(row: StrategyProfile) -> list[AreaSpec]:
    return [area_from_dict(_area_data(a)) for a in row.areas if a.is_retired]


def save_area(
    session: Session,
    area: Mapping[str, Any],
    *,
    actor: User | None,
    now: datetime,
    original_slug: str | None = None,
) -> StrategyProfile:
    """Add an area or replace the one called `original_slug`; a new profile version."""
    row = ensure_default_profile(session, now=now)
    profile = profile_of(row)
    try:
        spec = area_from_dict(area, "area")
    except ValueError as exc:
        raise ValidationFailed(str(exc), _field_error(str(exc))) from exc
    areas = list(profile.areas)
    slugs = [a.slug for a in areas]
    if original_slug is not None and original_slug not in slugs:
        raise NotFound(msg("no focus area %(slug)s", slug=original_slug))
    taken = set(slugs) - {original_slug} | {a.slug for a in retired_areas(row)}
    if spec.slug in taken:
        taken_msg = msg("the short name %(slug)s is already used", slug=spec.slug)
        raise ValidationFailed(taken_msg, {"slug": taken_msg})
    if original_slug is None:
        areas.append(spec)
    else:
        areas[slugs.index(original_slug)] = spec
    return save_profile_version(
        session,
        replace(profile, areas=tuple(areas)),
        actor=actor,
        now=now,
        retired=retired_areas(row),
    )


def retire_area(
    session: Session, slug: str, *, actor: User | None, now: datetime
) -> StrategyProfile:
    """Stop matching an area; its past decisions and matches stay."""
    row = ensure_default_profile(session, now=now)
    profile = profile_of(row)
    keep = [a for a in profile.areas if a.slug != slug]
    if len(keep) == len(profile.areas):
        raise NotFound(msg("no focus area %(slug)s", slug=slug))
    if not keep:
        raise ValidationFailed(msg("a profile needs at least one focus area"))
    gone = next(a for a in profile.areas if a.slug == slug)
    return save_profile_version(
        session,
        replace(profile, areas=tuple(keep)),
        actor=actor,
        now=now,
        retired=[*retired_areas(row), gone],
    )


def save_profile_settings(
    session: Session, data: Mapping[str, Any], *, actor: User | None, now: datetime
) -> StrategyProfile:
    """Replace the profile-wide gates and context (from their JSON form)."""
    row = ensure_default_profile(session, now=now)
    profile = profile_of(row)
    current = profile_to_dict(profile)
    candidate = {
        **current,
        "gates": data.get("gates", current["gates"]),
        "context": data.get("context", current["context"]),
    }
    try:
        checked = profile_from_dict(candidate)
    except ValueError as exc:
        raise ValidationFailed(str(exc), {"settings": str(exc)}) from exc
    return save_profile_version(
        session,
        replace(profile, gates=checked.gates, context=checked.context),
        actor=actor,
        now=now,
        retired=retired_areas(row),
    )


def set_home_region(
    session: Session, code: str, *, actor: User | None, now: datetime
) -> StrategyProfile:
    """Change the municipality's region (a NUTS code) the region gate checks against."""
    region = code.strip().upper()
    if not is_nuts_code(region):
        raise ValidationFailed(
            msg("%(code)s is not a NUTS code (e.g. SE123 for Östergötland).", code=code.strip()),
            {"home_region": msg("give a NUTS code, e.g. SE123")},
        )
    row = ensure_default_profile(session, now=now)
    profile = profile_of(row)
    return save_profile_version(
        session,
        replace(profile, gates=replace(profile.gates, home_region=region)),
        actor=actor,
        now=now,
        retired=retired_areas(row),
    )


_FIELD_MESSAGES = {
    "slug": msg("use lower-case words joined by hyphens, e.g. energy-environment"),
    "name_sv": msg("required"),
    "name_en": msg("required"),
    "threshold": msg("give a number from 0 to 100"),
}


def _field_error(message: str) -> dict[str, str]:
    """Map "area.threshold must be ..." to the form field it is about."""
    key = message.split(" ", 1)[0]
    if key.startswith("area."):
        field = key[len("area.") :].split("[", 1)[0].split(".", 1)[0]
        return {field: _FIELD_MESSAGES.get(field, message)}
    return {}


_COMPILED: dict[str, CompiledProfile] = {}


def compiled_profile(session: Session, row: StrategyProfile | None = None) -> CompiledProfile:
    """The active profile (or `row`), compiled; cached by content, as compiling takes time."""
    row = row or get_active_profile(session)
    profile = profile_of(row)
    key = hashlib.sha256(
        json.dumps(profile_to_dict(profile), sort_keys=True).encode("utf-8")
    ).hexdigest()
    compiled = _COMPILED.get(key)
    if compiled is None:
        if len(_COMPILED) > 8:
            _COMPILED.clear()
        compiled = _COMPILED[key] = compile_profile(profile)
    return compiled


def profile_gates(row: StrategyProfile) -> Gates:
    return profile_of(row).gates


def profile_context(row: StrategyProfile) -> Context:
    return profile_of(row).context


# ------------------------------------------------------------------------- matching


def call_input(call: FundingCall) -> CallInput:
    """The engine's view of a stored call."""
    description = call.description_text or (
        strip_html(call.description_html) if call.description_html else ""
    )
    if call.summary and call.summary not in description:
        description = f"{call.summary}\n{description}"
    if call.eligible_applicants:
        description = f"{description}\nEligible applicants: {call.eligible_applicants}"
    # A cascade call's own identifier says nothing; its EU topic's does.
    identifier = call.identifier or ""
    if call.parent_identifier and not CallInput(id="", title="", identifier=identifier).topic_id:
        identifier = call.parent_identifier
    area = call.eligible_area or {}
    return CallInput(
        id=str(call.id),
        identifier=identifier,
        eligible_countries=tuple(area.get("country_names") or ()),
        eligible_nuts=tuple(area.get("nuts") or area.get("countries") or ()),
        is_withdrawn=call.is_withdrawn,
        title=call.title,
        call_title=call.call_title or "",
        programme=call.programme_label or "",
        programme_code=call.programme_code or "",
        keywords=tuple(call.keywords or ()),
        tags=tuple(call.tags or ()),
        description=description,
        deadlines=tuple(d.deadline_at for d in call.deadlines),
        deadline_model=call.deadline_model,
    )


@dataclass(frozen=True)
class MatchRun:
    """What a matching run did."""

    calls: int
    matched: int
    gated: int
    seconds: float


def match_calls(
    session: Session,
    call_ids: Sequence[int] | None,
    *,
    now: datetime,
    everything: bool = False,
    batch_size: int = BATCH_SIZE,
) -> MatchRun:
    """Match stored calls against the active profile and store the verdicts.

    `call_ids` names the calls to match (after a fetch: the new and changed ones); None
    means every call that needs it: never matched, changed since, or matched before the
    active profile or the current model existed. `everything` re-matches all calls.
    A stored match keeps the time it was first found while it stays a match.
    """
    started = time.perf_counter()
    row = ensure_default_profile(session, now=now)
    compiled = compiled_profile(session, row)
    model_row = current_model_row(session)
    model = load_model(model_row) if model_row is not None else None
    areas = {a.slug: a.id for a in row.areas if not a.is_retired}

    if call_ids is not None:
        ids = sorted(set(call_ids))
    else:
        query = select(FundingCall.id).order_by(FundingCall.id)
        if not everything:
            stale_before = max(
                row.created_at, model_row.trained_at if model_row is not None else row.created_at
            )
            query = query.where(
                or_(
                    FundingCall.matched_at.is_(None),
                    FundingCall.matched_at < FundingCall.updated_at,
                    FundingCall.matched_at < stale_before,
                )
            )
        ids = list(session.scalars(query))

    matched = gated = 0
    for start in range(0, len(ids), batch_size):
        batch = ids[start : start + batch_size]
        calls = session.scalars(
            select(FundingCall)
            .where(FundingCall.id.in_(batch))
            .options(selectinload(FundingCall.deadlines))
        ).all()
        # A call that already matched an area keeps the time it first matched it, so
        # that re-matching (after a profile edit or retraining) makes nothing "new".
        matched_since = {
            (call_id, slug): at
            for call_id, slug, at in session.execute(
                select(CallMatch.call_id, FocusArea.slug, CallMatch.matched_at)
                .join(FocusArea, FocusArea.id == CallMatch.focus_area_id)
                .where(CallMatch.call_id.in_(batch), CallMatch.is_match.is_(True))
            )
        }
        match_rows: list[dict[str, Any]] = []
        call_rows: list[dict[str, Any]] = []
        for call in calls:
            result = match_call(compiled, call_input(call), now=now, model=model)
            gate = result.gate
            gated += gate is not None
            matched += bool(result.matches)
            call_rows.append(
                {
                    "id": call.id,
                    "gate_code": gate.code if gate else None,
                    "gate_reason": gate.reason if gate else None,
                    "gate_params": gate_params(gate.reason) if gate else None,
                    "matched_at": now,
                }
            )
            basis = _text_basis(call)
            for area in result.areas:
                match_rows.append(
                    {
                        "call_id": call.id,
                        "focus_area_id": areas[area.slug],
                        "score": area.score,
                        "is_match": area.is_match,
                        "evidence": [*basis, *(e.to_dict() for e in area.evidence)],
                        "matched_at": matched_since.get((call.id, area.slug), now)
                        if area.is_match
                        else now,
                    }
                )
        found = [c.id for c in calls]
        session.execute(delete(CallMatch).where(CallMatch.call_id.in_(found)))
        if match_rows:
            session.execute(insert(CallMatch), match_rows)
        if call_rows:
            session.execute(update(FundingCall), call_rows)
        # The bulk statements bypassed the ORM objects of this batch: refresh on next use.
        for call in calls:
            session.expire(call)
        # The review inbox reads its own copy of the matches and the calls' dates.
        refresh_inbox_entries(session, found, now=now)
    seconds = time.perf_counter() - started
    log.info(
        "matched %d calls (%d match an area, %d gated) in %.1f s", len(ids), matched, gated, seconds
    )
    return MatchRun(calls=len(ids), matched=matched, gated=gated, seconds=seconds)


def gate_params(reason: str) -> dict[str, Any] | None:
    """The parameters of a gate's sentence, when it can be shown in another language."""
    return dict(reason.params) if isinstance(reason, Message) and reason.params else None


NO_TEXT_BASIS = msg("No description: matched on title, themes and programme only.")


def _text_basis(call: FundingCall) -> list[dict[str, Any]]:
    """Evidence that a call without text was matched on little (its page was not read)."""
    if call.description_text or call.summary:
        return []
    return [{"kind": "basis", "text": str(NO_TEXT_BASIS), "weight": 0.0}]


def call_matches(session: Session, call_id: int) -> list[tuple[FocusArea, CallMatch]]:
    """The stored scores of a call, best first, with their areas."""
    rows = session.execute(
        select(FocusArea, CallMatch)
        .join(CallMatch, CallMatch.focus_area_id == FocusArea.id)
        .where(CallMatch.call_id == call_id)
        .order_by(CallMatch.is_match.desc(), CallMatch.score.desc())
    ).all()
    return [(area, match) for area, match in rows]


@dataclass(frozen=True)
class MatchedCall:
    call: FundingCall
    matches: list[tuple[FocusArea, CallMatch]]

    @property
    def best_score(self) -> float:
        return max((m.score for _, m in self.matches), default=0.0)


def list_matched_calls(
    session: Session, *, area_slug: str | None = None, limit: int = 100
) -> list[MatchedCall]:
    """Calls that match an area of the active profile (or `area_slug`), best score first."""
    query = (
        select(FocusArea, CallMatch)
        .join(CallMatch, CallMatch.focus_area_id == FocusArea.id)
        .join(StrategyProfile, StrategyProfile.id == FocusArea.profile_id)
        .where(StrategyProfile.is_active.is_(True), CallMatch.is_match.is_(True))
        .order_by(CallMatch.score.desc(), CallMatch.call_id)
    )
    if area_slug:
        query = query.where(FocusArea.slug == area_slug)
    by_call: dict[int, list[tuple[FocusArea, CallMatch]]] = {}
    for area, match in session.execute(query):
        if match.call_id not in by_call and len(by_call) >= limit:
            continue
        by_call.setdefault(match.call_id, []).append((area, match))
    calls = {
        c.id: c for c in session.scalars(select(FundingCall).where(FundingCall.id.in_(by_call)))
    }
    return [MatchedCall(calls[i], rows) for i, rows in by_call.items() if i in calls]


# ------------------------------------------------------------------------ decisions


def call_key(call: FundingCall) -> str:
    return call.identifier or f"call:{call.id}"


def record_decision(
    session: Session,
    call_id: int,
    area_slug: str,
    *,
    relevant: bool,
    reason: str,
    actor: User | None,
    now: datetime,
    source: DecisionSource = DecisionSource.REVIEW,
) -> MatchDecision:
    """Store staff's verdict on a call for an area (replacing an earlier one)."""
    call = session.get(FundingCall, call_id)
    if call is None:
        raise NotFound(msg("no call %(id)d", id=call_id))
    row = ensure_default_profile(session, now=now)
    if area_slug not in {a.slug for a in row.areas}:
        raise ValidationFailed(
            msg("no focus area %(slug)s", slug=area_slug), {"area": msg("choose a focus area")}
        )
    allowed = RELEVANT_REASONS if relevant else NOT_RELEVANT_REASONS
    if source is DecisionSource.REVIEW and reason not in allowed:
        raise ValidationFailed(
            msg("unknown reason %(reason)s", reason=reason), {"reason": msg("choose a reason")}
        )
    decision = _upsert_decision(
        session,
        key=call_key(call),
        call_id=call.id,
        snapshot=None,
        slug=area_slug,
        relevant=relevant,
        reason=reason,
        source=source,
        actor=actor,
        now=now,
    )
    record_event(
        session,
        "matching.decision",
        "funding_call",
        call.id,
        actor=actor,
        now=now,
        details={"area": area_slug, "relevant": relevant, "reason": reason},
    )
    return decision


def _upsert_decision(
    session: Session,
    *,
    key: str,
    call_id: int | None,
    snapshot: dict[str, Any] | None,
    slug: str,
    relevant: bool,
    reason: str,
    source: DecisionSource,
    actor: User | None,
    now: datetime,
) -> MatchDecision:
    decision = session.scalar(
        select(MatchDecision).where(MatchDecision.call_key == key, MatchDecision.area_slug == slug)
    )
    if decision is None:
        decision = MatchDecision(call_key=key, area_slug=slug)
        session.add(decision)
    decision.call_id = call_id
    decision.call_snapshot = snapshot
    decision.relevant = relevant
    decision.reason = reason
    decision.source = source
    decision.actor_id = actor.id if actor is not None else None
    decision.decided_at = now
    session.flush()
    return decision


def import_decisions(
    session: Session,
    labels: Mapping[str, Iterable[str]],
    calls: Mapping[str, CallInput],
    *,
    actor: User | None,
    now: datetime,
) -> int:
    """Labelled calls as decisions: relevant for the listed areas, not for the others.

    A labelled call already in the database (same identifier) is linked to it; other
    calls keep their text with the decision. Returns the number of decisions stored.
    """
    row = ensure_default_profile(session, now=now)
    slugs = [a.slug for a in row.areas if not a.is_retired]
    unknown = sorted({s for areas in labels.values() for s in areas} - set(slugs))
    if unknown:
        raise ValidationFailed(msg("unknown focus area %(slug)s in the labels", slug=unknown[0]))
    stored = {
        c.identifier: c.id
        for c in session.scalars(
            select(FundingCall).where(FundingCall.identifier.in_(list(labels)))
        )
        if c.identifier
    }
    count = 0
    for key in sorted(labels):
        call = calls.get(key)
        if call is None:
            continue
        call_id = stored.get(key)
        snapshot = None if call_id is not None else _snapshot(call)
        chosen = set(labels[key])
        for slug in slugs:
            _upsert_decision(
                session,
                key=key,
                call_id=call_id,
                snapshot=snapshot,
                slug=slug,
                relevant=slug in chosen,
                reason=IMPORT_REASON,
                source=DecisionSource.IMPORT,
                actor=actor,
                now=now,
            )
            count += 1
    record_event(
        session,
        "matching.import",
        "match_decisions",
        None,
        actor=actor,
        now=now,
        details={"calls": len(labels), "decisions": count},
    )
    return count


def _snapshot(call: CallInput) -> dict[str, Any]:
    return {
        "title": call.title,
        "call_title": call.call_title,
        "programme": call.programme,
        "programme_code": call.programme_code,
        "identifier": call.identifier or call.id,
        "keywords": list(call.keywords),
        "tags": list(call.tags),
        "text": call.description,
    }


def decisions_for_call(session: Session, call: FundingCall) -> dict[str, MatchDecision]:
    rows = session.scalars(select(MatchDecision).where(MatchDecision.call_key == call_key(call)))
    return {d.area_slug: d for d in rows}


# ------------------------------------------------------------------------- learning


def current_model_row(session: Session) -> MatchModel | None:
    return session.scalar(
        select(MatchModel).order_by(MatchModel.trained_at.desc(), MatchModel.id.desc()).limit(1)
    )


_MODELS: dict[tuple[int, datetime, int], LearnedModel] = {}


def load_model(row: MatchModel) -> LearnedModel:
    """The learned model of a stored row (cached: decoding a large model takes time)."""
    key = (row.id, row.trained_at, row.decision_count)
    model = _MODELS.get(key)
    if model is None:
        if len(_MODELS) > 4:
            _MODELS.clear()
        model = _MODELS[key] = LearnedModel.from_dict(row.model)
    return model


def retrain(session: Session, *, now: datetime, force: bool = False) -> MatchModel | None:
    """Train a model on every stored decision and make it the current one.

    Returns None when there is nothing new to learn from (no decision since the current
    model), unless `force`. Only the last few models are kept.
    """
    latest_decision = session.scalar(select(func.max(MatchDecision.decided_at)))
    if latest_decision is None:
        return None
    current = current_model_row(session)
    if current is not None and not force and latest_decision <= current.trained_at:
        return None
    row = ensure_default_profile(session, now=now)
    compiled = compiled_profile(session, row)
    decisions = list(session.scalars(select(MatchDecision).order_by(MatchDecision.id)))
    linked_ids = {d.call_id for d in decisions if d.call_id is not None}
    inputs: dict[str, CallInput] = {}
    for start in range(0, len(linked_ids), BATCH_SIZE):
        chunk = sorted(linked_ids)[start : start + BATCH_SIZE]
        for call in session.scalars(
            select(FundingCall)
            .where(FundingCall.id.in_(chunk))
            .options(selectinload(FundingCall.deadlines))
        ):
            inputs[call_key(call)] = replace(call_input(call), deadlines=())
    for d in decisions:
        if d.call_key not in inputs and d.call_snapshot:
            snap = d.call_snapshot
            inputs[d.call_key] = CallInput(
                id=d.call_key,
                identifier=str(snap.get("identifier") or d.call_key),
                title=str(snap.get("title") or ""),
                call_title=str(snap.get("call_title") or ""),
                programme=str(snap.get("programme") or ""),
                programme_code=str(snap.get("programme_code") or ""),
                keywords=tuple(snap.get("keywords") or ()),
                tags=tuple(snap.get("tags") or ()),
                description=str(snap.get("text") or ""),
            )
    usable = [
        Decision(d.call_key, d.area_slug, d.relevant, d.reason)
        for d in decisions
        if d.call_key in inputs
    ]
    model = train(compiled, inputs, usable)
    stored = MatchModel(
        profile_id=row.id,
        trained_at=now,
        decision_count=sum(model.counts.values()),
        model=model.to_dict(),
    )
    session.add(stored)
    session.flush()
    old = list(
        session.scalars(
            select(MatchModel.id)
            .order_by(MatchModel.trained_at.desc(), MatchModel.id.desc())
            .offset(MODELS_KEPT)
        )
    )
    if old:
        session.execute(delete(MatchModel).where(MatchModel.id.in_(old)))
    log.info("retrained the matching model on %d decisions", len(usable))
    return stored


def load_matching_defaults(session: Session, _settings: object, now: datetime) -> None:
    """First-run default (bootstrap loader): the default strategy profile."""
    ensure_default_profile(session, now=now)

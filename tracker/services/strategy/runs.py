"""Matching stored calls against the active profile and keeping the verdicts.

Matching is incremental: a call is (re)matched when it is new, when it changed since it
was last matched, or when the profile or the learned model is newer than its match.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session, selectinload

from tracker.db import take_turns
from tracker.i18n import Message
from tracker.matching.call import CallInput
from tracker.matching.engine import match_call
from tracker.matching.text import strip_html
from tracker.models import (
    CallMatch,
    FocusArea,
    FundingCall,
    StrategyProfile,
)
from tracker.services.inbox.entries import refresh_inbox_entries
from tracker.services.strategy.evidence import basis_evidence
from tracker.services.strategy.profiles import (
    compiled_profile,
    current_model_row,
    ensure_default_profile,
    load_model,
    upgrade_default_profile,
)

log = logging.getLogger(__name__)

__all__ = [
    "BATCH_SIZE",
    "MatchRun",
    "MatchedCall",
    "call_input",
    "call_matches",
    "gate_params",
    "list_matched_calls",
    "match_calls",
]


BATCH_SIZE = 500


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
        eligible_applicants=call.eligible_applicants or "",
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

    A run over every call that needs it (None) first upgrades an unedited shipped default
    to the one this tracker ships, so that the same run re-matches every call with it. A
    run over named calls (after a fetch) leaves the profile alone, since it would re-match
    only those calls with the new one.
    """
    started = time.perf_counter()
    take_turns(session, "matching")  # the job, a fetch and a profile edit may match at once
    if call_ids is None:
        upgrade_default_profile(session, now=now)
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
            basis = [
                e.to_dict() for e in basis_evidence(bool(call.description_text or call.summary))
            ]
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
    """The parameters of a gate's sentence, with its English template under "template", so
    that the sentence can be shown in another language."""
    if isinstance(reason, Message) and reason.params:
        return {**reason.params, "template": reason.template}
    return None


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

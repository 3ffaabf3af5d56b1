"""Staff decisions on calls (relevant or not, with a reason): recorded, imported and read
back as learning examples.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.errors import NotFound, ValidationFailed
from tracker.i18n import msg
from tracker.matching.call import CallInput
from tracker.models import (
    DecisionSource,
    FundingCall,
    MatchDecision,
    User,
)
from tracker.services.audit import record_event
from tracker.services.strategy.profiles import ensure_default_profile

log = logging.getLogger(__name__)

__all__ = [
    "IMPORT_REASON",
    "NOT_RELEVANT_REASONS",
    "RELEVANT_REASONS",
    "call_key",
    "decisions_for_call",
    "import_decisions",
    "record_decision",
]


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

"""Triage: moving a call through the workflow with a reason, one call at a time or many
dismissed at once, and assigning it. Every change of state or assignment is kept as a
``TriageEvent``, the call's timeline; changes to one call are serialised (a row lock), and
a change made on a stale page is refused.

The functions add and flush; the caller commits.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from tracker.i18n import msg
from tracker.models import (
    CallMatch,
    CallReview,
    DecisionSource,
    DismissReason,
    FocusArea,
    FundingCall,
    Office,
    StrategyProfile,
    TriageEvent,
    TriageState,
    User,
)
from tracker.services.audit import record_event
from tracker.services.inbox.entries import sync_entry_review
from tracker.services.inbox.workflow import TRANSITIONS, S
from tracker.services.strategy.decisions import record_decision

log = logging.getLogger(__name__)

__all__ = [
    "MAX_NOTE_LENGTH",
    "NOT_RELEVANT_REASONS",
    "RELEVANT_REASON",
    "RELEVANT_STATES",
    "BulkResult",
    "assign",
    "bulk_dismiss",
    "change_state",
    "latest_event_id",
    "learning_label",
    "parse_reason",
    "parse_state",
    "record_learning_decision",
    "triage_versions",
]


MAX_NOTE_LENGTH = 4000


def latest_event_id(session: Session, call: FundingCall) -> int:
    """The id of the call's latest triage event (0 before the first): the version of the
    decision a page showed, sent back by its forms so a change made meanwhile is noticed."""
    return (
        session.scalar(select(func.max(TriageEvent.id)).where(TriageEvent.call_id == call.id)) or 0
    )


def _review_for_update(
    session: Session, call: FundingCall, now: datetime, *, seen_event_id: int | None = None
) -> CallReview:
    """The call's review row, read after taking the call's lock: one decision at a time per
    call. PostgreSQL locks the call's row until the commit (FOR NO KEY UPDATE still lets
    others add comments or events that point at the call); SQLite has no row locks, and a
    writing request takes the database's write lock when it begins (``for_writing``).

    Locking the call rather than the review row also covers a call's first decision, when
    there is no review row to lock yet. With ``seen_event_id`` (the latest event the user's
    page showed), a decision taken by someone else in between raises Conflict."""
    session.execute(
        select(FundingCall.id).where(FundingCall.id == call.id).with_for_update(key_share=True)
    )
    if seen_event_id is not None and latest_event_id(session, call) != seen_event_id:
        raise Conflict(msg("someone else changed this call while you were deciding"))
    review = session.scalar(
        select(CallReview)
        .where(CallReview.call_id == call.id)
        .execution_options(populate_existing=True)
    )
    if review is None:
        review = CallReview(call_id=call.id, state=TriageState.NEW, updated_at=now)
        session.add(review)
    return review


def _clean_note(note: str | None) -> str | None:
    note = (note or "").strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise ValidationFailed(
            msg("the note may have at most %(count)d characters", count=MAX_NOTE_LENGTH),
            {"note": msg("the note may have at most %(count)d characters", count=MAX_NOTE_LENGTH)},
        )
    return note or None


def parse_state(value: str) -> TriageState:
    try:
        return TriageState(value)
    except ValueError:
        raise ValidationFailed(
            msg("unknown triage state %(state)s", state=value),
            {"state": msg("choose a state")},
        ) from None


def parse_reason(value: str | None) -> DismissReason | None:
    if not value:
        return None
    try:
        return DismissReason(value)
    except ValueError:
        raise ValidationFailed(
            msg("unknown reason %(reason)s", reason=value), {"reason": msg("choose a reason")}
        ) from None


def change_state(
    session: Session,
    call: FundingCall,
    state: TriageState,
    *,
    actor: User,
    now: datetime,
    reason: DismissReason | None = None,
    note: str | None = None,
    seen_event_id: int | None = None,
) -> TriageEvent:
    """Move the call to ``state`` and record who did it, when, from which state, why.

    Dismissing requires a reason, and the reason "other" a note; other states take no
    reason. Raises InvalidTransition for a move the workflow does not allow, and Conflict when
    ``seen_event_id`` is given and someone else decided on the call after it. Decisions on
    one call are serialised (see ``_review_for_update``), so the timeline is one chain."""
    note = _clean_note(note)
    if state == TriageState.DISMISSED:
        if reason is None:
            raise ValidationFailed(
                msg("a dismissal needs a reason"),
                {"reason": msg("choose why the call is dismissed")},
            )
        if reason == DismissReason.OTHER and not note:
            raise ValidationFailed(
                msg("say in the note why the call is dismissed"),
                {"note": msg("say in the note why the call is dismissed")},
            )
    elif reason is not None:
        raise ValidationFailed(
            msg("only a dismissal takes a reason"),
            {"reason": msg("only a dismissal takes a reason")},
        )
    review = _review_for_update(session, call, now, seen_event_id=seen_event_id)
    previous = review.state
    if state not in TRANSITIONS[previous]:
        raise InvalidTransition(
            msg(
                "a call cannot go from %(old)s to %(new)s",
                old=previous.value,
                new=state.value,
            )
        )
    review.state = state
    review.dismiss_reason = reason
    review.updated_at = now
    sync_entry_review(session, call.id, state=state, office_id=review.office_id)
    event = TriageEvent(
        call_id=call.id,
        actor_id=actor.id,
        at=now,
        kind="state",
        from_state=previous,
        to_state=state,
        reason=reason,
        note=note,
    )
    session.add(event)
    session.flush()
    record_event(
        session,
        "call.triaged",
        "call",
        call.id,
        actor=actor,
        now=now,
        details={"from": previous.value, "to": state.value, "reason": reason and reason.value},
    )
    record_learning_decision(session, call, state, reason=reason, actor=actor, now=now)
    return event


# What a triage decision tells the matching engine, in its reason codes. "No capacity" or
# "deadline too close" say nothing about the call's relevance and are not passed on.
NOT_RELEVANT_REASONS = {
    DismissReason.NOT_OUR_GOALS: "not-our-goals",
    DismissReason.NOT_ELIGIBLE: "not-eligible",
}


RELEVANT_STATES = frozenset({S.INTERESTED, S.PREPARING, S.SUBMITTED, S.AWARDED, S.NOT_FUNDED})


RELEVANT_REASON = "fits-strategy"


def learning_label(state: TriageState, reason: DismissReason | None) -> bool | None:
    """What a decision tells the matching engine: relevant (True), not relevant (False), or
    nothing (None)."""
    if state in RELEVANT_STATES:
        return True
    if state == TriageState.DISMISSED and reason in NOT_RELEVANT_REASONS:
        return False
    return None


def record_learning_decision(
    session: Session,
    call: FundingCall,
    state: TriageState,
    *,
    reason: DismissReason | None,
    actor: User,
    now: datetime,
) -> None:
    """Hand a staff decision to the matching engine's learning, for every area the call
    matched; decisions that say nothing about relevance are not passed on."""
    label = learning_label(state, reason)
    if label is None:
        return
    engine_reason = RELEVANT_REASON if label else NOT_RELEVANT_REASONS[reason]  # type: ignore[index]
    slugs = session.scalars(
        select(FocusArea.slug)
        .join(CallMatch, CallMatch.focus_area_id == FocusArea.id)
        .join(StrategyProfile, StrategyProfile.id == FocusArea.profile_id)
        .where(
            CallMatch.call_id == call.id,
            CallMatch.is_match.is_(True),
            StrategyProfile.is_active,
            FocusArea.is_retired.is_(False),
        )
    ).all()
    for slug in slugs:
        record_decision(
            session,
            call.id,
            slug,
            relevant=label,
            reason=engine_reason,
            actor=actor,
            now=now,
            source=DecisionSource.REVIEW,
        )


@dataclass(frozen=True)
class BulkResult:
    dismissed: list[int]
    skipped: list[int]  # their state cannot be dismissed
    changed: list[int] = field(default_factory=list)  # someone decided after the page was shown


def triage_versions(session: Session, call_ids: Iterable[int]) -> dict[int, int]:
    """Each call's latest triage event id (``latest_event_id``) in one query; calls without
    an event are left out (their version is 0). The inbox page sends these back with a bulk
    dismissal."""
    ids = sorted(set(call_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(TriageEvent.call_id, func.max(TriageEvent.id))
        .where(TriageEvent.call_id.in_(ids))
        .group_by(TriageEvent.call_id)
    )
    return {call_id: latest for call_id, latest in rows}


def bulk_dismiss(
    session: Session,
    call_ids: Iterable[int],
    *,
    reason: DismissReason,
    actor: User,
    now: datetime,
    note: str | None = None,
    seen: Mapping[int, int] | None = None,
) -> BulkResult:
    """Dismiss several calls with one reason. Calls already dismissed, or whose state cannot
    be dismissed (a submitted application), are skipped and reported. With ``seen`` (call id
    -> the version its page showed, see ``triage_versions``), a call someone else decided on
    after that is left as it is and reported in ``changed``; the others are dismissed. A call
    missing from ``seen`` is not checked."""
    ids = sorted(set(call_ids))
    if not ids:
        raise ValidationFailed(
            msg("choose at least one call"), {"call_ids": msg("choose at least one call")}
        )
    calls = {c.id: c for c in session.scalars(select(FundingCall).where(FundingCall.id.in_(ids)))}
    missing = [i for i in ids if i not in calls]
    if missing:
        raise NotFound(msg("no call with id %(id)s", id=missing[0]))
    dismissed, skipped, changed = [], [], []
    for call_id in ids:  # in id order, so two bulk dismissals lock shared calls in one order
        try:
            change_state(
                session,
                calls[call_id],
                TriageState.DISMISSED,
                actor=actor,
                now=now,
                reason=reason,
                note=note,
                seen_event_id=None if seen is None else seen.get(call_id),
            )
        except InvalidTransition:
            skipped.append(call_id)
        except Conflict:
            changed.append(call_id)
        else:
            dismissed.append(call_id)
    return BulkResult(dismissed, skipped, changed)


def assign(
    session: Session,
    call: FundingCall,
    *,
    actor: User,
    now: datetime,
    office: Office | None,
    assignee: User | None,
    note: str | None = None,
    seen_event_id: int | None = None,
) -> TriageEvent:
    """Give the call to an office and a person (either may be None to clear it). A person
    given without an office brings their own office. Serialised per call like
    ``change_state``; Conflict when ``seen_event_id`` is not the call's latest event."""
    note = _clean_note(note)
    errors = {}
    if assignee is not None and not assignee.is_active:
        errors["assignee"] = msg("%(name)s cannot sign in any more", name=assignee.display_name)
    if office is not None and not office.is_active:
        errors["office"] = msg("the office %(slug)s is closed", slug=office.slug)
    if errors:
        raise ValidationFailed("; ".join(errors.values()), errors)
    if office is None and assignee is not None:
        office = assignee.office
    review = _review_for_update(session, call, now, seen_event_id=seen_event_id)
    if review.office_id == (office.id if office else None) and review.assignee_id == (
        assignee.id if assignee else None
    ):
        raise InvalidTransition(msg("the call is already assigned so"))
    review.office = office
    review.assignee = assignee
    review.updated_at = now
    sync_entry_review(session, call.id, state=review.state, office_id=office.id if office else None)
    event = TriageEvent(
        call_id=call.id,
        actor_id=actor.id,
        at=now,
        kind="assignment",
        office_id=office.id if office else None,
        assignee_id=assignee.id if assignee else None,
        note=note,
    )
    session.add(event)
    session.flush()
    record_event(
        session,
        "call.assigned",
        "call",
        call.id,
        actor=actor,
        now=now,
        details={
            "office": office.slug if office else None,
            "assignee": assignee and assignee.email,
        },
    )
    return event

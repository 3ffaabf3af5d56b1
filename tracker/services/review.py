"""Deciding on calls: triage with reasons, assignment, comments with @mentions, watching,
saved filters and internal milestones. Every change of state or assignment is kept as a
``TriageEvent``, the call's timeline.

The functions add and flush; the caller commits.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from tracker.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from tracker.i18n import msg
from tracker.models import (
    CallChange,
    CallMatch,
    CallReview,
    CallSourceLink,
    Comment,
    DecisionSource,
    DismissReason,
    FocusArea,
    FundingCall,
    Mention,
    Milestone,
    Office,
    Project,
    SavedFilter,
    Source,
    StrategyProfile,
    TriageEvent,
    TriageState,
    User,
    Watch,
)
from tracker.services.audit import record_event
from tracker.services.inbox import PARAMETERS, parse_filters, sync_entry_review
from tracker.services.matching import record_decision

log = logging.getLogger(__name__)

S = TriageState
# Where a call may go from each state. Going back is allowed where people correct a decision
# (a dismissed call can be taken up again); a submitted application can only end.
TRANSITIONS: dict[TriageState, frozenset[TriageState]] = {
    S.NEW: frozenset({S.INTERESTED, S.PREPARING, S.DISMISSED}),
    S.INTERESTED: frozenset({S.NEW, S.PREPARING, S.DISMISSED}),
    S.PREPARING: frozenset({S.INTERESTED, S.SUBMITTED, S.WITHDRAWN, S.DISMISSED}),
    S.SUBMITTED: frozenset({S.AWARDED, S.NOT_FUNDED, S.WITHDRAWN}),
    S.AWARDED: frozenset({S.WITHDRAWN}),
    S.NOT_FUNDED: frozenset({S.INTERESTED}),
    S.WITHDRAWN: frozenset({S.INTERESTED, S.PREPARING}),
    S.DISMISSED: frozenset({S.NEW, S.INTERESTED}),
}
# States whose deadlines go into the calendar of everyone, watched or not.
CALENDAR_STATES = frozenset({S.INTERESTED, S.PREPARING})
MAX_NOTE_LENGTH = 4000
MAX_COMMENT_LENGTH = 10000
MAX_TITLE_LENGTH = 300
# @anna or @anna.berg@norrkoping.se: the part before @ of a user's email, or all of it.
MENTION_PATTERN = re.compile(r"(?<![\w.@])@([\w.+-]+(?:@[\w-]+(?:\.[\w-]+)+)?)")


# --- reading ------------------------------------------------------------------------------------


def get_call(session: Session, call_id: int) -> FundingCall:
    call = session.get(FundingCall, call_id)
    if call is None:
        raise NotFound(msg("no call with id %(id)s", id=call_id))
    return call


def get_review(session: Session, call: FundingCall) -> CallReview | None:
    return session.scalar(select(CallReview).where(CallReview.call_id == call.id))


def current_state(session: Session, call: FundingCall) -> TriageState:
    review = get_review(session, call)
    return review.state if review is not None else TriageState.NEW


def allowed_states(state: TriageState) -> list[TriageState]:
    """The states a call in ``state`` may move to, in the order of the workflow."""
    return [s for s in TriageState if s in TRANSITIONS[state]]


def timeline(session: Session, call: FundingCall) -> list[TriageEvent]:
    """Every change of state and assignment, oldest first."""
    return list(
        session.scalars(
            select(TriageEvent)
            .where(TriageEvent.call_id == call.id)
            .options(
                selectinload(TriageEvent.actor),
                selectinload(TriageEvent.office),
                selectinload(TriageEvent.assignee),
            )
            .order_by(TriageEvent.at, TriageEvent.id)
        )
    )


def comments(session: Session, call: FundingCall) -> list[Comment]:
    return list(
        session.scalars(
            select(Comment)
            .where(Comment.call_id == call.id)
            .options(selectinload(Comment.author), selectinload(Comment.mentions))
            .order_by(Comment.created_at, Comment.id)
        )
    )


@dataclass(frozen=True)
class AreaEvidence:
    area: FocusArea
    match: CallMatch


def match_evidence(session: Session, call: FundingCall) -> list[AreaEvidence]:
    """The engine's verdict per focus area of the active profile, best first."""
    rows = session.execute(
        select(FocusArea, CallMatch)
        .join(CallMatch, CallMatch.focus_area_id == FocusArea.id)
        .join(StrategyProfile, StrategyProfile.id == FocusArea.profile_id)
        .where(CallMatch.call_id == call.id, StrategyProfile.is_active)
        .order_by(CallMatch.is_match.desc(), CallMatch.score.desc())
    )
    return [AreaEvidence(area, match) for area, match in rows]


@dataclass(frozen=True)
class DeadlineChange:
    """A deadline that moved (or was added or removed): from, to, and when the tracker
    noticed, from which source."""

    position: int
    old: datetime | None
    new: datetime | None
    noticed_at: datetime
    source_name: str | None = None


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def deadline_history(session: Session, call: FundingCall) -> list[DeadlineChange]:
    """How the call's deadlines moved, oldest first, from ingestion's change history: each
    recorded change of the deadline list, paired by position ("moved from 15 Sep to 1 Oct")."""
    rows = session.execute(
        select(CallChange, Source.name)
        .outerjoin(Source, Source.id == CallChange.source_id)
        .where(CallChange.call_id == call.id, CallChange.field == "deadlines")
        .order_by(CallChange.changed_at, CallChange.id)
    )
    changes: list[DeadlineChange] = []
    for change, source_name in rows:
        old = [_moment(v) for v in change.old_value or []]
        new = [_moment(v) for v in change.new_value or []]
        for position in range(max(len(old), len(new))):
            before = old[position] if position < len(old) else None
            after = new[position] if position < len(new) else None
            if before != after:
                changes.append(
                    DeadlineChange(position + 1, before, after, change.changed_at, source_name)
                )
    return changes


@dataclass(frozen=True)
class CallSource:
    name: str
    external_id: str
    url: str | None
    first_seen_at: datetime
    updated_at: datetime
    withdrawn_at: datetime | None


def call_sources(session: Session, call: FundingCall) -> list[CallSource]:
    """The sources that list the call, with the call's id and page there."""
    rows = session.execute(
        select(CallSourceLink, Source.name)
        .join(Source, Source.id == CallSourceLink.source_id)
        .where(CallSourceLink.call_id == call.id)
        .order_by(CallSourceLink.first_seen_at, Source.name)
    )
    found = []
    for link, name in rows:
        record = link.record or {}
        url = record.get("url") if isinstance(record.get("url"), str) else None
        found.append(
            CallSource(
                name, link.external_id, url, link.first_seen_at, link.updated_at, link.withdrawn_at
            )
        )
    return found


def programme_names(call: FundingCall) -> set[str]:
    """How staff may have written the call's programme on a project: its code, its label,
    and the label's parts ("Creative Europe (CREA)" gives "creative europe" and "crea")."""
    names = {call.programme_code or "", call.programme_label or ""}
    label = call.programme_label or ""
    if "(" in label and label.endswith(")"):
        head, _, tail = label[:-1].partition("(")
        names |= {head, tail}
    return {n.strip().casefold() for n in names if n.strip()}


def programme_projects(session: Session, call: FundingCall, *, limit: int = 20) -> list[Project]:
    """The municipality's projects in the call's programme: those applying to a call of the
    same programme, and those whose programme is written as the call's."""
    conditions = [Project.call_id == call.id]
    if call.programme_code:
        same_programme = select(FundingCall.id).where(
            FundingCall.programme_code == call.programme_code
        )
        conditions.append(Project.call_id.in_(same_programme))
    names = programme_names(call)
    if names:
        conditions.append(func.lower(Project.programme).in_(names))
    return list(
        session.scalars(
            select(Project)
            .where(or_(*conditions))
            .order_by(Project.start_on.desc().nulls_last(), Project.title)
            .limit(limit)
        )
    )


def earlier_calls(session: Session, call: FundingCall, *, limit: int = 10) -> list[FundingCall]:
    """Other calls of the same programme that opened before this one, latest first."""
    if not call.programme_code:
        return []
    anchor = call.opens_at or call.first_seen_at
    opened = func.coalesce(FundingCall.opens_at, FundingCall.first_seen_at)
    # Ids first, through an index of the programme's dates; then the few calls themselves.
    ids = list(
        session.scalars(
            select(FundingCall.id)
            .where(
                FundingCall.programme_code == call.programme_code,
                FundingCall.id != call.id,
                opened < anchor,
            )
            .order_by(opened.desc(), FundingCall.id.desc())
            .limit(limit)
        )
    )
    found = {
        c.id: c
        for c in session.scalars(
            select(FundingCall)
            .where(FundingCall.id.in_(ids))
            .options(selectinload(FundingCall.deadlines))
        )
    }
    return [found[i] for i in ids]


# --- triage -------------------------------------------------------------------------------------


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
    skipped: list[int]


def bulk_dismiss(
    session: Session,
    call_ids: Iterable[int],
    *,
    reason: DismissReason,
    actor: User,
    now: datetime,
    note: str | None = None,
) -> BulkResult:
    """Dismiss several calls with one reason. Calls already dismissed, or whose state cannot
    be dismissed (a submitted application), are skipped and reported."""
    ids = sorted(set(call_ids))
    if not ids:
        raise ValidationFailed(
            msg("choose at least one call"), {"call_ids": msg("choose at least one call")}
        )
    calls = {c.id: c for c in session.scalars(select(FundingCall).where(FundingCall.id.in_(ids)))}
    missing = [i for i in ids if i not in calls]
    if missing:
        raise NotFound(msg("no call with id %(id)s", id=missing[0]))
    dismissed, skipped = [], []
    for call_id in ids:
        try:
            change_state(
                session,
                calls[call_id],
                TriageState.DISMISSED,
                actor=actor,
                now=now,
                reason=reason,
                note=note,
            )
        except InvalidTransition:
            skipped.append(call_id)
        else:
            dismissed.append(call_id)
    return BulkResult(dismissed, skipped)


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


# --- comments and mentions ----------------------------------------------------------------------


def mention_handles(person: User) -> list[str]:
    """What may follow @ to name ``person``: the part of the email before @, the first name,
    and first.last from the name ("Sara Holm": sara, sara.holm)."""
    handles = [person.email.split("@")[0].lower()]
    names = person.display_name.lower().split()
    if names:
        handles.append(names[0])
        if len(names) > 1:
            handles.append(".".join(names))
    return list(dict.fromkeys(handles))


def resolve_mentions(session: Session, body: str) -> list[User]:
    """The active users named in ``body`` as @full-email, @local-part, @first-name or
    @first.last, in order of first mention. A handle that names nobody, or several people
    (two Saras), is left as plain text."""
    handles = list(
        dict.fromkeys(m.group(1).rstrip(".").lower() for m in MENTION_PATTERN.finditer(body))
    )
    if not handles:
        return []
    users = list(session.scalars(select(User).where(User.is_active)))
    by_email = {u.email.lower(): u for u in users}
    by_handle: dict[str, set[int]] = {}
    by_id = {u.id: u for u in users}
    for person in users:
        for handle in mention_handles(person):
            by_handle.setdefault(handle, set()).add(person.id)
    found: list[User] = []
    for handle in handles:
        user = by_email.get(handle)
        if user is None and len(by_handle.get(handle, ())) == 1:
            user = by_id[next(iter(by_handle[handle]))]
        if user is not None and user not in found:
            found.append(user)
    return found


def mention_suggestions(session: Session) -> list[tuple[str, str]]:
    """(handle, name) for the comment box's suggestions: each active person's shortest
    handle that names only them."""
    users = list(session.scalars(select(User).where(User.is_active).order_by(User.display_name)))
    counts: dict[str, int] = {}
    for person in users:
        for handle in mention_handles(person):
            counts[handle] = counts.get(handle, 0) + 1
    suggestions = []
    for person in users:
        unique = [h for h in mention_handles(person) if counts[h] == 1] or [person.email.lower()]
        suggestions.append((min(unique, key=len), person.display_name or person.email))
    return suggestions


def add_comment(
    session: Session, call: FundingCall, body: str, *, author: User, now: datetime
) -> Comment:
    """Add a comment; every @mention of a user is recorded so that they are told."""
    body = body.strip()
    if not body:
        raise ValidationFailed(msg("write a comment"), {"body": msg("write a comment")})
    if len(body) > MAX_COMMENT_LENGTH:
        message = msg("a comment may have at most %(count)d characters", count=MAX_COMMENT_LENGTH)
        raise ValidationFailed(message, {"body": message})
    comment = Comment(call_id=call.id, author_id=author.id, body=body, created_at=now)
    for user in resolve_mentions(session, body):
        comment.mentions.append(Mention(user_id=user.id, created_at=now))
    session.add(comment)
    session.flush()
    return comment


# --- watching -----------------------------------------------------------------------------------


def is_watching(session: Session, call: FundingCall, user: User) -> bool:
    return (
        session.scalar(select(Watch.id).where(Watch.call_id == call.id, Watch.user_id == user.id))
        is not None
    )


def watch(session: Session, call: FundingCall, user: User, *, now: datetime) -> Watch:
    """Follow the call (its deadlines join the user's calendar); watching twice is harmless."""
    existing = session.scalar(
        select(Watch).where(Watch.call_id == call.id, Watch.user_id == user.id)
    )
    if existing is not None:
        return existing
    watch_ = Watch(call_id=call.id, user_id=user.id, created_at=now)
    session.add(watch_)
    session.flush()
    return watch_


def unwatch(session: Session, call: FundingCall, user: User) -> bool:
    """Stop following the call; False when the user was not following it."""
    existing = session.scalar(
        select(Watch).where(Watch.call_id == call.id, Watch.user_id == user.id)
    )
    if existing is None:
        return False
    session.delete(existing)
    session.flush()
    return True


def watchers(session: Session, call: FundingCall) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(Watch, Watch.user_id == User.id)
            .where(Watch.call_id == call.id)
            .order_by(User.display_name)
        )
    )


# --- saved filters ------------------------------------------------------------------------------


def normalise_query(query: str) -> str:
    """The inbox parameters of a query string, validated, without the page number."""
    pairs = dict(parse_qsl(query.lstrip("?"), keep_blank_values=False))
    filters, errors = parse_filters({k: v for k, v in pairs.items() if k in PARAMETERS})
    if errors:
        raise ValidationFailed("; ".join(errors.values()), errors)
    return urlencode(filters.to_query(page=1))


def list_saved_filters(session: Session, user: User) -> list[SavedFilter]:
    return list(
        session.scalars(
            select(SavedFilter).where(SavedFilter.user_id == user.id).order_by(SavedFilter.name)
        )
    )


def save_filter(
    session: Session, user: User, name: str, query: str, *, now: datetime
) -> SavedFilter:
    """Keep the inbox filter ``query`` under ``name``; a filter of the same name is replaced."""
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed(msg("name the filter"), {"name": msg("name the filter")})
    if len(name) > 200:
        raise ValidationFailed(
            msg("the name may have at most 200 characters"),
            {"name": msg("the name may have at most 200 characters")},
        )
    normalised = normalise_query(query)
    saved = session.scalar(
        select(SavedFilter).where(SavedFilter.user_id == user.id, SavedFilter.name == name)
    )
    if saved is None:
        saved = SavedFilter(user_id=user.id, name=name, query=normalised, created_at=now)
        session.add(saved)
    else:
        saved.query = normalised
    session.flush()
    return saved


def delete_saved_filter(session: Session, user: User, filter_id: int) -> None:
    """Remove one of the user's own saved filters (NotFound for anyone else's)."""
    saved = session.get(SavedFilter, filter_id)
    if saved is None or saved.user_id != user.id:
        raise NotFound(msg("no saved filter %(id)s", id=filter_id))
    session.delete(saved)
    session.flush()


# --- milestones ---------------------------------------------------------------------------------


def add_milestone(
    session: Session, call: FundingCall, title: str, due_on: date, *, actor: User, now: datetime
) -> Milestone:
    """An internal date for the call (a draft to the board, a partner meeting)."""
    title = " ".join(title.split())
    if not title:
        raise ValidationFailed(msg("name the milestone"), {"title": msg("name the milestone")})
    if len(title) > MAX_TITLE_LENGTH:
        message = msg("the title may have at most %(count)d characters", count=MAX_TITLE_LENGTH)
        raise ValidationFailed(message, {"title": message})
    milestone = Milestone(
        call_id=call.id, title=title, due_on=due_on, created_by_id=actor.id, created_at=now
    )
    session.add(milestone)
    session.flush()
    return milestone


def delete_milestone(session: Session, milestone_id: int, *, call: FundingCall) -> None:
    milestone = session.get(Milestone, milestone_id)
    if milestone is None or milestone.call_id != call.id:
        raise NotFound(msg("no milestone %(id)s", id=milestone_id))
    session.delete(milestone)
    session.flush()


def milestones(session: Session, call: FundingCall) -> list[Milestone]:
    return list(
        session.scalars(
            select(Milestone).where(Milestone.call_id == call.id).order_by(Milestone.due_on)
        )
    )


def assignable_users(session: Session) -> list[User]:
    """People a call can be given to: active editors and administrators."""
    return [
        u
        for u in session.scalars(select(User).where(User.is_active).order_by(User.display_name))
        if u.role.value in ("editor", "admin")
    ]


def mentions_of(session: Session, user: User, *, limit: int = 20) -> Sequence[Mention]:
    """The latest comments that mention ``user`` (for the digest and the overview)."""
    return list(
        session.scalars(
            select(Mention)
            .where(Mention.user_id == user.id)
            .options(selectinload(Mention.comment))
            .order_by(Mention.created_at.desc())
            .limit(limit)
        )
    )

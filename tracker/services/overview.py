""" "My work" (Min översikt), the start page: what needs the person signed in, today.

Calls assigned to them or to their office, mentions they have not answered and comments on
their calls since they last wrote, watched and in-progress calls closing soon, new matches in
their focus areas since their last visit, their milestones this week, the pipeline in one
line, and, for admins, the sources whose last fetch failed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from tracker.models import (
    CallDeadline,
    CallMatch,
    CallReview,
    Comment,
    DigestSubscription,
    FundingCall,
    InboxEntry,
    Mention,
    Milestone,
    Role,
    TriageState,
    User,
    UserVisit,
    Watch,
)
from tracker.services.digests import subscribed_areas
from tracker.services.health import Problem, ProblemKind, system_problems
from tracker.services.inbox import active_areas

# Visits closer together than this are one sitting: "new since your last visit" keeps
# counting from the visit before it, so reloading the page does not empty the list.
SITTING = timedelta(minutes=30)
# Without an earlier visit, "new" means this recent.
FIRST_VISIT_WINDOW = timedelta(days=7)
CLOSING_WITHIN = timedelta(days=30)
SECTION_LIMIT = 20
# Calls in these states are still being worked on.
OPEN_STATES = (
    TriageState.NEW,
    TriageState.INTERESTED,
    TriageState.PREPARING,
    TriageState.SUBMITTED,
)
IN_PROGRESS_STATES = (TriageState.INTERESTED, TriageState.PREPARING)
PIPELINE_STATES = (
    TriageState.NEW,
    TriageState.INTERESTED,
    TriageState.PREPARING,
    TriageState.SUBMITTED,
    TriageState.AWARDED,
)


@dataclass(frozen=True)
class CallItem:
    call_id: int
    title: str
    identifier: str | None
    next_deadline: datetime | None
    state: TriageState
    assignee_name: str | None = None
    score: float | None = None


@dataclass(frozen=True)
class CommentItem:
    call_id: int
    call_title: str
    comment_id: int
    author_name: str | None
    body: str
    created_at: datetime


@dataclass(frozen=True)
class MilestoneItem:
    call_id: int
    call_title: str
    title: str
    due_on: date


@dataclass(frozen=True)
class Overview:
    assigned_to_me: list[CallItem]
    my_office: list[CallItem]
    mentions: list[CommentItem]
    unanswered: list[CommentItem]
    closing_soon: list[CallItem]
    new_matches: list[CallItem]
    new_since: datetime
    milestones: list[MilestoneItem]
    week_start: date
    week_end: date
    pipeline: list[tuple[TriageState, int]]
    # Sources whose latest fetch failed (the banner on every page waits until a source has
    # been down for a while; the start page tells an admin at once).
    failing_sources: list[Problem] = field(default_factory=list)


def visit_since(session: Session, user_id: int, *, now: datetime) -> datetime | None:
    """The visit before the current sitting of ``user_id`` (None before any), from which
    "new" counts; reads only."""
    visit = session.get(UserVisit, user_id)
    if visit is None:
        return None
    if now - visit.last_visit_at >= SITTING:
        return visit.last_visit_at
    return visit.previous_visit_at


def record_visit(session: Session, user_id: int, *, now: datetime) -> datetime | None:
    """Note that ``user_id`` looks at the start page now; returns ``visit_since`` as it was
    before this visit."""
    since = visit_since(session, user_id, now=now)
    visit = session.get(UserVisit, user_id)
    if visit is None:
        session.add(UserVisit(user_id=user_id, last_visit_at=now, previous_visit_at=None))
    else:
        visit.previous_visit_at = since
        visit.last_visit_at = now
    session.flush()
    return since


def _next_deadlines(
    session: Session, call_ids: Iterable[int], now: datetime
) -> dict[int, datetime]:
    ids = list(call_ids)
    if not ids:
        return {}
    return {
        call_id: at
        for call_id, at in session.execute(
            select(CallDeadline.call_id, func.min(CallDeadline.deadline_at))
            .where(CallDeadline.call_id.in_(ids), CallDeadline.deadline_at >= now)
            .group_by(CallDeadline.call_id)
        )
    }


def _by_deadline(items: list[CallItem]) -> list[CallItem]:
    # Nearest deadline first; calls without one after, newest first.
    return sorted(
        items,
        key=lambda i: (i.next_deadline is None, i.next_deadline or datetime.min, -i.call_id),
    )


def _review_items(
    session: Session,
    condition: ColumnElement[bool],
    now: datetime,
    *,
    exclude: set[int] | None = None,
) -> list[CallItem]:
    rows = session.execute(
        select(FundingCall.id, FundingCall.title, FundingCall.identifier, CallReview.state, User)
        .join(CallReview, CallReview.call_id == FundingCall.id)
        .outerjoin(User, User.id == CallReview.assignee_id)
        .where(condition, CallReview.state.in_(OPEN_STATES), FundingCall.is_withdrawn.is_(False))
    ).all()
    deadlines = _next_deadlines(session, [r[0] for r in rows], now)
    items = [
        CallItem(
            call_id=call_id,
            title=title,
            identifier=identifier,
            next_deadline=deadlines.get(call_id),
            state=state,
            assignee_name=(assignee.display_name or assignee.email) if assignee else None,
        )
        for call_id, title, identifier, state, assignee in rows
        if call_id not in (exclude or set())
    ]
    return _by_deadline(items)[:SECTION_LIMIT]


def _comment_item(comment: Comment, call_title: str) -> CommentItem:
    author = comment.author
    return CommentItem(
        call_id=comment.call_id,
        call_title=call_title,
        comment_id=comment.id,
        author_name=(author.display_name or author.email) if author else None,
        body=comment.body if len(comment.body) <= 280 else comment.body[:279] + "…",
        created_at=comment.created_at,
    )


def _my_last_comments(session: Session, user: User, call_ids: Sequence[int]) -> dict[int, datetime]:
    if not call_ids:
        return {}
    return {
        call_id: at
        for call_id, at in session.execute(
            select(Comment.call_id, func.max(Comment.created_at))
            .where(Comment.author_id == user.id, Comment.call_id.in_(list(call_ids)))
            .group_by(Comment.call_id)
        )
    }


def unanswered_mentions(session: Session, user: User) -> list[CommentItem]:
    """Comments that mention ``user`` and that they have not answered (written on the same
    call since), newest first."""
    rows = session.execute(
        select(Comment, FundingCall.title)
        .join(Mention, Mention.comment_id == Comment.id)
        .join(FundingCall, FundingCall.id == Comment.call_id)
        .where(Mention.user_id == user.id)
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(200)
    ).all()
    answered = _my_last_comments(session, user, [c.call_id for c, _ in rows])
    items = [
        _comment_item(comment, title)
        for comment, title in rows
        if answered.get(comment.call_id) is None or answered[comment.call_id] < comment.created_at
    ]
    return items[:SECTION_LIMIT]


def unanswered_comments(
    session: Session, user: User, *, exclude: set[int] | None = None
) -> list[CommentItem]:
    """Colleagues' comments on calls assigned to ``user`` written since ``user`` last
    commented there (or ever, if they never did), newest first."""
    mine = select(CallReview.call_id).where(CallReview.assignee_id == user.id)
    rows = session.execute(
        select(Comment, FundingCall.title)
        .join(FundingCall, FundingCall.id == Comment.call_id)
        .where(
            Comment.call_id.in_(mine.scalar_subquery()),
            or_(Comment.author_id.is_(None), Comment.author_id != user.id),
        )
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(200)
    ).all()
    answered = _my_last_comments(session, user, [c.call_id for c, _ in rows])
    items = [
        _comment_item(comment, title)
        for comment, title in rows
        if comment.id not in (exclude or set())
        and (
            answered.get(comment.call_id) is None or answered[comment.call_id] < comment.created_at
        )
    ]
    return items[:SECTION_LIMIT]


def closing_soon(session: Session, user: User, *, now: datetime) -> list[CallItem]:
    """Calls ``user`` watches, and calls we are interested in or preparing, with a deadline
    in the next 30 days; nearest first."""
    watched = select(Watch.call_id).where(Watch.user_id == user.id)
    in_progress = select(CallReview.call_id).where(CallReview.state.in_(IN_PROGRESS_STATES))
    closing = (
        select(CallDeadline.call_id)
        .where(CallDeadline.deadline_at >= now, CallDeadline.deadline_at <= now + CLOSING_WITHIN)
        .scalar_subquery()
    )
    rows = session.execute(
        select(FundingCall.id, FundingCall.title, FundingCall.identifier, CallReview.state)
        .outerjoin(CallReview, CallReview.call_id == FundingCall.id)
        .where(
            FundingCall.id.in_(closing),
            or_(
                FundingCall.id.in_(watched.scalar_subquery()),
                FundingCall.id.in_(in_progress.scalar_subquery()),
            ),
            FundingCall.is_withdrawn.is_(False),
            or_(CallReview.state.is_(None), CallReview.state != TriageState.DISMISSED),
        )
    ).all()
    deadlines = _next_deadlines(session, [r[0] for r in rows], now)
    items = [
        CallItem(call_id, title, identifier, deadlines.get(call_id), state or TriageState.NEW)
        for call_id, title, identifier, state in rows
    ]
    return _by_deadline(items)[:SECTION_LIMIT]


def my_area_ids(session: Session, user: User) -> list[int]:
    """The focus areas ``user`` follows in their weekly digest, or every active area."""
    subscription = session.scalar(
        select(DigestSubscription).where(
            DigestSubscription.user_id == user.id, DigestSubscription.is_active
        )
    )
    if subscription is not None:
        return [a.id for a in subscribed_areas(session, subscription)]
    return [a.id for a in active_areas(session)]


def new_matches(session: Session, user: User, *, since: datetime, now: datetime) -> list[CallItem]:
    """Calls first seen since ``since`` that match one of the user's focus areas and are
    still open or forthcoming, best match first."""
    area_ids = my_area_ids(session, user)
    if not area_ids:
        return []
    best = func.max(CallMatch.score).label("best")
    rows = session.execute(
        select(FundingCall.id, FundingCall.title, FundingCall.identifier, InboxEntry.state, best)
        .join(InboxEntry, InboxEntry.call_id == FundingCall.id)
        .join(CallMatch, CallMatch.call_id == FundingCall.id)
        .where(
            FundingCall.first_seen_at >= since,
            InboxEntry.active_until >= now,
            InboxEntry.state != TriageState.DISMISSED,
            CallMatch.is_match,
            CallMatch.focus_area_id.in_(area_ids),
        )
        .group_by(FundingCall.id, FundingCall.title, FundingCall.identifier, InboxEntry.state)
        .order_by(best.desc(), FundingCall.id.desc())
        .limit(SECTION_LIMIT)
    ).all()
    deadlines = _next_deadlines(session, [r[0] for r in rows], now)
    return [
        CallItem(call_id, title, identifier, deadlines.get(call_id), state, score=float(score))
        for call_id, title, identifier, state, score in rows
    ]


def week_of(now: datetime, tz: ZoneInfo) -> tuple[date, date]:
    """Monday and Sunday of the week ``now`` falls in, in the local time zone."""
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    return monday, monday + timedelta(days=6)


def my_milestones(
    session: Session, user: User, *, now: datetime, tz: ZoneInfo
) -> list[MilestoneItem]:
    """Milestones due this week on calls assigned to ``user`` or their office, watched by
    them, or that they planned."""
    monday, sunday = week_of(now, tz)
    mine = select(CallReview.call_id).where(
        or_(
            CallReview.assignee_id == user.id,
            CallReview.office_id == (user.office_id or -1),
        )
    )
    watched = select(Watch.call_id).where(Watch.user_id == user.id)
    rows = session.execute(
        select(Milestone, FundingCall.title)
        .join(FundingCall, FundingCall.id == Milestone.call_id)
        .where(
            Milestone.due_on >= monday,
            Milestone.due_on <= sunday,
            or_(
                Milestone.call_id.in_(mine.scalar_subquery()),
                Milestone.call_id.in_(watched.scalar_subquery()),
                Milestone.created_by_id == user.id,
            ),
        )
        .order_by(Milestone.due_on, Milestone.id)
    ).all()
    return [MilestoneItem(m.call_id, title, m.title, m.due_on) for m, title in rows]


def pipeline(session: Session, *, now: datetime) -> list[tuple[TriageState, int]]:
    """How many calls are in each state of the pipeline: new ones still open in the inbox,
    and every decided call in the later states."""
    counts = dict.fromkeys(PIPELINE_STATES, 0)
    counts[TriageState.NEW] = int(
        session.scalar(
            select(func.count())
            .select_from(InboxEntry)
            .where(InboxEntry.state == TriageState.NEW, InboxEntry.active_until >= now)
        )
        or 0
    )
    for state, count in session.execute(
        select(CallReview.state, func.count())
        .where(CallReview.state.in_(PIPELINE_STATES[1:]))
        .group_by(CallReview.state)
    ):
        counts[TriageState(state)] = int(count)
    return list(counts.items())


def failing_sources(session: Session, *, now: datetime) -> list[Problem]:
    """Enabled sources whose latest fetch failed."""
    return [p for p in system_problems(session, now=now) if p.kind is ProblemKind.SOURCE_FAILING]


def my_overview(
    session: Session, user: User, *, now: datetime, since: datetime | None, tz: ZoneInfo
) -> Overview:
    """Everything the start page shows ``user``; ``since`` is their previous visit."""
    new_since = since if since is not None else now - FIRST_VISIT_WINDOW
    assigned = _review_items(session, CallReview.assignee_id == user.id, now)
    office: list[CallItem] = []
    if user.office_id is not None:
        office = _review_items(
            session,
            CallReview.office_id == user.office_id,
            now,
            exclude={item.call_id for item in assigned},
        )
    mentions = unanswered_mentions(session, user)
    monday, sunday = week_of(now, tz)
    return Overview(
        assigned_to_me=assigned,
        my_office=office,
        mentions=mentions,
        unanswered=unanswered_comments(
            session, user, exclude={item.comment_id for item in mentions}
        ),
        closing_soon=closing_soon(session, user, now=now),
        new_matches=new_matches(session, user, since=new_since, now=now),
        new_since=new_since,
        milestones=my_milestones(session, user, now=now, tz=tz),
        week_start=monday,
        week_end=sunday,
        pipeline=pipeline(session, now=now),
        failing_sources=failing_sources(session, now=now) if user.role is Role.ADMIN else [],
    )

"""The deadline calendar: the deadlines of the calls a person watches and of the calls the
municipality is interested in or preparing, and the internal milestones; shown as a month
and published as a personal iCalendar feed (RFC 5545)."""

from __future__ import annotations

import calendar as calendar_module
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from tracker.calltime import local_day
from tracker.errors import NotFound
from tracker.feeds.text import safe_url
from tracker.i18n import msg
from tracker.models import (
    CallDeadline,
    CallReview,
    FundingCall,
    Milestone,
    User,
    Watch,
)
from tracker.security import generate_token
from tracker.services.audit import record_event
from tracker.services.inbox import CALENDAR_STATES, deadline_history


@dataclass(frozen=True)
class CalendarEntry:
    """One thing on the calendar: a call's deadline (a moment) or a milestone (a day)."""

    uid: str
    kind: str  # deadline | milestone
    call_id: int
    call_title: str
    title: str
    day: date  # in the calendar's time zone
    at: datetime | None  # the deadline's moment; None for a milestone or a deadline day
    url: str | None
    sequence: int = 0
    updated_at: datetime | None = None


def _calendar_calls(user: User) -> ColumnElement[bool]:
    watched = select(Watch.call_id).where(Watch.user_id == user.id)
    active = select(CallReview.call_id).where(CallReview.state.in_(CALENDAR_STATES))
    return or_(FundingCall.id.in_(watched), FundingCall.id.in_(active))


def deadline_uid(call_id: int, position: int, stage: str | None, domain: str) -> str:
    """The same for a deadline however often it moves: the call, and the stage's name or its
    position among the call's deadlines, never the date."""
    key = "".join(ch if ch.isalnum() else "-" for ch in stage.lower()) if stage else str(position)
    return f"call-{call_id}-deadline-{key}@{domain}"


def calendar_entries(
    session: Session,
    user: User,
    *,
    start: date,
    end: date,
    tz: ZoneInfo,
    domain: str = "tracker",
) -> list[CalendarEntry]:
    """Deadlines and milestones from ``start`` up to (not including) ``end``, in date order.
    Deadlines are those of calls the user watches and of calls in state interested or
    preparing; milestones are everyone's (they are the municipality's internal dates)."""
    begin = datetime.combine(start, time.min, tz).astimezone(UTC)
    finish = datetime.combine(end, time.min, tz).astimezone(UTC)
    entries: list[CalendarEntry] = []
    calls = session.scalars(
        select(FundingCall)
        .where(_calendar_calls(user))
        .where(
            FundingCall.id.in_(
                select(CallDeadline.call_id).where(
                    CallDeadline.deadline_at >= begin, CallDeadline.deadline_at < finish
                )
            )
        )
    )
    for call in calls:
        moves = deadline_history(session, call)
        for position, deadline in enumerate(call.deadlines, start=1):
            if not begin <= deadline.deadline_at < finish:
                continue
            entries.append(
                CalendarEntry(
                    uid=deadline_uid(call.id, position, deadline.stage, domain),
                    kind="deadline",
                    call_id=call.id,
                    call_title=call.title,
                    title=call.title if not deadline.stage else f"{call.title} ({deadline.stage})",
                    day=local_day(deadline.deadline_at, tz),
                    # A deadline given as a day is a whole-day event, not 23:59.
                    at=None if deadline.is_date_only else deadline.deadline_at,
                    url=safe_url(call.url),
                    # Each recorded move of this deadline makes a newer version of its event.
                    sequence=sum(1 for m in moves if m.position == position),
                    updated_at=call.updated_at,
                )
            )
    for milestone, call in session.execute(
        select(Milestone, FundingCall)
        .join(FundingCall, FundingCall.id == Milestone.call_id)
        .where(Milestone.due_on >= start, Milestone.due_on < end)
    ):
        entries.append(
            CalendarEntry(
                uid=f"milestone-{milestone.id}@{domain}",
                kind="milestone",
                call_id=call.id,
                call_title=call.title,
                title=milestone.title,
                day=milestone.due_on,
                at=None,
                url=safe_url(call.url),
                updated_at=milestone.created_at,
            )
        )
    entries.sort(key=lambda e: (e.day, e.at or datetime.combine(e.day, time.min, UTC), e.uid))
    return entries


@dataclass(frozen=True)
class MonthGrid:
    first: date
    weeks: list[list[date | None]]  # Monday first
    previous: date
    next: date


def month_grid(first: date) -> MonthGrid:
    first = first.replace(day=1)
    weeks = calendar_module.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    grid = [[d if d.month == first.month else None for d in week] for week in weeks]
    previous = (first - timedelta(days=1)).replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return MonthGrid(first, grid, previous, following)


def user_by_calendar_token(session: Session, token: str) -> User:
    """The active user whose feed this is; NotFound otherwise (same answer for a wrong token
    and a deactivated user, so a token cannot be probed)."""
    user = session.scalar(select(User).where(User.calendar_token == token))
    if user is None or not user.is_active:
        raise NotFound(msg("no such calendar"))
    return user


def reset_calendar_token(session: Session, user: User, *, now: datetime) -> str:
    """Give the user a new feed address; the old one stops working."""
    user.calendar_token = generate_token()
    session.flush()
    record_event(session, "user.calendar_token_reset", "user", user.id, actor=user, now=now)
    return user.calendar_token


def feed_url(base_url: str, user: User) -> str:
    return f"{base_url.rstrip('/')}/calendar/{user.calendar_token}.ics"


# --- iCalendar ----------------------------------------------------------------------------------

# Calendar programs read the feed again after this long (REFRESH-INTERVAL, and Outlook's
# X-PUBLISHED-TTL).
REFRESH_EVERY = timedelta(hours=1)
# A deadline is a moment: its event starts and ends then. Exchange refuses a timed event
# without DTEND or DURATION, so the length is said.
DEADLINE_LENGTH = timedelta(0)


def render_ical(
    entries: Sequence[CalendarEntry],
    *,
    now: datetime,
    tz: ZoneInfo,
    calendar_name: str,
    call_url: str,
    reminder_label: str,
) -> str:
    """An iCalendar document (RFC 5545, written by the ``icalendar`` library): one timed
    event per deadline, at its moment in ``tz`` (the configured zone, whose VTIMEZONE the
    document holds), an all-day event per deadline given as a day and per milestone.
    ``call_url`` holds ``{id}`` for the link to the call page."""
    feed = icalendar.Calendar()
    feed.add("prodid", "-//Norrkoping municipality//tracker//EN")
    feed.add("version", "2.0")
    feed.add("calscale", "GREGORIAN")
    feed.add("method", "PUBLISH")
    feed.add("x-wr-calname", calendar_name)
    feed.add("x-wr-timezone", tz.key)
    feed.add("refresh-interval", REFRESH_EVERY, parameters={"VALUE": "DURATION"})
    feed.add("x-published-ttl", icalendar.vDuration(REFRESH_EVERY))
    feed.add_component(icalendar.Timezone.from_tzid(tz.key))
    for entry in entries:
        feed.add_component(_event(entry, now=now, tz=tz, call_url=call_url, alarm=reminder_label))
    document: bytes = feed.to_ical()
    return document.decode("utf-8")


def _event(
    entry: CalendarEntry, *, now: datetime, tz: ZoneInfo, call_url: str, alarm: str
) -> icalendar.Event:
    link = call_url.format(id=entry.call_id)
    description = entry.call_title if entry.kind == "milestone" else ""
    if entry.url:
        description = f"{description}\n{entry.url}".strip()
    description = f"{description}\n{link}".strip()
    event = icalendar.Event()
    event.add("uid", entry.uid)
    event.add("dtstamp", now.astimezone(UTC))
    if entry.at is not None:
        event.add("dtstart", entry.at.astimezone(tz))
        event.add("duration", DEADLINE_LENGTH)
    else:
        event.add("dtstart", entry.day)
        event.add("dtend", entry.day + timedelta(days=1))
    event.add("sequence", entry.sequence)
    event.add("summary", entry.title)
    event.add("description", description)
    event.add("url", link)
    event.add("transp", "TRANSPARENT")
    if entry.updated_at is not None:
        event.add("last-modified", entry.updated_at.astimezone(UTC))
    if entry.kind == "deadline":
        reminder = icalendar.Alarm()
        reminder.add("action", "DISPLAY")
        reminder.add("description", alarm)
        reminder.add("trigger", -timedelta(days=7))
        event.add_component(reminder)
    return event


def feed_entries(
    session: Session, user: User, *, now: datetime, tz: ZoneInfo, domain: str
) -> list[CalendarEntry]:
    """What a personal feed holds: from three months back to two years ahead."""
    today = local_day(now, tz)
    return calendar_entries(
        session,
        user,
        start=today - timedelta(days=92),
        end=today + timedelta(days=731),
        tz=tz,
        domain=domain,
    )


def entries_by_day(entries: Iterable[CalendarEntry]) -> dict[date, list[CalendarEntry]]:
    days: dict[date, list[CalendarEntry]] = {}
    for entry in entries:
        days.setdefault(entry.day, []).append(entry)
    return days

"""Call-time facts, in one place: where a call stands at a moment, when a deadline given as a
day closes, and how deadlines, days left and amounts are written.

Feeds, models, matching, services and views all read these rules from here, so that the
inbox, the call page, the digest, the exports and the calendar say the same thing about
the same call. No Flask: a view passes the reader's language and the configured zone.

Conventions:

* moments are aware UTC; a deadline that a source gives as a day reaches the ingest as
  midnight UTC of that day with ``date_only`` set (``day_moment``), and is stored as the
  moment it closes (``closing_moment``);
* status is never stored: ``status_at`` derives it from the dates, and ``status_clause``
  is the same rule in SQL over the inbox's copy of the dates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from sqlalchemy import ColumnElement, and_, or_

__all__ = [
    "DEFAULT_TIMEZONE",
    "FAR_FUTURE",
    "PORTAL_ZONE",
    "STATUS_FILTERS",
    "CallDates",
    "CallStatus",
    "DeadlineModel",
    "SourceKind",
    "amount_text",
    "closing_moment",
    "day_moment",
    "days_left",
    "deadline_closes",
    "deadlines_passed",
    "format_deadline",
    "format_money",
    "is_day_end",
    "local_day",
    "local_to_utc",
    "status_at",
    "status_clause",
    "zone",
]

DEFAULT_TIMEZONE = "Europe/Stockholm"
"""The zone of ``[app] timezone`` when the config names none."""

# Continuous calls and calls without a deadline stay applicable; SQLite and PostgreSQL both
# store this date.
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)


class SourceKind(StrEnum):
    """The kinds of source an adapter exists for."""

    FT_SEARCH = "ft-search"
    FT_BULK = "ft-bulk"
    RSS = "rss"
    VINNOVA = "vinnova"
    MANUAL = "manual"
    INTERREG = "interreg"


class DeadlineModel(StrEnum):
    """How submission is organised in time."""

    SINGLE_STAGE = "single-stage"
    TWO_STAGE = "two-stage"
    MULTIPLE_CUT_OFF = "multiple cut-off"
    CONTINUOUS = "continuous"

    @classmethod
    def parse(cls, value: str | None) -> DeadlineModel | None:
        """Read the spellings sources use; None for empty or unknown values."""
        if not value:
            return None
        key = re.sub(r"[\s_]+", "-", value.strip().lower())
        return _DEADLINE_MODEL_ALIASES.get(key)


_DEADLINE_MODEL_ALIASES: dict[str, DeadlineModel] = {
    "single-stage": DeadlineModel.SINGLE_STAGE,
    "single": DeadlineModel.SINGLE_STAGE,
    "one-stage": DeadlineModel.SINGLE_STAGE,
    "two-stage": DeadlineModel.TWO_STAGE,
    "two-stages": DeadlineModel.TWO_STAGE,
    "multiple-cut-off": DeadlineModel.MULTIPLE_CUT_OFF,
    "multiple-cutoff": DeadlineModel.MULTIPLE_CUT_OFF,
    "multiple-cut-offs": DeadlineModel.MULTIPLE_CUT_OFF,
    "cut-off": DeadlineModel.MULTIPLE_CUT_OFF,
    "cut-offs": DeadlineModel.MULTIPLE_CUT_OFF,
    "continuous": DeadlineModel.CONTINUOUS,
    "permanent": DeadlineModel.CONTINUOUS,
    "rolling": DeadlineModel.CONTINUOUS,
    "open-ended": DeadlineModel.CONTINUOUS,
    "löpande": DeadlineModel.CONTINUOUS,
}


class CallStatus(StrEnum):
    """Where a call stands at a given moment, derived from its dates."""

    FORTHCOMING = "forthcoming"
    OPEN = "open"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


STATUS_FILTERS = (CallStatus.OPEN, CallStatus.FORTHCOMING, CallStatus.CLOSED, "all")
"""What the inbox can show besides its default, open or forthcoming (withdrawn calls
leave the inbox)."""


# --- zones and days ---------------------------------------------------------------------

PORTAL_ZONE = ZoneInfo("Europe/Brussels")
"""The EU Funding & Tenders Portal closes calls at 17:00 Brussels time (its topic pages
say so); the search API and the bulk file often give only the day."""
PORTAL_CLOSING_TIME = time(17, 0)
PORTAL_KINDS = frozenset({SourceKind.FT_SEARCH, SourceKind.FT_BULK})
_END_OF_DAY = time(23, 59, 59)


@cache
def zone(name: str = DEFAULT_TIMEZONE) -> ZoneInfo:
    """The zone called ``name`` (``[app] timezone``)."""
    return ZoneInfo(name)


def local_to_utc(value: datetime, in_zone: ZoneInfo) -> datetime:
    """A naive wall-clock time in ``in_zone`` (or an aware moment) as aware UTC."""
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    return value.replace(tzinfo=in_zone).astimezone(UTC)


def local_day(moment: datetime, in_zone: ZoneInfo) -> date:
    """The calendar day ``moment`` falls on in ``in_zone``."""
    return moment.astimezone(in_zone).date()


def day_moment(day: date) -> datetime:
    """How a record carries a deadline given as a day: midnight UTC of that day."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def closing_moment(day: date, kind: str, in_zone: ZoneInfo) -> tuple[datetime, bool]:
    """When a deadline given as ``day`` by a source of ``kind`` closes, and whether it is
    still shown as a date.

    The Funding & Tenders Portal closes at 17:00 Brussels time on the day: that is a moment
    with a time. Other sources' days close at the end of that day in ``in_zone`` (the
    configured zone) and are shown as the date."""
    if kind in PORTAL_KINDS:
        return datetime.combine(day, PORTAL_CLOSING_TIME, PORTAL_ZONE).astimezone(UTC), False
    return datetime.combine(day, _END_OF_DAY, in_zone).astimezone(UTC), True


def is_day_end(moment: datetime, in_zone: ZoneInfo) -> bool:
    """True for the moment ``closing_moment`` gives a day shown as a date: where only the
    moment is kept (the history of a call's deadlines), this tells it is shown as a date."""
    return moment.astimezone(in_zone).time() == _END_OF_DAY


def deadline_closes(
    at: datetime, date_only: bool, kind: str, in_zone: ZoneInfo
) -> tuple[datetime, bool]:
    """A record's deadline as it is stored: (the moment it closes, shown as a date)."""
    if not date_only:
        return at, False
    return closing_moment(at.date(), kind, in_zone)


# --- status -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallDates:
    """The dates a call's status follows from. ``last_deadline_at`` is the last closing
    moment; ``announced`` means announced without any date yet."""

    opens_at: datetime | None
    last_deadline_at: datetime | None
    continuous: bool
    announced: bool = False
    withdrawn: bool = False

    @classmethod
    def of(
        cls,
        *,
        opens_at: datetime | None,
        deadlines: Iterable[datetime],
        deadline_model: str | None,
        opening_note: str | None = None,
        withdrawn: bool = False,
    ) -> CallDates:
        last = max(deadlines, default=None)
        continuous = deadline_model == DeadlineModel.CONTINUOUS
        return cls(
            opens_at=opens_at,
            last_deadline_at=last,
            continuous=continuous,
            announced=last is None and opens_at is None and bool(opening_note) and not continuous,
            withdrawn=withdrawn,
        )

    @property
    def active_until(self) -> datetime:
        """The last moment the call may be open or forthcoming (indexed by the inbox)."""
        if self.continuous or self.last_deadline_at is None:
            return FAR_FUTURE
        if self.opens_at is not None:
            return max(self.last_deadline_at, self.opens_at)
        return self.last_deadline_at


def deadlines_passed(dates: CallDates, now: datetime) -> bool:
    """True once the last listed deadline has passed, unless the call is continuous (its
    listed cut-offs are evaluation dates; applications are still taken)."""
    return (
        not dates.continuous and dates.last_deadline_at is not None and dates.last_deadline_at < now
    )


def status_at(dates: CallDates, now: datetime) -> CallStatus:
    """Withdrawn when every source dropped the call; forthcoming before the opening (or when
    only announced); closed once every deadline has passed (never for a continuous call);
    open otherwise. ``status_clause`` is the same rule in SQL."""
    if dates.withdrawn:
        return CallStatus.WITHDRAWN
    if (dates.opens_at is not None and now < dates.opens_at) or dates.announced:
        return CallStatus.FORTHCOMING
    if deadlines_passed(dates, now):
        return CallStatus.CLOSED
    return CallStatus.OPEN


def status_clause(status: str, now: datetime, columns: Any) -> ColumnElement[bool] | None:
    """``status_at`` in SQL, over a table holding the columns of ``CallDates`` (the inbox's
    entries: ``opens_at``, ``last_deadline_at``, ``is_continuous``, ``is_announced`` and
    ``active_until``). ``status`` is a status, "all" (no condition) or "" (open or
    forthcoming). ``active_until`` narrows the rows through its index; the exact test
    follows."""
    c = columns
    forthcoming = or_(c.opens_at > now, c.is_announced)
    started = or_(c.opens_at.is_(None), c.opens_at <= now)
    running = or_(c.is_continuous, c.last_deadline_at.is_(None), c.last_deadline_at >= now)
    if status == CallStatus.FORTHCOMING:
        return and_(c.active_until >= now, forthcoming)
    if status == CallStatus.OPEN:
        return and_(c.active_until >= now, started, running, c.is_announced.is_(False))
    if status == CallStatus.CLOSED:
        # Most entries are closed: reading them all beats going through the index.
        return and_(started, c.is_continuous.is_(False), c.last_deadline_at < now)
    if status == "all":
        return None
    return and_(c.active_until >= now, or_(forthcoming, running))


# --- writing ----------------------------------------------------------------------------


def days_left(moment: datetime, now: datetime, in_zone: ZoneInfo) -> int:
    """Calendar days from today to the deadline's day in ``in_zone`` (0: today)."""
    return (local_day(moment, in_zone) - local_day(now, in_zone)).days


def format_deadline(moment: datetime, *, date_only: bool, in_zone: ZoneInfo, locale: str) -> str:
    """ "17 feb. 2027" for a deadline shown as a date, "17 feb. 2027 17:00" for one with a
    time, in ``in_zone``. Deadlines are set in Brussels time by most funders this tracker
    follows: where ``in_zone`` keeps another time at that moment, its name follows the time
    so that nobody reads it as Brussels time."""
    if date_only:
        return str(format_date(local_day(moment, in_zone), "d MMM y", locale=locale))
    text = str(format_datetime(moment, "d MMM y HH:mm", tzinfo=in_zone, locale=locale))
    if moment.astimezone(in_zone).utcoffset() != moment.astimezone(PORTAL_ZONE).utcoffset():
        text += f" {moment.astimezone(in_zone).tzname()}"
    return text


def amount_text(value: Decimal | None) -> str | None:
    """An amount as plain text for JSON and change history: ``12000000``, ``1.5`` (never an
    exponent, no trailing zeros); None for no amount."""
    return None if value is None else f"{value.normalize():f}"


def format_money(
    value: Decimal | float | int | str | None,
    locale: str,
    *,
    decimals: int = 0,
    currency: str | None = None,
) -> str:
    """``1 234 567`` in Swedish, ``1,234,567`` in English (``decimals`` after the point),
    followed by ``currency`` when given; empty for no amount. Amounts kept as text (the
    audit log, the digest's changes) are read as decimals."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = Decimal(value)
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    text = str(format_decimal(value, format=pattern, locale=locale))
    return f"{text} {currency}" if currency else text

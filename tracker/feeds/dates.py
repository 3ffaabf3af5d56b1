"""Turning the date formats sources use into aware UTC datetimes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tracker.calltime import day_moment

__all__ = [
    "from_epoch_ms",
    "given_as_day",
    "parse_iso",
    "parse_iso_utc",
    "read_moment",
]

_EPOCH_MS = re.compile(r"^-?\d{9,14}$")
# The search API writes "+0000"; Python 3.11 reads it, but not "+00" or a
# trailing "UTC", which some mirrors produce.


def parse_iso(value: str | None, *, naive_zone: ZoneInfo) -> datetime | None:
    """Parse an ISO 8601 date or datetime into an aware datetime in the offset it was
    written with.

    A value without a zone is read in `naive_zone`; a bare date means the start of that
    day there. Returns None for empty values; raises ValueError for anything else it
    cannot read.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.endswith(" UTC"):
        text = text[:-4] + "+00:00"
    if "T" in text and len(text) > 3 and text[-3] in "+-" and text[-2:].isdigit():
        text += ":00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=naive_zone)
    return parsed


def parse_iso_utc(value: str | None, *, naive_zone: ZoneInfo) -> datetime | None:
    """`parse_iso`, as aware UTC."""
    parsed = parse_iso(value, naive_zone=naive_zone)
    return parsed.astimezone(UTC) if parsed is not None else None


def read_moment(
    value: str | None, *, naive_zone: ZoneInfo, name: str, warnings: list[str]
) -> tuple[datetime, bool] | None:
    """(moment, date_only) of a date or datetime a source wrote (``given_as_day``); None for
    an empty value, and for an unreadable one, which adds a warning naming field `name`."""
    try:
        moment = parse_iso(value, naive_zone=naive_zone)
    except ValueError:
        warnings.append(f"{name}: unreadable date {value!r} ignored")
        return None
    return given_as_day(moment) if moment is not None else None


def given_as_day(moment: datetime) -> tuple[datetime, bool]:
    """(moment, date_only) for a moment read from a source that writes a day as midnight,
    in UTC or in the offset of the zone it was entered in: a real time is never exactly
    00:00:00. A day becomes ``tracker.calltime.day_moment`` of that day."""
    if (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0):
        return day_moment(moment.date()), True
    return moment.astimezone(UTC), False


def from_epoch_ms(value: int | float | str | None) -> datetime | None:
    """Epoch milliseconds (a number, or digits in a string) as aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        if not _EPOCH_MS.match(text):
            raise ValueError(f"not epoch milliseconds: {value!r}")
        millis = int(text)
    elif isinstance(value, bool):
        raise ValueError(f"not epoch milliseconds: {value!r}")
    else:
        millis = int(value)
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=millis)

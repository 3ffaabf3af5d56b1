"""Turning the date formats sources use into aware UTC datetimes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "STOCKHOLM",
    "end_of_day_utc",
    "from_epoch_ms",
    "local_to_utc",
    "parse_iso_utc",
]

STOCKHOLM = ZoneInfo("Europe/Stockholm")

_EPOCH_MS = re.compile(r"^-?\d{9,14}$")
# The search API writes "+0000"; Python 3.11 reads it, but not "+00" or a
# trailing "UTC", which some mirrors produce.


def parse_iso_utc(value: str | None, *, naive_zone: ZoneInfo = STOCKHOLM) -> datetime | None:
    """Parse an ISO 8601 date or datetime into aware UTC.

    A value without a zone is read in `naive_zone`; a bare date means the
    start of that day there. Returns None for empty values; raises ValueError
    for anything else it cannot read.
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
    return parsed.astimezone(UTC)


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


def local_to_utc(value: datetime, zone: ZoneInfo = STOCKHOLM) -> datetime:
    """A naive local wall-clock time in `zone` as aware UTC (DST-correct)."""
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    return value.replace(tzinfo=zone).astimezone(UTC)


def end_of_day_utc(day: date, zone: ZoneInfo = STOCKHOLM) -> datetime:
    """The last second of `day` in `zone`, as aware UTC."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=zone).astimezone(UTC)

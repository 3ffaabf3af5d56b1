"""The one source of "now".

The web app, the CLI and the scheduler each own a clock and hand the time it gives to the
services they call (``now=``); nothing else reads the wall clock. Tests give the app a
:class:`FixedClock`, so what a page shows never depends on the day the suite runs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]
"""A function returning the current moment, timezone-aware in UTC."""


def system_clock() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until it is moved: for tests and for replaying a day."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware moment")
        self.at = at.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta

    def set(self, at: datetime) -> None:
        self.at = at.astimezone(UTC)

"""The inbox's filters: read from the query string (unknown values are a clear error), with the
values the filter panel offers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from tracker.calltime import STATUS_FILTERS
from tracker.i18n import Message, msg
from tracker.models import (
    DismissReason,
    TriageState,
)

__all__ = [
    "EXPORT_CHUNK",
    "MAX_DEADLINE_WINDOW_DAYS",
    "MAX_PAGE",
    "MAX_QUERY_LENGTH",
    "MINE",
    "PAGE_SIZE",
    "PARAMETERS",
    "STATE_ALL",
    "STATUSES",
    "AreaOption",
    "AreaScore",
    "FilterReader",
    "InboxFilters",
    "InboxPage",
    "InboxRow",
    "UnknownFilterValue",
    "filter_query",
    "parse_filters",
    "read_page",
]


PAGE_SIZE = 25


MAX_DEADLINE_WINDOW_DAYS = 3650


MAX_QUERY_LENGTH = 200


EXPORT_CHUNK = 500


# Status filter values; the empty default shows what can still be applied for.
STATUSES = STATUS_FILTERS


# State filter values besides the triage states; the empty default hides dismissed calls.
STATE_ALL = "all"


# The "mine" filter's values: calls assigned to me, to my office, or where I was mentioned.
MINE = ("assigned", "office", "mentioned")


@dataclass(frozen=True)
class InboxFilters:
    """The inbox's query parameters, validated. Defaults mean "no filter", except ``status``
    (empty: open or forthcoming) and ``state`` (empty: every state but dismissed)."""

    area: str | None = None
    office: str | None = None
    programme: str | None = None
    status: str = ""
    deadline_within: int | None = None
    state: str = ""
    source: str | None = None
    min_score: float | None = None
    q: str = ""
    # "assigned" (to the person looking), "office" (assigned to their office), "mentioned"
    # (calls where someone @mentioned them).
    mine: str = ""
    page: int = 1

    def to_query(self, **changes: Any) -> dict[str, str]:
        """The non-default parameters as strings, for links and saved filters."""
        return filter_query(self, **changes)

    @property
    def is_default(self) -> bool:
        return not self.to_query(page=1)


PARAMETERS = tuple(InboxFilters.__dataclass_fields__)


# Further than any inbox goes; a larger page number would overflow the database's offset.
MAX_PAGE = 100_000


def filter_query(filters: Any, **changes: Any) -> dict[str, str]:
    """A filter's non-default parameters as strings, for links and saved filters: those of
    the dataclass ``filters`` (the inbox's or the catalogue's) with ``changes`` made."""
    values = replace(filters, **changes) if changes else filters
    out: dict[str, str] = {}
    for name in values.__dataclass_fields__:
        value = getattr(values, name)
        if value in (None, "") or (name == "page" and value == 1):
            continue
        if isinstance(value, float):
            value = f"{value:g}"
        out[name] = str(value)
    return out


class FilterReader:
    """Reads a filter's query parameters as the inbox and the catalogue do: values trimmed
    and cut to a length; an invalid value is dropped and reported under its parameter, so
    that the page can still show the rest of the filter."""

    def __init__(self, args: Mapping[str, str]) -> None:
        self.args = args
        self.values: dict[str, Any] = {}
        self.errors: dict[str, Message] = {}

    def text(self, name: str, limit: int = 300) -> str:
        return (self.args.get(name) or "").strip()[:limit]

    def name(self, *names: str) -> None:
        """Parameters naming something (an area, a source): looked up later, None if empty."""
        for name in names:
            self.values[name] = self.text(name) or None

    def choice(self, name: str, allowed: Iterable[str], message: Message) -> None:
        """One of ``allowed``, or empty."""
        value = self.text(name)
        if value and value not in allowed:
            self.errors[name] = message
        else:
            self.values[name] = value

    def query(self) -> None:
        """The searched text ``q``: spaces collapsed, at most MAX_QUERY_LENGTH characters."""
        self.values["q"] = " ".join(self.text("q", 1000).split())[:MAX_QUERY_LENGTH]

    def page(self) -> None:
        """The page number: decimal digits, 1 to MAX_PAGE."""
        read_page(self.text("page"), self.values, self.errors)


def parse_filters(args: Mapping[str, str]) -> tuple[InboxFilters, dict[str, Message]]:
    """Validate query parameters. Invalid values are dropped and reported per parameter, so
    the page can still show the rest of the filter."""
    read = FilterReader(args)
    read.name("area", "office", "programme", "source")
    read.choice("status", STATUSES, msg("choose open, forthcoming, closed or all"))
    state = read.text("state")
    if state and state != STATE_ALL and state not in TriageState.__members__.values():
        read.errors["state"] = msg("unknown triage state %(state)s", state=state)
    else:
        read.values["state"] = state
    within = read.text("deadline_within")
    if within:
        if len(within) <= 6 and within.isdecimal() and 0 < int(within) <= MAX_DEADLINE_WINDOW_DAYS:
            read.values["deadline_within"] = int(within)
        else:
            read.errors["deadline_within"] = msg(
                "give a number of days between 1 and %(max)d", max=MAX_DEADLINE_WINDOW_DAYS
            )
    min_score = read.text("min_score").replace(",", ".")
    if min_score:
        try:
            score = float(min_score)
        except ValueError:
            score = math.nan
        if 0 <= score <= 100:
            read.values["min_score"] = score
        else:
            read.errors["min_score"] = msg("give a score between 0 and 100")
    read.query()
    read.choice("mine", MINE, msg("Choose assigned to me, my office or mentioned."))
    read.page()
    return InboxFilters(**read.values), read.errors


def read_page(page: str, values: dict[str, Any], errors: dict[str, Message]) -> None:
    """A page number as the inbox and the catalogue read it: decimal digits, 1 to MAX_PAGE."""
    if not page:
        return
    if len(page) <= 6 and page.isdecimal() and 1 <= int(page) <= MAX_PAGE:
        values["page"] = int(page)
    else:
        errors["page"] = msg("the page must be a positive number")


@dataclass(frozen=True)
class AreaOption:
    id: int
    slug: str
    name_sv: str
    name_en: str

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_sv


@dataclass(frozen=True)
class AreaScore:
    slug: str
    name_sv: str
    name_en: str
    score: float

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_sv


@dataclass(frozen=True)
class InboxRow:
    """One line of the inbox, and of the exports."""

    call_id: int
    identifier: str | None
    title: str
    programme_code: str | None
    programme_label: str | None
    url: str | None
    status: str
    opens_at: datetime | None
    next_deadline: datetime | None
    score: float
    areas: tuple[AreaScore, ...]
    state: TriageState
    dismiss_reason: DismissReason | None
    office_slug: str | None
    office_name_sv: str | None
    office_name_en: str | None
    assignee_name: str | None
    budget_total_eur: Decimal | None
    # The next deadline was given as a day and is shown as a date.
    next_deadline_date_only: bool = False

    def office_name(self, language: str) -> str | None:
        return self.office_name_en if language == "en" else self.office_name_sv


@dataclass(frozen=True)
class InboxPage:
    filters: InboxFilters
    rows: list[InboxRow]
    total: int
    page: int
    page_count: int
    area_counts: list[tuple[AreaOption, int]] = field(default_factory=list)
    all_areas_count: int = 0


class UnknownFilterValue(Exception):
    """A filter names an area, office or source that does not exist."""

    def __init__(self, name: str, message: Message) -> None:
        super().__init__(message)
        self.name = name
        self.message = message

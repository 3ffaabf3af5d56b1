"""The catalogue of every stored call, matched or not: gated calls with their reason, calls
typed in by staff, withdrawn ones. Searchable (``tracker.services.search``) and filterable
like the inbox, newest first or, for a search, the most relevant first.

It filters, counts and pages the catalogue's own narrow entries (``CatalogueEntry``, one per
stored call, kept by ``tracker.services.catalogue_entries``), as the inbox reads its entries,
and reads the calls themselves only for the page's rows.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, any_, bindparam, case, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from tracker.calltime import CallDates, status_at, status_clause
from tracker.i18n import Message, msg
from tracker.models import (
    CallDeadline,
    CallReview,
    CallSourceLink,
    CatalogueEntry,
    FundingCall,
    InboxEntry,
    Source,
    SourceKind,
    TriageState,
)
from tracker.services.inbox import (
    FilterReader,
    UnknownFilterValue,
    filter_query,
    substring_ids,
    text_hits,
)
from tracker.services.search import (
    SearchQuery,
    found_condition,
    matching_ids,
    parse_query,
    vocabulary,
)

PAGE_SIZE = 25
STATUSES = ("open", "forthcoming", "closed", "withdrawn")
# Gate filter values besides a gate's code.
GATE_ANY_GATE = "gated"
GATE_NONE = "none"


@dataclass(frozen=True)
class CatalogueFilters:
    """The catalogue's query parameters; empty means "no filter"."""

    q: str = ""
    status: str = ""
    source: str | None = None
    programme: str | None = None
    gate: str = ""
    page: int = 1

    def to_query(self, **changes: Any) -> dict[str, str]:
        return filter_query(self, **changes)

    @property
    def is_default(self) -> bool:
        return not self.to_query(page=1)


def parse_catalogue_filters(
    args: Mapping[str, str],
) -> tuple[CatalogueFilters, dict[str, Message]]:
    """Validate query parameters; invalid values are dropped and reported per parameter
    (read as the inbox reads its own)."""
    read = FilterReader(args)
    read.query()
    read.choice("status", STATUSES, msg("Choose open, forthcoming, closed or withdrawn."))
    read.name("source", "programme")
    read.values["gate"] = read.text("gate", 64)
    read.page()
    return CatalogueFilters(**read.values), read.errors


@dataclass(frozen=True)
class CatalogueRow:
    call_id: int
    identifier: str | None
    title: str
    programme_label: str | None
    status: str
    next_deadline: datetime | None
    gate_code: str | None
    gate_reason: str | None
    sources: tuple[str, ...]
    is_manual: bool
    best_score: float | None
    state: TriageState


@dataclass(frozen=True)
class CataloguePage:
    filters: CatalogueFilters
    rows: list[CatalogueRow]
    total: int
    page: int
    page_count: int


def status_condition(status: str, now: datetime) -> ColumnElement[bool] | None:
    """``FundingCall.status(now) == status`` in SQL, over the catalogue's entries."""
    E = CatalogueEntry
    if status == "withdrawn":
        return E.is_withdrawn.is_(True)
    if status not in STATUSES:
        return None
    condition = status_clause(status, now, E)
    assert condition is not None
    return and_(condition, E.is_withdrawn.is_(False))


def gate_codes(session: Session) -> list[str]:
    """The gates that excluded at least one stored call."""
    return list(
        session.scalars(
            select(CatalogueEntry.gate_code)
            .where(CatalogueEntry.gate_code.is_not(None))
            .distinct()
            .order_by(CatalogueEntry.gate_code)
        )
    )


def catalogue_options(session: Session) -> dict[str, Any]:
    """The values offered in the catalogue's filter controls."""
    programmes = sorted(
        (
            (code, label or code)
            for code, label in session.execute(
                select(CatalogueEntry.programme_code, func.max(CatalogueEntry.programme_label))
                .where(CatalogueEntry.programme_code.is_not(None))
                .group_by(CatalogueEntry.programme_code)
            )
        ),
        key=lambda option: (str(option[1]).casefold(), option[0]),
    )
    return {
        "programmes": programmes,
        "sources": list(session.scalars(select(Source).order_by(Source.name))),
        "gates": gate_codes(session),
    }


@dataclass(frozen=True)
class _Search:
    """A search as conditions on the entries: found at all, and found as stems (anywhere,
    in the title) for ranking."""

    found: ColumnElement[bool]
    in_text: ColumnElement[bool] | None
    in_title: ColumnElement[bool] | None


def _search(session: Session, q: str, query: SearchQuery, dialect: str) -> _Search:
    column = CatalogueEntry.call_id
    if dialect != "postgresql":
        # SQLite's FTS5 lookups cost little: the statements repeat them as subqueries.
        return _Search(
            column.in_(text_hits(q, query, dialect)),
            found_condition(column, query, dialect) if query else None,
            found_condition(column, query, dialect, title_only=True) if query else None,
        )

    # On PostgreSQL, checking the indexes' candidates is the costly part: each lookup once,
    # for the count and the page alike.
    def ids(name: str, found: list[int]) -> ColumnElement[bool]:
        return column == any_(bindparam(name, sorted(found), type_=ARRAY(Integer)))

    stems = set(session.scalars(matching_ids(query, dialect))) if query else set()
    titles = list(session.scalars(matching_ids(query, dialect, title_only=True))) if query else []
    typed = set(session.scalars(substring_ids(q, dialect)))
    return _Search(
        ids("found", list(stems | typed)),
        ids("in_text", list(stems)) if query else None,
        ids("in_title", titles) if query else None,
    )


def _conditions(
    session: Session, filters: CatalogueFilters, search: _Search | None, now: datetime
) -> list[ColumnElement[bool]]:
    E = CatalogueEntry
    conditions: list[ColumnElement[bool]] = []
    status = status_condition(filters.status, now)
    if status is not None:
        conditions.append(status)
    if filters.source is not None:
        source_id = session.scalar(select(Source.id).where(Source.name == filters.source))
        if source_id is None:
            raise UnknownFilterValue("source", msg("no source %(name)s", name=filters.source))
        conditions.append(
            E.call_id.in_(
                select(CallSourceLink.call_id).where(CallSourceLink.source_id == source_id)
            )
        )
    if filters.programme is not None:
        conditions.append(E.programme_code == filters.programme)
    if filters.gate == GATE_ANY_GATE:
        conditions.append(E.gate_code.is_not(None))
    elif filters.gate == GATE_NONE:
        conditions.append(E.gate_code.is_(None))
    elif filters.gate:
        conditions.append(E.gate_code == filters.gate)
    if search is not None:
        conditions.append(search.found)
    return conditions


def catalogue_page(
    session: Session, filters: CatalogueFilters, *, now: datetime, page_size: int = PAGE_SIZE
) -> CataloguePage:
    """One page of every stored call that ``filters`` let through, and how many there are.
    Raises UnknownFilterValue for a source that does not exist."""
    search = None
    if filters.q:
        dialect = session.get_bind().dialect.name
        search = _search(session, filters.q, parse_query(filters.q, vocabulary(session)), dialect)
    conditions = _conditions(session, filters, search, now)
    total = int(
        session.scalar(select(func.count()).select_from(CatalogueEntry).where(*conditions)) or 0
    )
    page_count = max(1, math.ceil(total / page_size))
    page = min(filters.page, page_count)
    order: list[Any] = []
    if search is not None and search.in_title is not None and search.in_text is not None:
        # Every searched word in the title, then anywhere, then the text as typed only.
        order.append(case((search.in_title, 2), (search.in_text, 1), else_=0).desc())
    order.append(CatalogueEntry.call_id.desc())
    ids = list(
        session.scalars(
            select(CatalogueEntry.call_id)
            .where(*conditions)
            .order_by(*order)
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
    )
    return CataloguePage(
        filters=filters,
        rows=_rows(session, ids, now),
        total=total,
        page=page,
        page_count=page_count,
    )


def _rows(session: Session, ids: list[int], now: datetime) -> list[CatalogueRow]:
    if not ids:
        return []
    calls = {
        row.id: row
        for row in session.execute(
            select(
                FundingCall.id,
                FundingCall.identifier,
                FundingCall.title,
                FundingCall.programme_label,
                FundingCall.programme_code,
                FundingCall.gate_code,
                FundingCall.gate_reason,
                CatalogueEntry.opens_at,
                CatalogueEntry.last_deadline_at,
                CatalogueEntry.is_continuous,
                CatalogueEntry.is_announced,
                CatalogueEntry.is_withdrawn,
                InboxEntry.best_score,
                CallReview.state,
            )
            .join(CatalogueEntry, CatalogueEntry.call_id == FundingCall.id)
            .outerjoin(InboxEntry, InboxEntry.call_id == FundingCall.id)
            .outerjoin(CallReview, CallReview.call_id == FundingCall.id)
            .where(FundingCall.id.in_(ids))
        )
    }
    upcoming: dict[int, datetime] = {
        call_id: at
        for call_id, at in session.execute(
            select(CallDeadline.call_id, func.min(CallDeadline.deadline_at))
            .where(CallDeadline.call_id.in_(ids), CallDeadline.deadline_at >= now)
            .group_by(CallDeadline.call_id)
        )
    }
    sources: dict[int, list[tuple[str, SourceKind]]] = defaultdict(list)
    for call_id, name, kind in session.execute(
        select(CallSourceLink.call_id, Source.name, Source.kind)
        .join(Source, Source.id == CallSourceLink.source_id)
        .where(CallSourceLink.call_id.in_(ids))
        .order_by(Source.name)
    ):
        sources[call_id].append((name, kind))
    rows = []
    for call_id in ids:
        call = calls[call_id]
        dates = CallDates(
            call.opens_at,
            call.last_deadline_at,
            call.is_continuous,
            call.is_announced,
            call.is_withdrawn,
        )
        rows.append(
            CatalogueRow(
                call_id=call_id,
                identifier=call.identifier,
                title=call.title,
                programme_label=call.programme_label or call.programme_code,
                status=str(status_at(dates, now)),
                next_deadline=upcoming.get(call_id),
                gate_code=call.gate_code,
                gate_reason=call.gate_reason,
                sources=tuple(name for name, _ in sources[call_id]),
                is_manual=any(kind is SourceKind.MANUAL for _, kind in sources[call_id]),
                best_score=call.best_score,
                state=call.state or TriageState.NEW,
            )
        )
    return rows

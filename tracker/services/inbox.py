"""The inbox of matched calls: one query builder for the inbox page and for its exports.

``inbox_page`` (one page, for the web page) and ``iter_inbox_rows`` (every page, for the CSV
and xlsx exports) run the same ``_ranked_select``, so an export holds exactly the rows that
the inbox shows for the same filter, in the same order.

The query reads ``InboxEntry`` (a narrow copy of each matched call's dates and best score)
rather than the calls themselves, which keeps it fast with 100,000 calls;
``refresh_inbox_entries`` rebuilds those entries and must run whenever calls, their deadlines
or their matches change (ingestion and matching call it).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    SQLColumnExpression,
    and_,
    case,
    delete,
    false,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from tracker.i18n import Message, msg
from tracker.models import (
    CallDeadline,
    CallMatch,
    CallReview,
    DismissReason,
    FocusArea,
    FundingCall,
    InboxEntry,
    Office,
    Source,
    StrategyProfile,
    TriageState,
    User,
)

PAGE_SIZE = 25
MAX_DEADLINE_WINDOW_DAYS = 3650
MAX_QUERY_LENGTH = 200
EXPORT_CHUNK = 500

# Status filter values; the empty default shows what can still be applied for.
STATUSES = ("open", "forthcoming", "closed", "all")
# State filter values besides the triage states; the empty default hides dismissed calls.
STATE_ALL = "all"


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
    page: int = 1

    def to_query(self, **changes: Any) -> dict[str, str]:
        """The non-default parameters as strings, for links and saved filters."""
        values = replace(self, **changes) if changes else self
        out: dict[str, str] = {}
        for name in PARAMETERS:
            value = getattr(values, name)
            if value in (None, "") or (name == "page" and value == 1):
                continue
            if isinstance(value, float):
                value = f"{value:g}"
            out[name] = str(value)
        return out

    @property
    def is_default(self) -> bool:
        return not self.to_query(page=1)


PARAMETERS = tuple(InboxFilters.__dataclass_fields__)


def parse_filters(args: Mapping[str, str]) -> tuple[InboxFilters, dict[str, Message]]:
    """Validate query parameters. Invalid values are dropped and reported per parameter, so
    the page can still show the rest of the filter."""
    errors: dict[str, Message] = {}
    values: dict[str, Any] = {}

    def text(name: str, limit: int = 300) -> str:
        return (args.get(name) or "").strip()[:limit]

    for name in ("area", "office", "programme", "source"):
        values[name] = text(name) or None
    status = text("status")
    if status and status not in STATUSES:
        errors["status"] = msg("choose open, forthcoming, closed or all")
    else:
        values["status"] = status
    state = text("state")
    if state and state != STATE_ALL and state not in TriageState.__members__.values():
        errors["state"] = msg("unknown triage state %(state)s", state=state)
    else:
        values["state"] = state
    within = text("deadline_within")
    if within:
        if within.isdigit() and 0 < int(within) <= MAX_DEADLINE_WINDOW_DAYS:
            values["deadline_within"] = int(within)
        else:
            errors["deadline_within"] = msg(
                "give a number of days between 1 and %(max)d", max=MAX_DEADLINE_WINDOW_DAYS
            )
    min_score = text("min_score").replace(",", ".")
    if min_score:
        try:
            score = float(min_score)
        except ValueError:
            score = math.nan
        if 0 <= score <= 100:
            values["min_score"] = score
        else:
            errors["min_score"] = msg("give a score between 0 and 100")
    values["q"] = " ".join(text("q", 1000).split())[:MAX_QUERY_LENGTH]
    page = text("page")
    if page:
        if page.isdigit() and int(page) >= 1:
            values["page"] = int(page)
        else:
            errors["page"] = msg("the page must be a positive number")
    return InboxFilters(**values), errors


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


# --- the query ---------------------------------------------------------------------------------


def active_areas(session: Session) -> list[AreaOption]:
    """The focus areas of the active strategy profile that are not retired, in order."""
    rows = session.execute(
        select(FocusArea.id, FocusArea.slug, FocusArea.name_sv, FocusArea.name_en)
        .join(StrategyProfile, StrategyProfile.id == FocusArea.profile_id)
        .where(StrategyProfile.is_active, FocusArea.is_retired.is_(False))
        .order_by(FocusArea.position, FocusArea.slug)
    )
    return [AreaOption(*row) for row in rows]


def _score_band(score: SQLColumnExpression[Any]) -> ColumnElement[int]:
    # Steps of ten points: calls that are about equally relevant are then ordered by their
    # deadline. A CASE instead of floor() because SQLite may lack math functions.
    return case(*((score >= step * 10, step) for step in range(10, 0, -1)), else_=0)


def _next_deadline(now: datetime) -> ColumnElement[datetime | None]:
    """The first deadline not yet passed, from the entry's dates; only calls between two
    stages need a look at their deadlines."""
    later = (
        select(func.min(CallDeadline.deadline_at))
        .where(CallDeadline.call_id == InboxEntry.call_id, CallDeadline.deadline_at >= now)
        .scalar_subquery()
    )
    return case(
        (InboxEntry.first_deadline_at >= now, InboxEntry.first_deadline_at),
        (or_(InboxEntry.last_deadline_at.is_(None), InboxEntry.last_deadline_at < now), null()),
        else_=later,
    )


def _status_condition(status: str, now: datetime) -> ColumnElement[bool] | None:
    forthcoming = InboxEntry.opens_at > now
    running = or_(
        InboxEntry.is_continuous,
        InboxEntry.last_deadline_at.is_(None),
        InboxEntry.last_deadline_at >= now,
    )
    if status == "forthcoming":
        return forthcoming
    if status == "open":
        return and_(or_(InboxEntry.opens_at.is_(None), InboxEntry.opens_at <= now), running)
    if status == "closed":
        return and_(
            or_(InboxEntry.opens_at.is_(None), InboxEntry.opens_at <= now),
            InboxEntry.is_continuous.is_(False),
            InboxEntry.last_deadline_at < now,
        )
    if status == "all":
        return None
    return or_(forthcoming, running)


def _state_condition(state: str) -> ColumnElement[bool] | None:
    if state == STATE_ALL:
        return None
    if state == "":
        return or_(CallReview.state.is_(None), CallReview.state != TriageState.DISMISSED)
    if state == TriageState.NEW:
        return or_(CallReview.state.is_(None), CallReview.state == TriageState.NEW)
    return CallReview.state == TriageState(state)


def source_call_ids(session: Session, source: Source) -> Select[int] | None:
    """The ids of the calls that ``source`` lists, or None while calls do not record their
    sources (the call-source links arrive with ingestion; until then the filter is off)."""
    return None


def sources_for_filter(session: Session) -> list[Source]:
    """The sources offered in the inbox's source filter (none until calls record them)."""
    probe = select(Source).order_by(Source.name)
    sources = list(session.scalars(probe))
    if sources and source_call_ids(session, sources[0]) is None:
        return []
    return sources


@dataclass(frozen=True)
class _Resolved:
    """Filter values looked up in the database."""

    area: AreaOption | None
    active_area_ids: list[int]
    office_id: int | None
    source_ids: Select[int] | None


def _resolve(session: Session, filters: InboxFilters) -> _Resolved:
    areas = active_areas(session)
    area = None
    if filters.area is not None:
        area = next((a for a in areas if a.slug == filters.area), None)
        if area is None:
            raise UnknownFilterValue("area", msg("no focus area %(slug)s", slug=filters.area))
    office_id = None
    if filters.office is not None:
        office_id = session.scalar(select(Office.id).where(Office.slug == filters.office))
        if office_id is None:
            raise UnknownFilterValue("office", msg("no office %(slug)s", slug=filters.office))
    source_ids = None
    if filters.source is not None:
        source = session.scalar(select(Source).where(Source.name == filters.source))
        if source is None:
            raise UnknownFilterValue("source", msg("no source %(name)s", name=filters.source))
        source_ids = source_call_ids(session, source)
    return _Resolved(area, [a.id for a in areas], office_id, source_ids)


def _conditions(
    filters: InboxFilters,
    resolved: _Resolved,
    now: datetime,
    score: SQLColumnExpression[Any],
    *,
    with_area: bool = True,
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    for condition in (_status_condition(filters.status, now), _state_condition(filters.state)):
        if condition is not None:
            conditions.append(condition)
    if with_area and resolved.area is not None:
        conditions.append(CallMatch.is_match == true())
    if resolved.office_id is not None:
        conditions.append(CallReview.office_id == resolved.office_id)
    if filters.programme is not None:
        conditions.append(InboxEntry.programme_code == filters.programme)
    if filters.deadline_within is not None:
        window = (
            select(CallDeadline.call_id)
            .where(
                CallDeadline.deadline_at >= now,
                CallDeadline.deadline_at <= now + timedelta(days=filters.deadline_within),
            )
            .scalar_subquery()
        )
        conditions.append(InboxEntry.call_id.in_(window))
    if resolved.source_ids is not None:
        conditions.append(InboxEntry.call_id.in_(resolved.source_ids.scalar_subquery()))
    if filters.min_score is not None:
        conditions.append(score >= filters.min_score)
    if filters.q:
        conditions.append(
            or_(
                FundingCall.title.icontains(filters.q, autoescape=True),
                FundingCall.description_text.icontains(filters.q, autoescape=True),
                FundingCall.title_sv.icontains(filters.q, autoescape=True),
                FundingCall.identifier.icontains(filters.q, autoescape=True),
            )
        )
    return conditions


def _from(
    statement: Select[*tuple[Any, ...]],
    filters: InboxFilters,
    resolved: _Resolved,
    *,
    with_area: bool = True,
) -> Select[*tuple[Any, ...]]:
    statement = statement.select_from(InboxEntry).outerjoin(
        CallReview, CallReview.call_id == InboxEntry.call_id
    )
    if with_area and resolved.area is not None:
        statement = statement.join(
            CallMatch,
            and_(
                CallMatch.call_id == InboxEntry.call_id,
                CallMatch.focus_area_id == resolved.area.id,
            ),
        )
    if filters.q:
        statement = statement.join(FundingCall, FundingCall.id == InboxEntry.call_id)
    return statement


def _ranked_select(
    filters: InboxFilters, resolved: _Resolved, now: datetime
) -> Select[*tuple[Any, ...]]:
    """Call ids with what is needed to show their status, most relevant and most urgent
    first: the score in steps of ten, then the nearest deadline, then the exact score."""
    score: SQLColumnExpression[Any] = (
        CallMatch.score if resolved.area is not None else InboxEntry.best_score
    )
    next_deadline = _next_deadline(now).label("next_deadline")
    statement: Select[*tuple[Any, ...]] = select(
        InboxEntry.call_id,
        score.label("score"),
        next_deadline,
        InboxEntry.opens_at,
        InboxEntry.last_deadline_at,
        InboxEntry.is_continuous,
    )
    statement = _from(statement, filters, resolved).where(
        *_conditions(filters, resolved, now, score)
    )
    return statement.order_by(
        _score_band(score).desc(),
        next_deadline.asc().nulls_last(),
        score.desc(),
        InboxEntry.call_id,
    )


def _count(session: Session, filters: InboxFilters, resolved: _Resolved, now: datetime) -> int:
    score: SQLColumnExpression[Any] = (
        CallMatch.score if resolved.area is not None else InboxEntry.best_score
    )
    statement = _from(select(func.count()), filters, resolved).where(
        *_conditions(filters, resolved, now, score)
    )
    return int(session.scalar(statement) or 0)


def _area_counts(
    session: Session, filters: InboxFilters, resolved: _Resolved, now: datetime
) -> tuple[dict[int, int], int]:
    """For every active area, how many calls the filter would show with that area chosen;
    and how many it shows with no area chosen."""
    unfiltered = replace(filters, area=None, min_score=None)
    plain = replace(resolved, area=None)
    candidates = _from(select(InboxEntry.call_id), unfiltered, plain, with_area=False).where(
        *_conditions(unfiltered, plain, now, InboxEntry.best_score, with_area=False)
    )
    conditions = [
        CallMatch.is_match,
        CallMatch.focus_area_id.in_(resolved.active_area_ids or [-1]),
        CallMatch.call_id.in_(candidates.scalar_subquery()),
    ]
    if filters.min_score is not None:
        conditions.append(CallMatch.score >= filters.min_score)
    per_area = {
        area_id: int(count)
        for area_id, count in session.execute(
            select(CallMatch.focus_area_id, func.count())
            .where(*conditions)
            .group_by(CallMatch.focus_area_id)
        )
    }
    without_area = replace(filters, area=None)
    total = _count(session, without_area, plain, now)
    return per_area, total


# --- rows -----------------------------------------------------------------------------------------


def _status(
    opens_at: datetime | None, last: datetime | None, continuous: bool, now: datetime
) -> str:
    if opens_at is not None and now < opens_at:
        return "forthcoming"
    if continuous or last is None or last >= now:
        return "open"
    return "closed"


def _load_rows(
    session: Session, ranked: Sequence[Any], areas: Sequence[AreaOption], now: datetime
) -> list[InboxRow]:
    """Details for a slice of ranked ids, in the ranked order."""
    ids = [r.call_id for r in ranked]
    if not ids:
        return []
    calls = {
        row.id: row
        for row in session.execute(
            select(
                FundingCall.id,
                FundingCall.identifier,
                FundingCall.title,
                FundingCall.programme_code,
                FundingCall.programme_label,
                FundingCall.url,
                FundingCall.budget_total_eur,
            ).where(FundingCall.id.in_(ids))
        )
    }
    reviews = {
        row.call_id: row
        for row in session.execute(
            select(
                CallReview.call_id,
                CallReview.state,
                CallReview.dismiss_reason,
                Office.slug,
                Office.name_sv,
                Office.name_en,
                User.display_name,
            )
            .outerjoin(Office, Office.id == CallReview.office_id)
            .outerjoin(User, User.id == CallReview.assignee_id)
            .where(CallReview.call_id.in_(ids))
        )
    }
    by_id = {a.id: a for a in areas}
    matched: dict[int, list[AreaScore]] = defaultdict(list)
    for call_id, area_id, score in session.execute(
        select(CallMatch.call_id, CallMatch.focus_area_id, CallMatch.score).where(
            CallMatch.call_id.in_(ids),
            CallMatch.is_match,
            CallMatch.focus_area_id.in_(list(by_id) or [-1]),
        )
    ):
        area = by_id[area_id]
        matched[call_id].append(AreaScore(area.slug, area.name_sv, area.name_en, score))
    rows = []
    for r in ranked:
        call = calls[r.call_id]
        review = reviews.get(r.call_id)
        rows.append(
            InboxRow(
                call_id=call.id,
                identifier=call.identifier,
                title=call.title,
                programme_code=call.programme_code,
                programme_label=call.programme_label,
                url=call.url,
                status=_status(r.opens_at, r.last_deadline_at, r.is_continuous, now),
                opens_at=r.opens_at,
                next_deadline=r.next_deadline,
                score=float(r.score),
                areas=tuple(sorted(matched[r.call_id], key=lambda a: -a.score)),
                state=review.state if review is not None else TriageState.NEW,
                dismiss_reason=review.dismiss_reason if review is not None else None,
                office_slug=review.slug if review is not None else None,
                office_name_sv=review.name_sv if review is not None else None,
                office_name_en=review.name_en if review is not None else None,
                assignee_name=review.display_name if review is not None else None,
                budget_total_eur=call.budget_total_eur,
            )
        )
    return rows


def inbox_page(
    session: Session, filters: InboxFilters, *, now: datetime, page_size: int = PAGE_SIZE
) -> InboxPage:
    """One page of the inbox, the number of calls in it and the counts per focus area.
    Raises UnknownFilterValue for an area, office or source that does not exist."""
    resolved = _resolve(session, filters)
    total = _count(session, filters, resolved, now)
    page_count = max(1, math.ceil(total / page_size))
    page = min(filters.page, page_count)
    ranked = session.execute(
        _ranked_select(filters, resolved, now).limit(page_size).offset((page - 1) * page_size)
    ).all()
    areas = active_areas(session)
    per_area, all_count = _area_counts(session, filters, resolved, now)
    return InboxPage(
        filters=filters,
        rows=_load_rows(session, ranked, areas, now),
        total=total,
        page=page,
        page_count=page_count,
        area_counts=[(a, per_area.get(a.id, 0)) for a in areas],
        all_areas_count=all_count,
    )


def iter_inbox_rows(
    session: Session, filters: InboxFilters, *, now: datetime
) -> Iterator[InboxRow]:
    """Every row of the filter, all pages, in the inbox's order (for the exports)."""
    resolved = _resolve(session, filters)
    ranked = session.execute(_ranked_select(filters, resolved, now)).all()
    areas = active_areas(session)
    for start in range(0, len(ranked), EXPORT_CHUNK):
        yield from _load_rows(session, ranked[start : start + EXPORT_CHUNK], areas, now)


def filter_options(session: Session) -> dict[str, Any]:
    """The values offered in the inbox's filter controls."""
    codes = select(InboxEntry.programme_code).where(InboxEntry.programme_code.is_not(None))
    first_ids = (
        select(func.min(FundingCall.id))
        .where(FundingCall.programme_code.in_(codes.distinct().scalar_subquery()))
        .group_by(FundingCall.programme_code)
    )
    programmes = [
        (code, label or code)
        for code, label in session.execute(
            select(FundingCall.programme_code, FundingCall.programme_label)
            .where(FundingCall.id.in_(first_ids.scalar_subquery()))
            .order_by(FundingCall.programme_label, FundingCall.programme_code)
        )
    ]
    offices = list(session.scalars(select(Office).where(Office.is_active).order_by(Office.name_sv)))
    return {
        "areas": active_areas(session),
        "programmes": programmes,
        "offices": offices,
        "sources": sources_for_filter(session),
        "states": list(TriageState),
    }


# --- keeping the entries up to date --------------------------------------------------------------


def refresh_inbox_entries(
    session: Session, call_ids: Iterable[int] | None = None, *, now: datetime
) -> int:
    """Rebuild the inbox entries of ``call_ids`` (every call when None) from the calls, their
    deadlines and their matches; returns how many calls are in the inbox afterwards.

    A call is in the inbox when it matched at least one focus area of the active profile that
    is not retired, was not excluded by a gate, and was not withdrawn. Ingestion calls this
    after storing calls and deadlines, matching after storing matches."""
    chunks: list[list[int] | None]
    if call_ids is None:
        chunks = [None]
    else:
        ids = sorted(set(call_ids))
        chunks = [ids[i : i + EXPORT_CHUNK] for i in range(0, len(ids), EXPORT_CHUNK)]
    area_ids = [a.id for a in active_areas(session)]
    inserted = 0
    for chunk in chunks:
        wipe = delete(InboxEntry)
        if chunk is not None:
            wipe = wipe.where(InboxEntry.call_id.in_(chunk))
        session.execute(wipe)
        if not area_ids:
            continue
        best = (
            select(CallMatch.call_id, func.max(CallMatch.score).label("best_score"))
            .where(CallMatch.is_match, CallMatch.focus_area_id.in_(area_ids))
            .group_by(CallMatch.call_id)
        )
        dates = select(
            CallDeadline.call_id,
            func.min(CallDeadline.deadline_at).label("first_at"),
            func.max(CallDeadline.deadline_at).label("last_at"),
        ).group_by(CallDeadline.call_id)
        if chunk is not None:
            best = best.where(CallMatch.call_id.in_(chunk))
            dates = dates.where(CallDeadline.call_id.in_(chunk))
        best_q = best.subquery()
        dates_q = dates.subquery()
        rows = (
            select(
                FundingCall.id,
                best_q.c.best_score,
                FundingCall.opens_at,
                dates_q.c.first_at,
                dates_q.c.last_at,
                case((FundingCall.deadline_model == "continuous", true()), else_=false()),
                FundingCall.programme_code,
                literal(now, InboxEntry.refreshed_at.type),
            )
            .join(best_q, best_q.c.call_id == FundingCall.id)
            .outerjoin(dates_q, dates_q.c.call_id == FundingCall.id)
            .where(FundingCall.gate_code.is_(None), FundingCall.is_withdrawn.is_(False))
        )
        result = session.execute(
            insert(InboxEntry).from_select(
                [
                    InboxEntry.call_id,
                    InboxEntry.best_score,
                    InboxEntry.opens_at,
                    InboxEntry.first_deadline_at,
                    InboxEntry.last_deadline_at,
                    InboxEntry.is_continuous,
                    InboxEntry.programme_code,
                    InboxEntry.refreshed_at,
                ],
                rows,
            )
        )
        inserted += max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
    session.flush()
    return inserted

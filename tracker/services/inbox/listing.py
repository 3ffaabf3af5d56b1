"""The inbox of matched calls: one query builder for the inbox page and for its exports.

``inbox_page`` (one page, for the web page) and ``iter_inbox_rows`` (every page, for the CSV
and xlsx exports) run the same ``_ranked_select``, so an export holds exactly the rows that
the inbox shows for the same filter, in the same order.

The query reads ``InboxEntry`` (a narrow copy of each matched call's dates and best score,
kept by ``entries``) rather than the calls themselves, which keeps it fast with 100,000 calls.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    SQLColumnExpression,
    String,
    TextualSelect,
    and_,
    any_,
    bindparam,
    case,
    func,
    literal_column,
    null,
    or_,
    select,
    text,
    true,
    union,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from tracker.calltime import CallDates, status_at, status_clause
from tracker.i18n import msg
from tracker.models import (
    CallDeadline,
    CallMatch,
    CallReview,
    CallSourceLink,
    Comment,
    FocusArea,
    FundingCall,
    InboxEntry,
    Mention,
    Office,
    Source,
    StrategyProfile,
    TriageState,
    User,
)
from tracker.services.inbox.filters import (
    EXPORT_CHUNK,
    PAGE_SIZE,
    STATE_ALL,
    AreaOption,
    AreaScore,
    InboxFilters,
    InboxPage,
    InboxRow,
    UnknownFilterValue,
)
from tracker.services.search import (
    SearchQuery,
    found_condition,
    matching_ids,
    parse_query,
    vocabulary,
)

__all__ = [
    "CALL_SEARCH_COLUMN",
    "MIN_INDEXED_QUERY",
    "active_areas",
    "filter_options",
    "inbox_page",
    "iter_inbox_rows",
    "mine_call_ids",
    "score_band",
    "source_call_ids",
    "sources_for_filter",
    "substring_ids",
    "text_hits",
]


def active_areas(session: Session) -> list[AreaOption]:
    """The focus areas of the active strategy profile that are not retired, in order."""
    rows = session.execute(
        select(FocusArea.id, FocusArea.slug, FocusArea.name_sv, FocusArea.name_en)
        .join(StrategyProfile, StrategyProfile.id == FocusArea.profile_id)
        .where(StrategyProfile.is_active, FocusArea.is_retired.is_(False))
        .order_by(FocusArea.position, FocusArea.slug)
    )
    return [AreaOption(*row) for row in rows]


def score_band(score: float) -> int:
    """Steps of ten points: calls that are about equally relevant are ordered by deadline."""
    return max(0, min(10, int(score // 10)))


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


def _state_condition(state: str) -> ColumnElement[bool] | None:
    if state == STATE_ALL:
        return None
    if state == "":
        return InboxEntry.state != TriageState.DISMISSED
    return InboxEntry.state == TriageState(state)


def source_call_ids(source: Source) -> Select[int]:
    """The ids of the calls that ``source`` lists (withdrawn there or not)."""
    return select(CallSourceLink.call_id).where(CallSourceLink.source_id == source.id)


def sources_for_filter(session: Session) -> list[Source]:
    """The sources offered in the inbox's source filter."""
    return list(session.scalars(select(Source).order_by(Source.name)))


@dataclass(frozen=True)
class _Resolved:
    """Filter values looked up in the database."""

    area: AreaOption | None
    areas: list[AreaOption]
    office_id: int | None
    source_ids: Select[int] | None
    dialect: str
    # The searched text as stems and translations (empty without a search).
    query: SearchQuery = field(default_factory=lambda: SearchQuery(()))
    # The "mine" filter as call ids (None: no such filter).
    mine_ids: Select[int] | None = None
    # The entries whose call contains the searched text, when looked up beforehand, and
    # those with every searched word in the title.
    text_hits: list[int] | None = None
    stem_hits: list[int] | None = None
    title_hits: list[int] | None = None


def mine_call_ids(mine: str, viewer: User | None) -> Select[int] | None:
    """The calls of the "mine" filter for ``viewer``: assigned to them, to their office, or
    where a comment mentioned them. Nothing matches without a viewer (or an office)."""
    if not mine:
        return None
    user_id = viewer.id if viewer is not None else -1
    if mine == "assigned":
        return select(CallReview.call_id).where(CallReview.assignee_id == user_id)
    if mine == "office":
        office_id = viewer.office_id if viewer is not None else None
        return select(CallReview.call_id).where(CallReview.office_id == (office_id or -1))
    return (
        select(Comment.call_id)
        .join(Mention, Mention.comment_id == Comment.id)
        .where(Mention.user_id == user_id)
    )


def _resolve(session: Session, filters: InboxFilters, viewer: User | None = None) -> _Resolved:
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
        source_ids = source_call_ids(source)
    dialect = session.get_bind().dialect.name
    query = parse_query(filters.q, vocabulary(session)) if filters.q else SearchQuery(())
    found: list[int] | None = None
    stem_hits: list[int] | None = None
    title_hits: list[int] | None = None
    if filters.q and dialect == "postgresql":
        # Checking the indexes' candidates is the costly part of a search on PostgreSQL: do
        # it once, not once for the counts and again for the page; and look up the stems and
        # the text as typed each through its own index, then join them here.
        def entries(found: Select[int] | TextualSelect) -> list[int]:
            return list(
                session.scalars(select(InboxEntry.call_id).where(InboxEntry.call_id.in_(found)))
            )

        stem_hits, title_hits = [], []
        if query:
            stem_hits = entries(matching_ids(query, dialect))
            title_hits = entries(matching_ids(query, dialect, title_only=True))
        found = sorted(set(entries(substring_ids(filters.q, dialect))).union(stem_hits))
    return _Resolved(
        area,
        areas,
        office_id,
        source_ids,
        dialect,
        query,
        mine_call_ids(filters.mine, viewer),
        found,
        stem_hits,
        title_hits,
    )


def _score(resolved: _Resolved) -> SQLColumnExpression[Any]:
    """The score the filter shows and sorts by: the chosen area's, or the best one."""
    return CallMatch.score if resolved.area is not None else InboxEntry.best_score


def _conditions(
    filters: InboxFilters, resolved: _Resolved, now: datetime
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    for condition in (
        status_clause(filters.status, now, InboxEntry),
        _state_condition(filters.state),
    ):
        if condition is not None:
            conditions.append(condition)
    if resolved.area is not None:
        conditions.append(CallMatch.is_match == true())
    if resolved.office_id is not None:
        conditions.append(InboxEntry.office_id == resolved.office_id)
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
    if resolved.mine_ids is not None:
        conditions.append(InboxEntry.call_id.in_(resolved.mine_ids.scalar_subquery()))
    if filters.min_score is not None:
        conditions.append(_score(resolved) >= filters.min_score)
    if filters.q:
        if resolved.text_hits is not None:
            hits = bindparam("text_hits", resolved.text_hits, type_=ARRAY(Integer))
            conditions.append(InboxEntry.call_id == any_(hits))
        else:
            found = text_hits(filters.q, resolved.query, resolved.dialect)
            conditions.append(InboxEntry.call_id.in_(found))
    return conditions


# On PostgreSQL the searched texts in lower case, a generated and trigram-indexed column of
# funding_calls that the models do not map (the review migration ae13e7664237 makes it).
CALL_SEARCH_COLUMN = "funding_calls.call_search_text"


# Trigram indexes find strings of three characters or more; shorter ones are looked for
# directly in the texts.
MIN_INDEXED_QUERY = 3


def text_hits(q: str, query: SearchQuery, dialect: str) -> CompoundSelect[int] | Select[int]:
    """The ids of the calls that the search finds (``query``: every word, in Swedish or
    English, as stems or translated) or whose texts contain ``q`` as typed, for
    ``column.in_(...)``. A UNION of the two lookups, so that each reads its own index: an OR
    across the stems and the calls' texts made PostgreSQL test every call's text."""
    typed = substring_ids(q, dialect)
    if not query:
        return typed
    stems = matching_ids(query, dialect).subquery()
    return union(typed, select(stems.c.call_id))


def substring_ids(q: str, dialect: str) -> Select[int]:
    """The ids of the calls whose title, Swedish title, identifier or description contains
    ``q``, whatever the case (Ö and ö alike): through the trigram index on PostgreSQL and the
    FTS5 trigram table on SQLite (strings shorter than three characters are looked for in
    the texts themselves)."""
    if dialect == "sqlite" and len(q) >= MIN_INDEXED_QUERY:
        phrase = '"' + q.replace('"', '""') + '"'
        found = (
            text("SELECT rowid AS call_id FROM call_search WHERE call_search MATCH :phrase")
            .bindparams(bindparam("phrase", phrase, unique=True))
            .columns(call_id=Integer)
            .subquery()
        )
        return select(found.c.call_id)
    if dialect == "postgresql":
        escaped = q.lower().replace("/", "//").replace("%", "/%").replace("_", "/_")
        return select(FundingCall.id.label("call_id")).where(
            literal_column(CALL_SEARCH_COLUMN, String).like(f"%{escaped}%", escape="/")
        )
    return select(FundingCall.id.label("call_id")).where(
        or_(
            FundingCall.title.icontains(q, autoescape=True),
            FundingCall.description_text.icontains(q, autoescape=True),
            FundingCall.title_sv.icontains(q, autoescape=True),
            FundingCall.identifier.icontains(q, autoescape=True),
        )
    )


def _filtered(
    statement: Select[*tuple[Any, ...]],
    filters: InboxFilters,
    resolved: _Resolved,
    now: datetime,
) -> Select[*tuple[Any, ...]]:
    """``statement`` over the inbox entries that ``filters`` let through."""
    statement = statement.select_from(InboxEntry)
    if resolved.area is not None:
        statement = statement.join(
            CallMatch,
            and_(
                CallMatch.call_id == InboxEntry.call_id,
                CallMatch.focus_area_id == resolved.area.id,
            ),
        )
    return statement.where(*_conditions(filters, resolved, now))


def _ranked_select(
    filters: InboxFilters, resolved: _Resolved, now: datetime
) -> Select[*tuple[Any, ...]]:
    """Call ids with what is needed to show their status, the most relevant first: the exact
    score (in the chosen area, or the best of any area), then the nearest deadline. Steps of
    ten hid a 99.6 behind a 90 with an earlier deadline."""
    score = _score(resolved)
    next_deadline = _next_deadline(now).label("next_deadline")
    # A search ranks by relevance first: every searched word (or its translation) in the
    # title, then anywhere, then calls that only contain the text as typed.
    relevance: list[ColumnElement[Any]] = []
    if resolved.query:
        if resolved.title_hits is not None and resolved.stem_hits is not None:
            in_title: ColumnElement[bool] = InboxEntry.call_id == any_(
                bindparam("title_hits", resolved.title_hits, type_=ARRAY(Integer))
            )
            in_text: ColumnElement[bool] = InboxEntry.call_id == any_(
                bindparam("stem_hits", resolved.stem_hits, type_=ARRAY(Integer))
            )
        else:
            in_title = found_condition(
                InboxEntry.call_id, resolved.query, resolved.dialect, title_only=True
            )
            in_text = found_condition(InboxEntry.call_id, resolved.query, resolved.dialect)
        relevance.append(case((in_title, 2), (in_text, 1), else_=0).desc())
    statement: Select[*tuple[Any, ...]] = select(
        InboxEntry.call_id,
        score.label("score"),
        next_deadline,
        InboxEntry.opens_at,
        InboxEntry.last_deadline_at,
        InboxEntry.is_continuous,
        InboxEntry.is_announced,
    )
    return _filtered(statement, filters, resolved, now).order_by(
        *relevance,
        score.desc(),
        next_deadline.asc().nulls_last(),
        InboxEntry.call_id,
    )


def _count(session: Session, filters: InboxFilters, resolved: _Resolved, now: datetime) -> int:
    return int(session.scalar(_filtered(select(func.count()), filters, resolved, now)) or 0)


@dataclass(frozen=True)
class _Counts:
    total: int  # what the filter shows
    per_area: dict[int, int]  # what it would show with each area chosen
    all_areas: int  # what it would show with no area chosen


def _counts(session: Session, filters: InboxFilters, resolved: _Resolved, now: datetime) -> _Counts:
    no_area = replace(resolved, area=None)
    per_area: dict[int, int] = defaultdict(int)
    if filters.min_score is None:
        # One pass: every entry matched at least one area, and its area key names them all.
        all_areas = 0
        grouped = _filtered(
            select(InboxEntry.area_key, func.count()), filters, no_area, now
        ).group_by(InboxEntry.area_key)
        for key, count in session.execute(grouped):
            all_areas += count
            for area_id in key.strip(",").split(","):
                per_area[int(area_id)] += count
        total = all_areas if resolved.area is None else per_area.get(resolved.area.id, 0)
        return _Counts(total, dict(per_area), all_areas)
    # With a lowest score, each area's count depends on the call's score in that area.
    candidates = _filtered(
        select(InboxEntry.call_id), replace(filters, min_score=None), no_area, now
    )
    for area_id, count in session.execute(
        select(CallMatch.focus_area_id, func.count())
        .where(
            CallMatch.is_match == true(),
            CallMatch.focus_area_id.in_([a.id for a in resolved.areas] or [-1]),
            CallMatch.score >= filters.min_score,
            CallMatch.call_id.in_(candidates.scalar_subquery()),
        )
        .group_by(CallMatch.focus_area_id)
    ):
        per_area[area_id] = int(count)
    all_areas = _count(session, filters, no_area, now)
    total = all_areas if resolved.area is None else per_area.get(resolved.area.id, 0)
    return _Counts(total, dict(per_area), all_areas)


def _load_rows(
    session: Session, ranked: Sequence[Any], areas: Sequence[AreaOption], now: datetime
) -> list[InboxRow]:
    """Details for a slice of ranked ids, in the ranked order."""
    ids = [r[0] for r in ranked]
    if not ids:
        return []
    details: dict[int, tuple[Any, ...]] = {
        row[0]: tuple(row)
        for row in session.execute(
            select(
                FundingCall.id,
                FundingCall.identifier,
                FundingCall.title,
                FundingCall.programme_code,
                FundingCall.programme_label,
                FundingCall.url,
                FundingCall.budget_total_eur,
                CallReview.state,
                CallReview.dismiss_reason,
                Office.slug,
                Office.name_sv,
                Office.name_en,
                User.display_name,
            )
            .outerjoin(CallReview, CallReview.call_id == FundingCall.id)
            .outerjoin(Office, Office.id == CallReview.office_id)
            .outerjoin(User, User.id == CallReview.assignee_id)
            .where(FundingCall.id.in_(ids))
        )
    }
    shown_as_day = {
        (call_id, at)
        for call_id, at in session.execute(
            select(CallDeadline.call_id, CallDeadline.deadline_at).where(
                CallDeadline.call_id.in_(ids), CallDeadline.is_date_only.is_(True)
            )
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
    # Plain tuples: attribute access on result rows costs more than building the row itself.
    for call_id, score, next_deadline, opens_at, last_deadline_at, continuous, announced in ranked:
        (_, identifier, title, code, label, url, budget) = details[call_id][:7]
        (state, reason, office_slug, name_sv, name_en, assignee) = details[call_id][7:]
        rows.append(
            InboxRow(
                call_id=call_id,
                identifier=identifier,
                title=title,
                programme_code=code,
                programme_label=label,
                url=url,
                status=status_at(CallDates(opens_at, last_deadline_at, continuous, announced), now),
                opens_at=opens_at,
                next_deadline=next_deadline,
                score=float(score),
                areas=tuple(sorted(matched[call_id], key=lambda a: -a.score)),
                state=state or TriageState.NEW,
                dismiss_reason=reason,
                office_slug=office_slug,
                office_name_sv=name_sv,
                office_name_en=name_en,
                assignee_name=assignee,
                budget_total_eur=budget,
                next_deadline_date_only=(call_id, next_deadline) in shown_as_day,
            )
        )
    return rows


def inbox_page(
    session: Session,
    filters: InboxFilters,
    *,
    now: datetime,
    page_size: int = PAGE_SIZE,
    viewer: User | None = None,
) -> InboxPage:
    """One page of the inbox, the number of calls in it and the counts per focus area
    (``viewer``: the person whose calls the "mine" filter means).
    Raises UnknownFilterValue for an area, office or source that does not exist."""
    resolved = _resolve(session, filters, viewer)
    counts = _counts(session, filters, resolved, now)
    page_count = max(1, math.ceil(counts.total / page_size))
    page = min(filters.page, page_count)
    ranked = session.execute(
        _ranked_select(filters, resolved, now).limit(page_size).offset((page - 1) * page_size)
    ).all()
    return InboxPage(
        filters=filters,
        rows=_load_rows(session, ranked, resolved.areas, now),
        total=counts.total,
        page=page,
        page_count=page_count,
        area_counts=[(a, counts.per_area.get(a.id, 0)) for a in resolved.areas],
        all_areas_count=counts.all_areas,
    )


def iter_inbox_rows(
    session: Session, filters: InboxFilters, *, now: datetime, viewer: User | None = None
) -> Iterator[InboxRow]:
    """Every row of the filter, all pages, in the inbox's order (for the exports)."""
    resolved = _resolve(session, filters, viewer)
    ranked = session.execute(_ranked_select(filters, resolved, now)).all()
    for start in range(0, len(ranked), EXPORT_CHUNK):
        yield from _load_rows(session, ranked[start : start + EXPORT_CHUNK], resolved.areas, now)


def filter_options(session: Session, *, areas: list[AreaOption] | None = None) -> dict[str, Any]:
    """The values offered in the inbox's filter controls (``areas`` when already known)."""
    codes = (
        select(InboxEntry.programme_code)
        .where(InboxEntry.programme_code.is_not(None))
        .distinct()
        .subquery()
    )
    label = (
        select(FundingCall.programme_label)
        .where(FundingCall.programme_code == codes.c.programme_code)
        .limit(1)
        .scalar_subquery()
    )
    programmes = sorted(
        (
            (code, name or code)
            for code, name in session.execute(select(codes.c.programme_code, label))
        ),
        key=lambda option: (option[1].casefold(), option[0]),
    )
    offices = list(session.scalars(select(Office).where(Office.is_active).order_by(Office.name_sv)))
    return {
        "areas": areas if areas is not None else active_areas(session),
        "programmes": programmes,
        "offices": offices,
        "sources": sources_for_filter(session),
        "states": list(TriageState),
    }

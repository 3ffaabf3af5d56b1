"""Ingest: fetched records become stored calls, once each, with their history.

`upsert_calls` takes what one source returned and

* recognises a call another source already brought, by normalised identifier,
  then canonical URL, then (logged) a fuzzy match of title and deadline day;
  the call then has one more source link;
* updates calls in place, merging the fields of all their sources (the most
  authoritative source first), and records changes to title, deadlines,
  opening, budget and status with old value, new value and time;
* skips records whose content digest is unchanged: re-fetching unchanged data
  writes nothing, not even ``updated_at``;
* marks calls that a complete listing no longer contains as withdrawn (never
  deletes them), and brings them back if they reappear;
* keeps malformed items in quarantine for admins.

`run_fetches` is the unit of work around it: fetch each source over HTTP
outside any transaction, then ingest it and record the run in one
transaction of its own, so a failing source only records a failed run.

Ingest neither matches calls nor touches the inbox: callers go through
``tracker.services.pipeline``, which matches what ingest stored and so
refreshes the inbox.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, cast
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import Table, delete, func, insert, select, text, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from tracker.calltime import CallDates, deadline_closes, deadlines_passed, local_day, zone
from tracker.feeds.errors import FetchError
from tracker.feeds.gcpause import gc_paused
from tracker.feeds.interreg import KnownCall
from tracker.feeds.records import (
    CallRecord,
    FeedItem,
    FetchResult,
    Quarantined,
    canonical_url,
    html_to_text,
    normalise_identifier,
)
from tracker.feeds.registry import SourceSpec, fetch_source
from tracker.feeds.sedia import FacetCache
from tracker.models import (
    CallChange,
    CallDeadline,
    CallSourceLink,
    FetchRun,
    FetchStatus,
    FundingCall,
    QuarantinedItem,
    Source,
    SourceKind,
)

__all__ = [
    "SOURCE_PRIORITY",
    "IngestStats",
    "SourceOutcome",
    "ingest_fetch_result",
    "record_failed_run",
    "run_fetches",
    "source_spec",
    "upsert_calls",
]

log = logging.getLogger(__name__)

# Whose word counts when sources disagree: the portal's own API first, a feed last.
SOURCE_PRIORITY: dict[SourceKind, int] = {
    SourceKind.FT_SEARCH: 0,
    SourceKind.FT_BULK: 1,
    SourceKind.VINNOVA: 2,
    SourceKind.INTERREG: 3,
    SourceKind.MANUAL: 4,
    SourceKind.RSS: 5,
}
BATCH_SIZE = 500
# New rows go in through Core: one statement per batch, no per-row ORM bookkeeping.
_CALLS = cast(Table, FundingCall.__table__)
_DEADLINES = cast(Table, CallDeadline.__table__)
_LINKS = cast(Table, CallSourceLink.__table__)
FUZZY_TITLE_RATIO = 0.88
_WORDS = re.compile(r"[^\w]+", re.UNICODE)

# Columns filled from records. Budget columns travel together (one source's budget).
_SCALAR_COLUMNS = (
    "identifier",
    "identifier_key",
    "parent_identifier",
    "call_identifier",
    "call_title",
    "organiser",
    "title",
    "title_sv",
    "other_titles",
    "programme_code",
    "programme_label",
    "programme_divisions",
    "type_of_action",
    "summary",
    "description_html",
    "description_text",
    "url",
    "url_key",
    "language",
    "published_at",
    "opens_at",
    "opening_note",
    "cofinancing_rate",
    "region",
    "eligible_area",
    "eligible_applicants",
    "keywords",
    "tags",
    "cross_cutting_priorities",
    "links",
    "warnings",
)
_BUDGET_COLUMNS = (
    "currency",
    "budget_total",
    "budget_min",
    "budget_max",
    "expected_grants",
    "budget_total_eur",
    "budget_min_eur",
    "budget_max_eur",
)
_DEADLINE_COLUMNS = ("deadline_model", "deadlines")


@dataclass
class IngestStats:
    """What one ingest did: calls created, updated (or newly linked), left alone."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    withdrawn: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.new + self.updated + self.unchanged


# --- turning a record into column values -------------------------------------------


def _dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _in_eur(amount: Decimal | None, currency: str | None, sek_per_eur: Decimal | None) -> Any:
    if amount is None:
        return None
    if currency == "EUR":
        return amount
    if currency == "SEK" and sek_per_eur:
        return (amount / sek_per_eur).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return None


@dataclass(frozen=True, slots=True)
class _Deadline:
    at: datetime
    stage: str | None
    date_only: bool


def _deadlines(record: Mapping[str, Any], in_zone: ZoneInfo) -> list[_Deadline]:
    out = []
    kind = str(record.get("source_kind") or "")
    for item in record.get("deadlines") or []:
        at, date_only = deadline_closes(
            datetime.fromisoformat(item["at"]), bool(item.get("date_only")), kind, in_zone
        )
        out.append(_Deadline(at, item.get("stage"), date_only))
    return sorted(out, key=lambda d: d.at)


def call_values(
    record: Mapping[str, Any],
    sek_per_eur: Decimal | None = None,
    in_zone: ZoneInfo | None = None,
) -> dict[str, Any]:
    """The call columns one record (as `CallRecord.to_dict()`) supplies."""
    titles = {str(lang): str(title) for lang, title in record.get("other_titles") or []}
    language = record.get("language")
    budget = record.get("budget") or {}
    currency = budget.get("currency") if budget else None
    total, low, high = (_dec(budget.get(k)) for k in ("total", "min_grant", "max_grant"))
    summary = html_to_text(record.get("summary_html")) or None
    description_html = record.get("description_html")
    divisions = [
        {"code": d.get("code"), "label": d.get("label")}
        for d in record.get("programme_divisions") or []
    ]
    return {
        "identifier": record.get("identifier"),
        "identifier_key": normalise_identifier(record.get("identifier")),
        "parent_identifier": record.get("parent_identifier"),
        "call_identifier": record.get("call_identifier"),
        "call_title": record.get("call_title"),
        "organiser": record.get("organiser"),
        "title": record["title"],
        "title_sv": record["title"] if language == "sv" else titles.get("sv"),
        "other_titles": titles,
        "programme_code": record.get("programme_code"),
        "programme_label": record.get("programme_label"),
        "programme_divisions": divisions,
        "type_of_action": record.get("type_of_action"),
        "summary": summary,
        "description_html": description_html,
        "description_text": html_to_text(description_html) or summary,
        "url": record.get("url"),
        "url_key": canonical_url(record.get("url")),
        "language": language,
        "published_at": _when(record.get("published_at")),
        "opens_at": _when(record.get("opens_at")),
        "opening_note": record.get("opening_note"),
        "cofinancing_rate": _dec(record.get("funding_rate_pct")),
        "region": record.get("region"),
        "eligible_area": dict(record.get("eligible_area") or {}),
        "eligible_applicants": record.get("eligible_applicants"),
        "keywords": list(record.get("keywords") or []),
        "tags": list(record.get("tags") or []),
        "cross_cutting_priorities": list(record.get("cross_cutting_priorities") or []),
        "links": [dict(link) for link in record.get("links") or []],
        "warnings": list(record.get("warnings") or []),
        "currency": currency,
        "budget_total": total,
        "budget_min": low,
        "budget_max": high,
        "expected_grants": budget.get("expected_grants") if budget else None,
        "budget_total_eur": _in_eur(total, currency, sek_per_eur),
        "budget_min_eur": _in_eur(low, currency, sek_per_eur),
        "budget_max_eur": _in_eur(high, currency, sek_per_eur),
        "deadline_model": record.get("deadline_model"),
        "deadlines": _deadlines(record, in_zone or zone()),
    }


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def merge_values(ordered: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Merge the values of several sources, most authoritative first.

    Each column takes the first non-empty value; deadlines (with their model)
    and the budget each come whole from the first source that has them.
    """
    merged = dict(ordered[0])
    for name in _SCALAR_COLUMNS:
        merged[name] = next((v[name] for v in ordered if not _empty(v[name])), ordered[0][name])
    for group in (_BUDGET_COLUMNS, _DEADLINE_COLUMNS):
        anchor = group[1]
        chosen = next((v for v in ordered if not _empty(v[anchor])), ordered[0])
        for name in group:
            merged[name] = chosen[name]
    return merged


def record_digest(record_dict: Mapping[str, Any]) -> str:
    """Digest of a record's content; equal content gives an equal digest.

    `CallRecord.to_dict` always builds its keys in the same order, so the
    keys need no sorting.
    """
    payload = json.dumps(record_dict, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _raw(record: CallRecord) -> dict[str, Any] | None:
    if record.raw is None:
        return None
    return record.raw if isinstance(record.raw, dict) else {"value": record.raw}


# --- history ---------------------------------------------------------------------------


def _budget_snapshot(values: Mapping[str, Any]) -> dict[str, Any] | None:
    snapshot = {
        "currency": values.get("currency"),
        "total": values.get("budget_total"),
        "min": values.get("budget_min"),
        "max": values.get("budget_max"),
        "expected_grants": values.get("expected_grants"),
    }
    if all(v is None for k, v in snapshot.items() if k != "currency"):
        return None
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in snapshot.items()}


def _call_budget(call: FundingCall) -> dict[str, Any] | None:
    return _budget_snapshot(
        {
            "currency": call.currency,
            "budget_total": _normal(call.budget_total),
            "budget_min": _normal(call.budget_min),
            "budget_max": _normal(call.budget_max),
            "expected_grants": call.expected_grants,
        }
    )


def _normal(value: Decimal | None) -> Decimal | None:
    """Numeric columns come back with the column's scale; compare them by value."""
    if value is None:
        return None
    return Decimal(int(value)) if value == value.to_integral_value() else value.normalize()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _deadline_list(deadlines: Iterable[_Deadline]) -> list[str]:
    return [d.at.isoformat() for d in deadlines]


@dataclass(frozen=True, slots=True)
class _Rules:
    """How a record's values are converted: SEK to euros, and days to closing moments."""

    sek_per_eur: Decimal | None
    in_zone: ZoneInfo


# --- the call index used to recognise calls from other sources ------------------------


def _title_key(title: str) -> str:
    return " ".join(w for w in _WORDS.split(title.casefold()) if w)


@dataclass
class _CallIndex:
    by_identifier: dict[str, int] = field(default_factory=dict)
    by_url: dict[str, int] = field(default_factory=dict)
    by_day: dict[date, list[tuple[int, str, str | None]]] | None = None
    # Deadline days are compared in this zone.
    day_zone: ZoneInfo = field(default_factory=zone)

    @classmethod
    def load(cls, session: Session, in_zone: ZoneInfo) -> _CallIndex:
        index = cls(day_zone=in_zone)
        rows = session.execute(
            select(FundingCall.id, FundingCall.identifier_key, FundingCall.url_key).order_by(
                FundingCall.is_withdrawn.desc(), FundingCall.id.desc()
            )
        )
        for call_id, identifier_key, url_key in rows:
            # Active and older calls come last in this order, so they win.
            if identifier_key:
                index.by_identifier[identifier_key] = call_id
            if url_key:
                index.by_url[url_key] = call_id
        return index

    def fuzzy(self, session: Session, source_id: int, values: Mapping[str, Any]) -> int | None:
        """A call of another source with a near-identical title and the same first deadline day."""
        deadlines: list[_Deadline] = values["deadlines"]
        if not deadlines:
            return None
        if self.by_day is None:
            self.by_day = self._load_days(session, source_id, self.day_zone)
        day = local_day(deadlines[0].at, self.day_zone)
        wanted = _title_key(values["title"])
        best: tuple[float, int] | None = None
        for call_id, title_key, identifier_key in self.by_day.get(day, []):
            if (
                identifier_key
                and values["identifier_key"]
                and identifier_key != values["identifier_key"]
            ):
                continue  # different identifiers are different calls, however alike the titles
            ratio = difflib.SequenceMatcher(None, wanted, title_key).ratio()
            if ratio >= FUZZY_TITLE_RATIO and (best is None or ratio > best[0]):
                best = (ratio, call_id)
        if best is None:
            return None
        log.info(
            "matched %r to call %d by title and deadline day %s (similarity %.2f)",
            values["title"],
            best[1],
            day,
            best[0],
        )
        return best[1]

    @staticmethod
    def _load_days(
        session: Session, source_id: int, in_zone: ZoneInfo
    ) -> dict[date, list[tuple[int, str, str | None]]]:
        first_deadline = (
            select(CallDeadline.call_id, func.min(CallDeadline.deadline_at).label("first"))
            .group_by(CallDeadline.call_id)
            .subquery()
        )
        own = select(CallSourceLink.call_id).where(CallSourceLink.source_id == source_id)
        rows = session.execute(
            select(
                FundingCall.id,
                FundingCall.title,
                FundingCall.identifier_key,
                first_deadline.c.first,
            )
            .join(first_deadline, first_deadline.c.call_id == FundingCall.id)
            .where(FundingCall.id.not_in(own))
        )
        days: dict[date, list[tuple[int, str, str | None]]] = {}
        for call_id, title, identifier_key, first in rows:
            if first.tzinfo is None:  # pragma: no cover - aggregates bypass the column type
                first = first.replace(tzinfo=UTC)
            day = local_day(first, in_zone)
            days.setdefault(day, []).append((call_id, _title_key(title), identifier_key))
        return days


# --- upsert ----------------------------------------------------------------------------


@dataclass(slots=True)
class _LinkState:
    id: int
    call_id: int
    content_hash: str
    withdrawn: bool


@dataclass(slots=True)
class _Pending:
    record: CallRecord
    record_dict: dict[str, Any]
    digest: str
    values: dict[str, Any]


def upsert_calls(
    session: Session,
    source: Source,
    records: Iterable[FeedItem],
    *,
    now: datetime,
    complete: bool = False,
    sek_per_eur: Decimal | None = None,
    in_zone: ZoneInfo | None = None,
) -> IngestStats:
    """Store what `source` returned: new calls, updates with history, quarantine.

    `records` may be lazy (the bulk file); it is consumed in batches. With
    `complete`, calls of this source missing from `records` are withdrawn.
    Adds and flushes; the caller commits.
    """
    stats = IngestStats()
    links = {
        external_id: _LinkState(link_id, call_id, digest, withdrawn_at is not None)
        for link_id, external_id, call_id, digest, withdrawn_at in session.execute(
            select(
                CallSourceLink.id,
                CallSourceLink.external_id,
                CallSourceLink.call_id,
                CallSourceLink.content_hash,
                CallSourceLink.withdrawn_at,
            ).where(CallSourceLink.source_id == source.id)
        )
    }
    kinds: dict[int, SourceKind] = {
        source_id: kind for source_id, kind in session.execute(select(Source.id, Source.kind))
    }

    rules = _Rules(sek_per_eur, in_zone or zone())
    run = _BatchIngest(session, source, links, kinds, now, rules, stats)
    with gc_paused():
        for batch in _batches(records, BATCH_SIZE):
            run.ingest(batch)

    if complete:
        stats.withdrawn = _withdraw_missing(
            session, source, links, run.seen, kinds, now, stats, rules
        )
    stats.quarantined = _replace_quarantine(session, source, run.quarantined, now)
    session.flush()
    return stats


class _BatchIngest:
    """The state of one `upsert_calls` run, fed one batch of items at a time."""

    def __init__(
        self,
        session: Session,
        source: Source,
        links: dict[str, _LinkState],
        kinds: Mapping[int, SourceKind],
        now: datetime,
        rules: _Rules,
        stats: IngestStats,
    ) -> None:
        self.session, self.source, self.links, self.kinds = session, source, links, kinds
        self.now, self.rules, self.stats = now, rules, stats
        self.index: _CallIndex | None = None
        self.seen: set[str] = set()
        self.quarantined: list[Quarantined] = []

    def ingest(self, batch: list[FeedItem]) -> None:
        fresh: list[_Pending] = []
        changed: list[tuple[_LinkState, _Pending]] = []
        for item in batch:
            if isinstance(item, Quarantined):
                self.quarantined.append(item)
                continue
            if item.external_id in self.seen:
                continue
            self.seen.add(item.external_id)
            record_dict = item.to_dict()
            digest = record_digest(record_dict)
            state = self.links.get(item.external_id)
            if state is not None and state.content_hash == digest and not state.withdrawn:
                self.stats.unchanged += 1
                continue
            values = call_values(record_dict, self.rules.sek_per_eur, self.rules.in_zone)
            pending = _Pending(item, record_dict, digest, values)
            if state is None:
                fresh.append(pending)
            else:
                changed.append((state, pending))
        if not fresh and not changed:
            return
        session = self.session
        if self.index is None:
            self.index = _CallIndex.load(session, self.rules.in_zone)
        raws: dict[int, dict[str, Any] | None] = {}
        touched = _update_links(session, changed, raws, self.now)
        self.stats.updated += len(changed)
        touched |= _link_or_create(
            session, self.source, fresh, self.index, self.links, raws, self.stats, self.now
        )
        _refresh_calls(session, touched, self.kinds, raws, self.now, self.source.id, self.rules)
        session.flush()


def _batches(items: Iterable[FeedItem], size: int) -> Iterator[list[FeedItem]]:
    batch: list[FeedItem] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _update_links(
    session: Session,
    changed: list[tuple[_LinkState, _Pending]],
    raws: dict[int, dict[str, Any] | None],
    now: datetime,
) -> set[int]:
    """Store the new content of links whose digest changed (or that came back)."""
    if not changed:
        return set()
    session.execute(
        update(CallSourceLink),
        [
            {
                "id": state.id,
                "content_hash": pending.digest,
                "record": pending.record_dict,
                "updated_at": now,
                "withdrawn_at": None,
            }
            for state, pending in changed
        ],
    )
    for state, pending in changed:
        state.content_hash, state.withdrawn = pending.digest, False
        raws[state.id] = _raw(pending.record)
    return {state.call_id for state, _ in changed}


def _link_or_create(
    session: Session,
    source: Source,
    fresh: list[_Pending],
    index: _CallIndex,
    links: dict[str, _LinkState],
    raws: dict[int, dict[str, Any] | None],
    stats: IngestStats,
    now: datetime,
) -> set[int]:
    """Link records to calls other sources brought, or create calls for them."""
    if not fresh:
        return set()
    matched: list[tuple[int, _Pending]] = []
    created: list[_Pending] = []
    # A source lists each call once: two of its entries on one page (two calls of a
    # programme sharing its call page) are two calls, so a URL only finds the calls
    # of other sources.
    own_calls = {state.call_id for state in links.values()}
    for pending in fresh:
        values = pending.values
        call_id = None
        if values["identifier_key"]:
            call_id = index.by_identifier.get(values["identifier_key"])
        if call_id is None and values["url_key"]:
            call_id = index.by_url.get(values["url_key"])
            if call_id in own_calls:
                call_id = None
        if call_id is None:
            call_id = index.fuzzy(session, source.id, values)
        if call_id is None:
            created.append(pending)
        else:
            matched.append((call_id, pending))
            own_calls.add(call_id)

    new_ids: list[int] = []
    if created:
        rows = [
            {
                **{k: v for k, v in p.values.items() if k != "deadlines"},
                "raw": _raw(p.record),
                "is_withdrawn": False,
                "first_seen_at": now,
                "updated_at": now,
            }
            for p in created
        ]
        new_ids = _insert_with_ids(session, _CALLS, rows, "title")
        deadline_rows = [
            {"call_id": call_id, "deadline_at": d.at, "stage": d.stage, "is_date_only": d.date_only}
            for call_id, p in zip(new_ids, created, strict=True)
            for d in p.values["deadlines"]
        ]
        if deadline_rows:
            session.execute(insert(_DEADLINES), deadline_rows)
        for call_id, p in zip(new_ids, created, strict=True):
            if p.values["identifier_key"]:
                index.by_identifier.setdefault(p.values["identifier_key"], call_id)
            if p.values["url_key"]:
                index.by_url.setdefault(p.values["url_key"], call_id)
        stats.new += len(created)
    stats.updated += len(matched)

    pairs = [*zip(new_ids, created, strict=True), *matched]
    link_ids = _insert_with_ids(
        session,
        _LINKS,
        [
            {
                "call_id": call_id,
                "source_id": source.id,
                "external_id": p.record.external_id,
                "content_hash": p.digest,
                "record": p.record_dict,
                "first_seen_at": now,
                "updated_at": now,
                "withdrawn_at": None,
            }
            for call_id, p in pairs
        ],
        "external_id",
    )
    for link_id, (call_id, p) in zip(link_ids, pairs, strict=True):
        links[p.record.external_id] = _LinkState(link_id, call_id, p.digest, False)
        raws[link_id] = _raw(p.record)
    return {call_id for call_id, _ in matched}


def _insert_with_ids(
    session: Session, table: Table, rows: list[dict[str, Any]], check: str
) -> list[int]:
    """Insert `rows` in bulk; their new ids, in the order of `rows`.

    PostgreSQL: the ids are taken from the table's sequence first and the
    rows inserted with them by a plain executemany (a RETURNING insert of
    thousands of rows made the driver re-parse megabytes of SQL per batch).
    SQLite numbers the rows of one INSERT in the order they are given, so
    the returned ids, sorted, are in the order of `rows`; the `check`
    column returned alongside verifies it.
    """
    if not rows:
        return []
    if session.get_bind().dialect.name == "postgresql":
        ids = list(
            session.scalars(
                text(
                    f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) "
                    "FROM generate_series(1, :n)"
                ),
                {"n": len(rows)},
            )
        )
        session.execute(insert(table), [{**row, "id": i} for i, row in zip(ids, rows, strict=True)])
        return ids
    returned = sorted(session.execute(insert(table).returning(table.c.id, table.c[check]), rows))
    if [value for _, value in returned] != [row[check] for row in rows]:
        raise RuntimeError(f"rows inserted into {table.name} came back in an unexpected order")
    return [row_id for row_id, _ in returned]


def _ordered_links(
    call: FundingCall, kinds: Mapping[int, SourceKind]
) -> tuple[list[CallSourceLink], bool]:
    """The call's links, most authoritative first; active ones only unless all are gone."""
    active = [link for link in call.source_links if link.withdrawn_at is None]
    pool = active or list(call.source_links)
    pool.sort(key=lambda link: (SOURCE_PRIORITY.get(kinds[link.source_id], 9), link.id))
    return pool, not active


def _refresh_calls(
    session: Session,
    call_ids: set[int],
    kinds: Mapping[int, SourceKind],
    raws: Mapping[int, dict[str, Any] | None],
    now: datetime,
    source_id: int,
    rules: _Rules,
) -> int:
    """Re-merge calls from their links; returns how many changed."""
    if not call_ids:
        return 0
    calls = session.scalars(
        select(FundingCall)
        .where(FundingCall.id.in_(call_ids))
        .options(selectinload(FundingCall.deadlines), selectinload(FundingCall.source_links))
        .execution_options(populate_existing=True)
    )
    changed = 0
    for call in calls:
        ordered, gone = _ordered_links(call, kinds)
        merged = merge_values(
            [call_values(link.record, rules.sek_per_eur, rules.in_zone) for link in ordered]
        )
        if ordered[0].id in raws:
            call.raw = raws[ordered[0].id]
        # Listings of open calls drop a call once it closes: that is not a withdrawal.
        dates = CallDates.of(
            opens_at=None,
            deadlines=(d.at for d in merged["deadlines"]),
            deadline_model=merged["deadline_model"],
        )
        withdrawn = gone and not deadlines_passed(dates, now)
        if _apply(session, call, merged, withdrawn, now, source_id):
            changed += 1
    return changed


def _apply(
    session: Session,
    call: FundingCall,
    merged: Mapping[str, Any],
    withdrawn: bool,
    now: datetime,
    source_id: int | None,
) -> bool:
    """Write merged values into `call`; record history; True if anything changed."""
    before_status = call.status(now)
    history: list[tuple[str, Any, Any]] = []
    if call.title != merged["title"]:
        history.append(("title", call.title, merged["title"]))
    old_deadlines = [_Deadline(d.deadline_at, d.stage, d.is_date_only) for d in call.deadlines]
    new_deadlines: list[_Deadline] = merged["deadlines"]
    if _deadline_list(old_deadlines) != _deadline_list(new_deadlines):
        history.append(("deadlines", _deadline_list(old_deadlines), _deadline_list(new_deadlines)))
    if call.opens_at != merged["opens_at"]:
        history.append(("opens_at", _iso(call.opens_at), _iso(merged["opens_at"])))
    old_budget, new_budget = _call_budget(call), _budget_snapshot(merged)
    if old_budget != new_budget:
        history.append(("budget", old_budget, new_budget))

    dirty = False
    for name in (*_SCALAR_COLUMNS, *_BUDGET_COLUMNS, "deadline_model"):
        current = getattr(call, name)
        value = merged[name]
        if isinstance(current, Decimal):
            current = _normal(current)
        if isinstance(value, Decimal):
            value = _normal(value)
        if current != value:
            setattr(call, name, merged[name])
            dirty = True
    if old_deadlines != new_deadlines:
        call.deadlines = [
            CallDeadline(deadline_at=d.at, stage=d.stage, is_date_only=d.date_only)
            for d in new_deadlines
        ]
        dirty = True
    if call.is_withdrawn != withdrawn:
        call.is_withdrawn = withdrawn
        call.withdrawn_at = now if withdrawn else None
        dirty = True
    after_status = call.status(now)
    if after_status != before_status:
        history.append(("status", before_status, after_status))
    for name, old, new in history:
        session.add(
            CallChange(
                call_id=call.id,
                field=name,
                old_value=old,
                new_value=new,
                changed_at=now,
                source_id=source_id,
            )
        )
    if dirty:
        call.updated_at = now
    return dirty


def _withdraw_missing(
    session: Session,
    source: Source,
    links: Mapping[str, _LinkState],
    seen: set[str],
    kinds: Mapping[int, SourceKind],
    now: datetime,
    stats: IngestStats,
    rules: _Rules,
) -> int:
    """Mark this source's links missing from a complete listing; withdraw orphaned calls."""
    missing = [s for ext, s in links.items() if ext not in seen and not s.withdrawn]
    if not missing:
        return 0
    if not seen:
        stats.warnings.append(
            f"the source listed no calls at all; {len(missing)} call(s) were kept, not withdrawn"
        )
        return 0
    session.execute(update(CallSourceLink), [{"id": s.id, "withdrawn_at": now} for s in missing])
    for state in missing:
        state.withdrawn = True
    call_ids = {s.call_id for s in missing}
    before = set(
        session.scalars(
            select(FundingCall.id).where(
                FundingCall.id.in_(call_ids), FundingCall.is_withdrawn.is_(True)
            )
        )
    )
    _refresh_calls(session, call_ids, kinds, {}, now, source.id, rules)
    after = set(
        session.scalars(
            select(FundingCall.id).where(
                FundingCall.id.in_(call_ids), FundingCall.is_withdrawn.is_(True)
            )
        )
    )
    withdrawn = len(after - before)
    if withdrawn:
        log.info("source %s: %d call(s) withdrawn upstream", source.name, withdrawn)
    return withdrawn


def _fingerprint(item: Quarantined) -> str:
    payload = json.dumps([item.reason, item.raw], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _replace_quarantine(
    session: Session, source: Source, items: list[Quarantined], now: datetime
) -> int:
    """Keep exactly the latest fetch's malformed items; unchanged ones are not rewritten."""
    current = {_fingerprint(item): item for item in items}
    existing = {
        fingerprint: item_id
        for fingerprint, item_id in session.execute(
            select(QuarantinedItem.fingerprint, QuarantinedItem.id).where(
                QuarantinedItem.source_id == source.id
            )
        )
    }
    gone = [item_id for fp, item_id in existing.items() if fp not in current]
    if gone:
        session.execute(delete(QuarantinedItem).where(QuarantinedItem.id.in_(gone)))
    added = [
        {
            "source_id": source.id,
            "fingerprint": fp,
            "external_id": item.external_id,
            "reason": item.reason,
            "raw": json.loads(
                json.dumps(
                    item.raw if isinstance(item.raw, dict) else {"value": item.raw}, default=str
                )
            ),
            "first_seen_at": now,
        }
        for fp, item in current.items()
        if fp not in existing
    ]
    if added:
        session.execute(insert(QuarantinedItem), added)
        for row in added:
            log.warning("source %s: quarantined an item: %s", source.name, row["reason"])
    return len(current)


# --- fetch runs --------------------------------------------------------------------------


def source_spec(session: Session, source: Source) -> SourceSpec:
    """What the adapters need to know about `source` (read only)."""
    from tracker.feeds.records import SourceKind as FeedKind

    last_success = session.scalar(
        select(func.max(FetchRun.started_at)).where(
            FetchRun.source_id == source.id,
            FetchRun.status.in_([FetchStatus.SUCCEEDED, FetchStatus.NOT_MODIFIED]),
        )
    )
    return SourceSpec(
        kind=FeedKind(source.kind.value),
        url=source.url,
        settings=dict(source.settings or {}),
        etag=source.etag,
        last_modified=source.last_modified,
        last_success_at=last_success,
        known=_known_calls(session, source) if source.kind is SourceKind.INTERREG else {},
    )


def _known_calls(session: Session, source: Source) -> dict[str, KnownCall]:
    """What `source` stored per entry: its page, change stamp and description."""
    known: dict[str, KnownCall] = {}
    for external_id, record in session.execute(
        select(CallSourceLink.external_id, CallSourceLink.record).where(
            CallSourceLink.source_id == source.id
        )
    ):
        record = record or {}
        known[external_id] = KnownCall(
            url=record.get("url"),
            source_version=record.get("source_version"),
            description_html=record.get("description_html"),
        )
    return known


def _run(
    session: Session,
    source: Source,
    *,
    started_at: datetime,
    finished_at: datetime,
    status: FetchStatus,
    stats: IngestStats | None = None,
    error: str | None = None,
    warnings: Sequence[str] = (),
) -> FetchRun:
    run = FetchRun(
        source_id=source.id,
        started_at=started_at,
        finished_at=finished_at,
        status=status,
        new_count=stats.new if stats else 0,
        updated_count=stats.updated if stats else 0,
        unchanged_count=stats.unchanged if stats else 0,
        quarantined_count=stats.quarantined if stats else 0,
        withdrawn_count=stats.withdrawn if stats else 0,
        error=error,
        warnings=list(warnings),
    )
    session.add(run)
    source.fetch_requested_at = None
    session.flush()
    return run


def record_failed_run(
    session: Session,
    source: Source,
    error: str,
    *,
    started_at: datetime,
    finished_at: datetime,
) -> FetchRun:
    """Record that fetching `source` failed, and why."""
    log.warning("source %s failed: %s", source.name, error)
    return _run(
        session,
        source,
        started_at=started_at,
        finished_at=finished_at,
        status=FetchStatus.FAILED,
        error=error,
    )


def ingest_fetch_result(
    session: Session,
    source: Source,
    result: FetchResult,
    *,
    started_at: datetime,
    clock: Callable[[], datetime],
    sek_per_eur: Decimal | None = None,
    in_zone: ZoneInfo | None = None,
) -> FetchRun:
    """Store a fetch result and record the run (succeeded, not modified, or failed).

    A payload that turns out broken while it is read (a bulk file cut off)
    fails the run and leaves the calls as they were. Adds and flushes.
    """
    if result.not_modified:
        return _run(
            session,
            source,
            started_at=started_at,
            finished_at=clock(),
            status=FetchStatus.NOT_MODIFIED,
        )
    try:
        with session.begin_nested():
            stats = upsert_calls(
                session,
                source,
                result.items,
                now=started_at,
                complete=result.complete,
                sek_per_eur=sek_per_eur,
                in_zone=in_zone,
            )
    except FetchError as exc:
        return record_failed_run(
            session, source, str(exc), started_at=started_at, finished_at=clock()
        )
    source.etag = result.etag
    source.last_modified = result.last_modified
    warnings = [*result.warnings, *stats.warnings]
    if result.skipped:
        log.info(
            "source %s: %d item(s) skipped (not calls, or repeated)", source.name, result.skipped
        )
    return _run(
        session,
        source,
        started_at=started_at,
        finished_at=clock(),
        status=FetchStatus.SUCCEEDED,
        stats=stats,
        warnings=warnings,
    )


@dataclass(frozen=True, slots=True)
class SourceOutcome:
    """How one source's fetch went (for progress output)."""

    source: str
    status: FetchStatus
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    withdrawn: int = 0
    error: str | None = None
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0

    @classmethod
    def of(cls, name: str, run: FetchRun) -> SourceOutcome:
        seconds = 0.0
        if run.finished_at is not None:
            seconds = (run.finished_at - run.started_at).total_seconds()
        return cls(
            source=name,
            status=run.status,
            new=run.new_count,
            updated=run.updated_count,
            unchanged=run.unchanged_count,
            quarantined=run.quarantined_count,
            withdrawn=run.withdrawn_count,
            error=run.error,
            warnings=tuple(run.warnings or ()),
            seconds=seconds,
        )

    @property
    def failed(self) -> bool:
        return self.status is FetchStatus.FAILED


def run_fetches(
    session_factory: sessionmaker[Session],
    source_ids: Sequence[int],
    *,
    http: requests.Session,
    clock: Callable[[], datetime],
    facet_cache: FacetCache | None = None,
    sek_per_eur: Decimal | None = None,
    in_zone: ZoneInfo | None = None,
    on_done: Callable[[SourceOutcome], None] | None = None,
) -> list[SourceOutcome]:
    """Fetch and ingest each source in its own transaction (this function commits).

    The download happens outside any transaction; the ingest and the run
    record are committed together. Whatever goes wrong with one source is
    recorded as its failed run and the next source is fetched.
    """
    outcomes: list[SourceOutcome] = []
    for source_id in source_ids:
        outcome = _fetch_one(
            session_factory,
            source_id,
            http=http,
            clock=clock,
            facet_cache=facet_cache,
            sek_per_eur=sek_per_eur,
            in_zone=in_zone or zone(),
        )
        if outcome is None:
            continue
        outcomes.append(outcome)
        if on_done is not None:
            on_done(outcome)
    return outcomes


def _fetch_one(
    session_factory: sessionmaker[Session],
    source_id: int,
    *,
    http: requests.Session,
    clock: Callable[[], datetime],
    facet_cache: FacetCache | None,
    sek_per_eur: Decimal | None,
    in_zone: ZoneInfo,
) -> SourceOutcome | None:
    with session_factory() as session:
        source = session.get(Source, source_id)
        if source is None:
            return None
        name = source.name
        spec = source_spec(session, source)
    started = clock()
    result: FetchResult | None = None
    error: str | None = None
    try:
        result = fetch_source(http, spec, now=started, facet_cache=facet_cache, in_zone=in_zone)
    except (FetchError, ValueError) as exc:
        error = str(exc)
    except Exception as exc:  # an adapter bug must not stop the other sources
        log.exception("source %s: unexpected error while fetching", name)
        error = f"unexpected error: {type(exc).__name__}: {exc}"
    try:
        with session_factory() as session:
            source = session.get(Source, source_id)
            assert source is not None
            if result is None:
                run = record_failed_run(
                    session, source, error or "failed", started_at=started, finished_at=clock()
                )
            else:
                run = ingest_fetch_result(
                    session,
                    source,
                    result,
                    started_at=started,
                    clock=clock,
                    sek_per_eur=sek_per_eur,
                    in_zone=in_zone,
                )
            session.commit()
            return SourceOutcome.of(name, run)
    except Exception as exc:
        log.exception("source %s: ingest failed", name)
        message = f"ingest failed: {type(exc).__name__}: {exc}"
        with session_factory() as session:
            source = session.get(Source, source_id)
            assert source is not None
            run = record_failed_run(
                session, source, message, started_at=started, finished_at=clock()
            )
            session.commit()
            return SourceOutcome.of(name, run)
    finally:
        if result is not None:
            result.close()

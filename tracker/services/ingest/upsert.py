"""Storing what one source returned.

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
  deletes them), and brings them back if they reappear; an incomplete listing
  (an incremental source, a capped or cut-off run) withdraws nothing;
* keeps malformed items in quarantine for admins.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, delete, insert, select, text, update
from sqlalchemy.orm import Session, selectinload

from tracker.calltime import CallDates, deadlines_passed, zone
from tracker.db import take_turns
from tracker.feeds.gcpause import gc_paused
from tracker.feeds.records import (
    CallRecord,
    FeedItem,
    Quarantined,
)
from tracker.feeds.registry import ADAPTERS
from tracker.models import (
    CallChange,
    CallDeadline,
    CallSourceLink,
    FundingCall,
    QuarantinedItem,
    Source,
    SourceKind,
)
from tracker.services.ingest.index import _CallIndex
from tracker.services.ingest.values import (
    _BUDGET_COLUMNS,
    _SCALAR_COLUMNS,
    _budget_snapshot,
    _call_budget,
    _Deadline,
    _deadline_list,
    _iso,
    _normal,
    _raw,
    _Rules,
    call_values,
    merge_values,
    record_digest,
)
from tracker.services.search import refresh_search_terms, unindexed

log = logging.getLogger(__name__)

__all__ = [
    "SOURCE_PRIORITY",
    "IngestStats",
    "upsert_calls",
]


# Whose word counts when sources disagree (each adapter says): the portal's own API first,
# a feed last.
SOURCE_PRIORITY: dict[SourceKind, int] = {kind: a.priority for kind, a in ADAPTERS.items()}


BATCH_SIZE = 500


# New rows go in through Core: one statement per batch, no per-row ORM bookkeeping.
_CALLS = cast(Table, FundingCall.__table__)


_DEADLINES = cast(Table, CallDeadline.__table__)


_LINKS = cast(Table, CallSourceLink.__table__)


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
    complete: bool | Callable[[], bool] = False,
    sek_per_eur: Decimal | None = None,
    in_zone: ZoneInfo | None = None,
) -> IngestStats:
    """Store what `source` returned: new calls, updates with history, quarantine.

    `records` may be lazy (the bulk file); it is consumed in batches. Only when the
    records were the source's whole list (`complete`) are calls of this source missing
    from them withdrawn. A listing can turn out incomplete while it is read (the item cap
    cut it), so `complete` may be a function, asked once the last record was read.
    Adds and flushes; the caller commits.
    """
    take_turns(session, f"ingest-{source.id}")  # the fetch job and "fetch now" may overlap
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

    if complete() if callable(complete) else complete:
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
            # The stored form of the record: the link keeps it, its digest tells a change.
            record_dict = item.to_dict()
            digest = record_digest(record_dict)
            state = self.links.get(item.external_id)
            if state is not None and state.content_hash == digest and not state.withdrawn:
                self.stats.unchanged += 1
                continue
            values = call_values(item, self.rules.sek_per_eur, self.rules.in_zone)
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
        written: dict[int, _Pending] = {}
        touched = _update_links(session, changed, written, self.now)
        self.stats.updated += len(changed)
        touched |= _link_or_create(
            session, self.source, fresh, self.index, self.links, written, self.stats, self.now
        )
        _refresh_calls(session, touched, self.kinds, written, self.now, self.source.id, self.rules)
        session.flush()
        # New calls are inserted without the ORM: index those the flush did not.
        refresh_search_terms(session, unindexed(session, touched, since=self.now), now=self.now)


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
    written: dict[int, _Pending],
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
        written[state.id] = pending
    return {state.call_id for state, _ in changed}


def _link_or_create(
    session: Session,
    source: Source,
    fresh: list[_Pending],
    index: _CallIndex,
    links: dict[str, _LinkState],
    written: dict[int, _Pending],
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
        written[link_id] = p
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
    written: Mapping[int, _Pending],
    now: datetime,
    source_id: int,
    rules: _Rules,
) -> int:
    """Re-merge calls from their links; returns how many changed.

    The links this run wrote (`written`) bring their records and values; the others'
    stored records are read back into `CallRecord`s."""
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
        merged = merge_values([_link_values(link, written, rules) for link in ordered])
        if ordered[0].id in written:
            call.raw = _raw(written[ordered[0].id].record)
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


def _link_values(
    link: CallSourceLink, written: Mapping[int, _Pending], rules: _Rules
) -> dict[str, Any]:
    pending = written.get(link.id)
    if pending is not None:
        return pending.values
    return call_values(CallRecord.from_dict(link.record), rules.sek_per_eur, rules.in_zone)


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

"""The catalogue's entries: a narrow copy of every stored call's dates, gate and programme
(``CatalogueEntry``), so that the catalogue of all calls filters, counts and pages 100,000
calls without reading their texts or grouping their deadlines.

``refresh_catalogue_entries`` rebuilds entries. It runs

- in the same flush as any change of a call or its deadlines made through the ORM (staff
  typing a call in, ingestion merging a source's record, a test's factory): below;
- for the calls matching stored verdicts on, from ``refresh_inbox_entries``: matching sets
  the gates with a bulk statement the flush does not see, and every change of calls goes
  through matching (``tracker.services.pipeline``);
- for every call from ``refresh_inbox_entries(session, None)`` (``tracker inbox refresh``,
  a profile change, the benchmarks' bulk-loaded calls).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, delete, event, func, insert, inspect, select
from sqlalchemy.orm import Session

from tracker.calltime import CallDates
from tracker.models import CallDeadline, CatalogueEntry, FundingCall

__all__ = ["refresh_catalogue_entries"]

REFRESH_CHUNK = 1000

# The fields of a call that its entry copies or is computed from.
_COPIED_FIELDS = (
    "opens_at",
    "deadline_model",
    "opening_note",
    "is_withdrawn",
    "gate_code",
    "programme_code",
    "programme_label",
    "deadlines",
)


def refresh_catalogue_entries(session: Session, call_ids: Iterable[int] | None = None) -> int:
    """Rebuild the catalogue entries of ``call_ids`` (every call when None) from the calls
    and their deadlines; returns how many entries were written."""
    if call_ids is None:
        session.execute(delete(CatalogueEntry))
        ids = list(session.scalars(select(FundingCall.id).order_by(FundingCall.id)))
        return _write(session.connection(), ids, replace=False)
    return _write(session.connection(), sorted(set(call_ids)), replace=True)


def _write(connection: Connection, ids: Sequence[int], *, replace: bool) -> int:
    written = 0
    for start in range(0, len(ids), REFRESH_CHUNK):
        chunk = ids[start : start + REFRESH_CHUNK]
        if replace:
            connection.execute(delete(CatalogueEntry).where(CatalogueEntry.call_id.in_(chunk)))
        rows = _entry_rows(connection, chunk)
        if rows:
            connection.execute(insert(CatalogueEntry), rows)
        written += len(rows)
    return written


def _entry_rows(connection: Connection, chunk: Sequence[int]) -> list[dict[str, Any]]:
    last_deadline = {
        call_id: at
        for call_id, at in connection.execute(
            select(CallDeadline.call_id, func.max(CallDeadline.deadline_at))
            .where(CallDeadline.call_id.in_(chunk))
            .group_by(CallDeadline.call_id)
        )
    }
    rows = []
    for call in connection.execute(
        select(
            FundingCall.id,
            FundingCall.opens_at,
            FundingCall.deadline_model,
            FundingCall.opening_note,
            FundingCall.is_withdrawn,
            FundingCall.gate_code,
            FundingCall.programme_code,
            FundingCall.programme_label,
        ).where(FundingCall.id.in_(chunk))
    ):
        last = last_deadline.get(call.id)
        dates = CallDates.of(
            opens_at=call.opens_at,
            deadlines=() if last is None else (last,),
            deadline_model=call.deadline_model,
            opening_note=call.opening_note,
        )
        rows.append(
            {
                "call_id": call.id,
                "opens_at": call.opens_at,
                "last_deadline_at": last,
                "active_until": dates.active_until,
                "is_continuous": dates.continuous,
                "is_announced": dates.announced,
                "is_withdrawn": call.is_withdrawn,
                "gate_code": call.gate_code,
                "programme_code": call.programme_code,
                "programme_label": call.programme_label,
            }
        )
    return rows


# Calls changed through the ORM get their entry in the same flush, as their search terms do
# (``tracker.services.search``).
_PENDING = "catalogue_entries_pending"


@event.listens_for(Session, "before_flush")
def _note_changed_calls(session: Session, flush_context: Any, instances: Any) -> None:
    pending: set[Any] = session.info.setdefault(_PENDING, set())
    for obj in session.new:
        if isinstance(obj, FundingCall | CallDeadline):
            pending.add(obj)
    for obj in session.dirty:
        if isinstance(obj, CallDeadline) or (isinstance(obj, FundingCall) and _copied(obj)):
            pending.add(obj)
    for obj in session.deleted:
        if isinstance(obj, CallDeadline):
            pending.add(obj.call_id)


def _copied(call: FundingCall) -> bool:
    state = inspect(call)
    return any(state.attrs[name].history.has_changes() for name in _COPIED_FIELDS)


@event.listens_for(Session, "after_flush_postexec")
def _refresh_changed_calls(session: Session, flush_context: Any) -> None:
    pending: set[Any] | None = session.info.pop(_PENDING, None)
    if not pending:
        return
    ids: set[int] = set()
    for item in pending:
        if isinstance(item, int):
            ids.add(item)
        elif isinstance(item, FundingCall):
            if item in session and not inspect(item).was_deleted and item.id is not None:
                ids.add(item.id)
        elif item.call_id is not None:
            ids.add(item.call_id)
    if ids:
        # A deleted call's id finds no call: its entry went with it (ON DELETE CASCADE).
        _write(session.connection(), sorted(ids), replace=True)


@event.listens_for(Session, "after_soft_rollback")
def _forget_changed_calls(session: Session, previous_transaction: Any) -> None:
    session.info.pop(_PENDING, None)

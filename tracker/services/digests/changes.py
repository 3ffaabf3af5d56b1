"""What changed about a call since a subscriber last heard of it: the fields ingestion recorded
in ``CallChange`` (deadline moved, opening date, status, budget), old and new.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.calltime import amount_text
from tracker.models import (
    CallChange,
    FundingCall,
)

log = logging.getLogger(__name__)

__all__ = [
    "FieldChange",
    "changed_calls",
    "changed_fields",
]


# The fields of ``CallChange`` a digest reports, in the order it reports them.
CHANGE_FIELDS = ("deadlines", "opens_at", "status", "budget")


# Ids per IN (...) list.
QUERY_CHUNK = 500


@dataclass(frozen=True)
class FieldChange:
    """One change of a followed call: ``field`` is deadline, opening, status or budget.
    Dates are ISO 8601 in UTC, budgets amounts in ``unit`` (a currency code, when known)."""

    field: str
    old: str | None
    new: str | None
    unit: str | None = None


def call_snapshot(call: FundingCall, now: datetime) -> dict[str, Any]:
    """What a digest tells about a call, stored with the digest's items."""
    return {
        "deadlines": sorted(d.deadline_at.isoformat() for d in call.deadlines),
        "status": "withdrawn" if call.is_withdrawn else call.status(now),
        "budget": amount_text(call.budget_total_eur),
    }


def _instant(value: Any) -> datetime | None:
    if not value:
        return None
    at = datetime.fromisoformat(str(value))
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _deadline_changes(old: Any, new: Any, now: datetime) -> list[FieldChange]:
    """Deadlines moved, added or removed between two lists of deadlines.

    Removed and added dates are paired in order: each pair is a move. A stage that passed and
    is no longer listed has not moved; it only counts as the old date of a deadline added
    when nothing upcoming was removed (an extension after the deadline passed)."""
    before = {at for at in map(_instant, old or []) if at is not None}
    after = {at for at in map(_instant, new or []) if at is not None}
    dropped = before - after
    olds = sorted(d for d in dropped if d >= now) + sorted(
        (d for d in dropped if d < now), reverse=True
    )
    changes = []
    for index, added in enumerate(sorted(after - before)):
        moved_from = olds[index] if index < len(olds) else None
        changes.append(
            FieldChange(
                "deadline", moved_from.isoformat() if moved_from else None, added.isoformat()
            )
        )
    changes += [
        FieldChange("deadline", removed.isoformat(), None)
        for removed in olds[len(after - before) :]
        if removed >= now
    ]
    return changes


def _budget_amount(budget: Any) -> tuple[str | None, str | None]:
    """The amount a reader compares (the total, else the largest grant) and its currency."""
    if not isinstance(budget, dict):
        return None, None
    for key in ("total", "max", "min"):
        value = budget.get(key)
        if value is not None:
            return amount_text(Decimal(str(value))), budget.get("currency")
    return None, budget.get("currency")


def changed_fields(name: str, old: Any, new: Any, now: datetime) -> list[FieldChange]:
    """What a subscriber hears of a field of ``CallChange`` going from ``old`` to ``new``."""
    if name == "deadlines":
        return _deadline_changes(old, new, now)
    if name == "opens_at":
        old_at, new_at = _instant(old), _instant(new)
        # Only the opening date of a call still to open; its opening is a status change.
        if old_at and new_at and old_at != new_at and new_at > now:
            return [FieldChange("opening", old_at.isoformat(), new_at.isoformat())]
        return []
    if name == "status":
        # Closing when the deadline passes is expected, not news.
        if old and new and old != new and new != "closed":
            return [FieldChange("status", str(old), str(new))]
        return []
    if name == "budget":
        (old_amount, old_unit), (new_amount, new_unit) = _budget_amount(old), _budget_amount(new)
        if new_amount is not None and (old_amount, old_unit) != (new_amount, new_unit):
            return [FieldChange("budget", old_amount, new_amount, unit=new_unit)]
        return []
    return []


def changed_calls(
    session: Session, *, since: datetime, until: datetime, call_ids: Iterable[int]
) -> dict[int, list[FieldChange]]:
    """What changed in these calls after ``since`` up to ``until``, from the history that
    ingestion records (``CallChange``): deadlines moved, added or removed, the opening date,
    the status and the budget.

    Several changes of one field in the period count as one, from the first old value to the
    last new one, so a date moved and moved back is not news."""
    ids = sorted(set(call_ids))
    net: dict[int, dict[str, list[Any]]] = {}
    for start in range(0, len(ids), QUERY_CHUNK):
        rows = session.execute(
            select(CallChange.call_id, CallChange.field, CallChange.old_value, CallChange.new_value)
            .where(
                CallChange.call_id.in_(ids[start : start + QUERY_CHUNK]),
                CallChange.field.in_(CHANGE_FIELDS),
                CallChange.changed_at > since,
                CallChange.changed_at <= until,
            )
            .order_by(CallChange.changed_at, CallChange.id)
        )
        for call_id, name, old, new in rows:
            values = net.setdefault(call_id, {}).setdefault(name, [old, new])
            values[1] = new
    changes: dict[int, list[FieldChange]] = {}
    for call_id, fields in net.items():
        found = []
        for name in CHANGE_FIELDS:
            if name in fields:
                old, new = fields[name]
                found += changed_fields(name, old, new, until)
        if found:
            changes[call_id] = found
    return changes

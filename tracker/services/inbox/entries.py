"""The inbox entries: a narrow copy of each matched call's dates, best score and review state.

``refresh_inbox_entries`` rebuilds those entries and must run whenever calls, their deadlines
or their matches change: matching calls it for the calls it matched, and every change of
calls goes through matching (``tracker.services.pipeline``). It rebuilds the catalogue
entries (``tracker.services.catalogue_entries``) of the calls it is given too: matching sets
their gates.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    delete,
    func,
    insert,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session

from tracker.calltime import CallDates
from tracker.models import (
    CallDeadline,
    CallMatch,
    CallReview,
    FundingCall,
    InboxEntry,
    TriageState,
)
from tracker.services.catalogue_entries import refresh_catalogue_entries
from tracker.services.inbox.listing import active_areas, score_band

__all__ = [
    "REFRESH_CHUNK",
    "area_key",
    "refresh_inbox_entries",
    "sync_entry_review",
]


REFRESH_CHUNK = 1000


def refresh_inbox_entries(
    session: Session, call_ids: Iterable[int] | None = None, *, now: datetime
) -> int:
    """Rebuild the inbox entries of ``call_ids`` (every call when None) from the calls, their
    deadlines, their matches and the decisions on them; returns how many of those calls are
    in the inbox afterwards.

    A call is in the inbox when it matched at least one focus area of the active profile that
    is not retired, was not excluded by a gate, and was not withdrawn. Matching calls this
    after storing matches; ingestion does not: what it stores reaches the inbox through
    matching (``tracker.services.pipeline``). The catalogue entries of ``call_ids`` are
    rebuilt too; with None they are not (a profile change rebuilds the inbox, not the calls'
    dates): ``tracker inbox refresh`` rebuilds both."""
    chosen = None if call_ids is None else sorted(set(call_ids))
    if chosen is not None:
        refresh_catalogue_entries(session, chosen)
    area_ids = [a.id for a in active_areas(session)]
    if chosen is None:
        session.execute(delete(InboxEntry))
        ids = list(
            session.scalars(
                select(CallMatch.call_id)
                .where(CallMatch.is_match == true(), CallMatch.focus_area_id.in_(area_ids or [-1]))
                .distinct()
                .order_by(CallMatch.call_id)
            )
        )
    else:
        ids = chosen
    inserted = 0
    for start in range(0, len(ids), REFRESH_CHUNK):
        chunk = ids[start : start + REFRESH_CHUNK]
        if chosen is not None:
            session.execute(delete(InboxEntry).where(InboxEntry.call_id.in_(chunk)))
        rows = _entry_rows(session, chunk, area_ids, now)
        if rows:
            session.execute(insert(InboxEntry), rows)
        inserted += len(rows)
    session.flush()
    return inserted


def _entry_rows(
    session: Session, chunk: list[int], area_ids: list[int], now: datetime
) -> list[dict[str, Any]]:
    matched: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for call_id, area_id, score in session.execute(
        select(CallMatch.call_id, CallMatch.focus_area_id, CallMatch.score).where(
            CallMatch.call_id.in_(chunk),
            CallMatch.is_match == true(),
            CallMatch.focus_area_id.in_(area_ids or [-1]),
        )
    ):
        matched[call_id].append((area_id, score))
    if not matched:
        return []
    dates = {
        call_id: (first, last)
        for call_id, first, last in session.execute(
            select(
                CallDeadline.call_id,
                func.min(CallDeadline.deadline_at),
                func.max(CallDeadline.deadline_at),
            )
            .where(CallDeadline.call_id.in_(list(matched)))
            .group_by(CallDeadline.call_id)
        )
    }
    reviews = {
        call_id: (state, office_id)
        for call_id, state, office_id in session.execute(
            select(CallReview.call_id, CallReview.state, CallReview.office_id).where(
                CallReview.call_id.in_(list(matched))
            )
        )
    }
    rows = []
    for call in session.execute(
        select(
            FundingCall.id,
            FundingCall.opens_at,
            FundingCall.deadline_model,
            FundingCall.programme_code,
            FundingCall.opening_note,
        ).where(
            FundingCall.id.in_(list(matched)),
            FundingCall.gate_code.is_(None),
            FundingCall.is_withdrawn.is_(False),
        )
    ):
        first, last = dates.get(call.id, (None, None))
        call_dates = CallDates.of(
            opens_at=call.opens_at,
            deadlines=() if last is None else (last,),
            deadline_model=call.deadline_model,
            opening_note=call.opening_note,
        )
        best = max(score for _, score in matched[call.id])
        state, office_id = reviews.get(call.id, (TriageState.NEW, None))
        rows.append(
            {
                "call_id": call.id,
                "best_score": best,
                "best_band": score_band(best),
                "opens_at": call.opens_at,
                "first_deadline_at": first,
                "last_deadline_at": last,
                "active_until": call_dates.active_until,
                "is_continuous": call_dates.continuous,
                "is_announced": call_dates.announced,
                "programme_code": call.programme_code,
                "area_key": ","
                + ",".join(str(a) for a in sorted({a for a, _ in matched[call.id]}))
                + ",",
                "state": state,
                "office_id": office_id,
                "refreshed_at": now,
            }
        )
    return rows


def area_key(area_ids: Iterable[int]) -> str:
    """ ",3,5,": the sorted ids, so that equal sets give equal keys."""
    return "," + ",".join(str(a) for a in sorted(set(area_ids))) + ","


def sync_entry_review(
    session: Session, call_id: int, *, state: TriageState, office_id: int | None
) -> None:
    """Copy a call's decision and assigned office to its inbox entry (if it has one)."""
    session.execute(
        update(InboxEntry)
        .where(InboxEntry.call_id == call_id)
        .values(state=state, office_id=office_id)
    )

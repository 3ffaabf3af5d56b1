"""A call's story as the call page tells it: its review state and timeline, comments, the
evidence of each area's match, deadline changes, sources, and our projects in its programme.

Plain reading functions: they neither add nor flush.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from tracker.errors import NotFound
from tracker.i18n import msg
from tracker.models import (
    CallChange,
    CallMatch,
    CallSourceLink,
    Comment,
    FocusArea,
    FundingCall,
    Project,
    Source,
    StrategyProfile,
    TriageEvent,
)

log = logging.getLogger(__name__)

__all__ = [
    "AreaEvidence",
    "CallSource",
    "DeadlineChange",
    "call_sources",
    "comments",
    "deadline_history",
    "get_call",
    "match_evidence",
    "programme_names",
    "programme_projects",
    "timeline",
]


def get_call(session: Session, call_id: int) -> FundingCall:
    call = session.get(FundingCall, call_id)
    if call is None:
        raise NotFound(msg("no call with id %(id)s", id=call_id))
    return call


def timeline(session: Session, call: FundingCall) -> list[TriageEvent]:
    """Every change of state and assignment, oldest first."""
    return list(
        session.scalars(
            select(TriageEvent)
            .where(TriageEvent.call_id == call.id)
            .options(
                selectinload(TriageEvent.actor),
                selectinload(TriageEvent.office),
                selectinload(TriageEvent.assignee),
            )
            .order_by(TriageEvent.at, TriageEvent.id)
        )
    )


def comments(session: Session, call: FundingCall) -> list[Comment]:
    return list(
        session.scalars(
            select(Comment)
            .where(Comment.call_id == call.id)
            .options(selectinload(Comment.author), selectinload(Comment.mentions))
            .order_by(Comment.created_at, Comment.id)
        )
    )


@dataclass(frozen=True)
class AreaEvidence:
    area: FocusArea
    match: CallMatch


def match_evidence(session: Session, call: FundingCall) -> list[AreaEvidence]:
    """The engine's verdict per focus area of the active profile, best first."""
    rows = session.execute(
        select(FocusArea, CallMatch)
        .join(CallMatch, CallMatch.focus_area_id == FocusArea.id)
        .join(StrategyProfile, StrategyProfile.id == FocusArea.profile_id)
        .where(CallMatch.call_id == call.id, StrategyProfile.is_active)
        .order_by(CallMatch.is_match.desc(), CallMatch.score.desc())
    )
    return [AreaEvidence(area, match) for area, match in rows]


@dataclass(frozen=True)
class DeadlineChange:
    """A deadline that moved (or was added or removed): from, to, and when the tracker
    noticed, from which source."""

    position: int
    old: datetime | None
    new: datetime | None
    noticed_at: datetime
    source_name: str | None = None


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def deadline_history(session: Session, call: FundingCall) -> list[DeadlineChange]:
    """How the call's deadlines moved, oldest first, from ingestion's change history: each
    recorded change of the deadline list, paired by position ("moved from 15 Sep to 1 Oct")."""
    rows = session.execute(
        select(CallChange, Source.name)
        .outerjoin(Source, Source.id == CallChange.source_id)
        .where(CallChange.call_id == call.id, CallChange.field == "deadlines")
        .order_by(CallChange.changed_at, CallChange.id)
    )
    changes: list[DeadlineChange] = []
    for change, source_name in rows:
        old = [_moment(v) for v in change.old_value or []]
        new = [_moment(v) for v in change.new_value or []]
        for position in range(max(len(old), len(new))):
            before = old[position] if position < len(old) else None
            after = new[position] if position < len(new) else None
            if before != after:
                changes.append(
                    DeadlineChange(position + 1, before, after, change.changed_at, source_name)
                )
    return changes


@dataclass(frozen=True)
class CallSource:
    name: str
    external_id: str
    url: str | None
    first_seen_at: datetime
    updated_at: datetime
    withdrawn_at: datetime | None


def call_sources(session: Session, call: FundingCall) -> list[CallSource]:
    """The sources that list the call, with the call's id and page there."""
    rows = session.execute(
        select(CallSourceLink, Source.name)
        .join(Source, Source.id == CallSourceLink.source_id)
        .where(CallSourceLink.call_id == call.id)
        .order_by(CallSourceLink.first_seen_at, Source.name)
    )
    found = []
    for link, name in rows:
        record = link.record or {}
        url = record.get("url") if isinstance(record.get("url"), str) else None
        found.append(
            CallSource(
                name, link.external_id, url, link.first_seen_at, link.updated_at, link.withdrawn_at
            )
        )
    return found


def programme_names(call: FundingCall) -> set[str]:
    """How staff may have written the call's programme on a project: its code, its label,
    and the label's parts ("Creative Europe (CREA)" gives "creative europe" and "crea")."""
    names = {call.programme_code or "", call.programme_label or ""}
    label = call.programme_label or ""
    if "(" in label and label.endswith(")"):
        head, _, tail = label[:-1].partition("(")
        names |= {head, tail}
    return {n.strip().casefold() for n in names if n.strip()}


def programme_projects(session: Session, call: FundingCall, *, limit: int = 20) -> list[Project]:
    """The municipality's projects in the call's programme: those applying to a call of the
    same programme, and those whose programme is written as the call's."""
    conditions = [Project.call_id == call.id]
    # Each project's own call, joined by its key: an IN over the programme's calls made
    # PostgreSQL read every call of the programme (16,000 at 100,000 calls) on each page.
    project_call = aliased(FundingCall, name="project_call")
    if call.programme_code:
        conditions.append(project_call.programme_code == call.programme_code)
    names = programme_names(call)
    if names:
        conditions.append(func.lower(Project.programme).in_(names))
    return list(
        session.scalars(
            select(Project)
            .outerjoin(project_call, project_call.id == Project.call_id)
            .where(or_(*conditions))
            .order_by(Project.start_on.desc().nulls_last(), Project.title)
            .limit(limit)
        )
    )

"""Reading calls (lists, details, history) and importing calls typed in by staff."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, defer, selectinload

from tracker.calltime import CallStatus, amount_text
from tracker.errors import NotFound, ValidationFailed
from tracker.feeds.manual import ManualImport, parse_manual, parse_manual_row
from tracker.feeds.records import CallRecord, normalise_identifier, sanitize_html
from tracker.feeds.text import safe_url
from tracker.i18n import msg
from tracker.models import (
    CallChange,
    CallMatch,
    CallSourceLink,
    FocusArea,
    FundingCall,
    Source,
    SourceKind,
    User,
)
from tracker.services.audit import record_event
from tracker.services.ingest import IngestStats, upsert_calls
from tracker.services.pipeline import match_and_refresh

__all__ = [
    "STATUSES",
    "ImportOutcome",
    "add_manual_call",
    "call_details",
    "call_summary",
    "find_call",
    "get_call",
    "import_calls",
    "list_calls",
    "manual_source",
]

STATUSES = tuple(CallStatus)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _source_names(session: Session, call_ids: Sequence[int] | None = None) -> dict[int, list[str]]:
    query = (
        select(CallSourceLink.call_id, Source.name)
        .join(Source, Source.id == CallSourceLink.source_id)
        .where(CallSourceLink.withdrawn_at.is_(None))
        .order_by(Source.name)
    )
    if call_ids is not None:
        query = query.where(CallSourceLink.call_id.in_(call_ids))
    names: dict[int, list[str]] = {}
    for call_id, name in session.execute(query):
        names.setdefault(call_id, []).append(name)
    return names


def call_summary(call: FundingCall, *, now: datetime, sources: Sequence[str]) -> dict[str, Any]:
    """The fields every call listing shows (the JSON of ``tracker calls list``)."""
    return {
        "id": call.id,
        "identifier": call.identifier,
        "title": call.title,
        "programme": call.programme_label or call.programme_code,
        "status": call.status(now),
        "opens_at": _iso(call.opens_at),
        "deadlines": [d.deadline_at.isoformat() for d in call.deadlines],
        "deadline_model": call.deadline_model,
        "url": safe_url(call.url),
        "budget_total_eur": amount_text(call.budget_total_eur),
        "sources": list(sources),
        "updated_at": call.updated_at.isoformat(),
    }


def list_calls(
    session: Session,
    *,
    now: datetime,
    status: str | None = None,
    changed_since: datetime | None = None,
) -> list[dict[str, Any]]:
    """Every call matching the filters, soonest deadline first, as summaries."""
    if status is not None and status not in STATUSES:
        raise ValidationFailed(msg("unknown status %(status)s", status=status))
    query = (
        select(FundingCall)
        .options(
            selectinload(FundingCall.deadlines),
            defer(FundingCall.raw),
            defer(FundingCall.description_html),
            defer(FundingCall.description_text),
        )
        .order_by(FundingCall.id)
    )
    if changed_since is not None:
        query = query.where(FundingCall.updated_at >= changed_since)
    calls = [c for c in session.scalars(query) if status is None or c.status(now) == status]
    names = _source_names(session)
    summaries = [call_summary(c, now=now, sources=names.get(c.id, [])) for c in calls]
    far = "9999"
    summaries.sort(key=lambda s: next((d for d in s["deadlines"] if d >= now.isoformat()), far))
    return summaries


def get_call(session: Session, call_id: int) -> FundingCall:
    call = session.get(FundingCall, call_id)
    if call is None:
        raise NotFound(msg("no call with id %(id)s", id=call_id))
    return call


def find_call(session: Session, reference: str) -> FundingCall:
    """A call by numeric id or by identifier."""
    if reference.isdecimal():
        return get_call(session, int(reference))
    call = session.scalar(
        select(FundingCall)
        .where(FundingCall.identifier_key == normalise_identifier(reference))
        .order_by(FundingCall.is_withdrawn, FundingCall.id)
        .limit(1)
    )
    if call is None:
        raise NotFound(msg("no call with id or identifier %(ref)s", ref=reference))
    return call


def call_details(session: Session, call: FundingCall, *, now: datetime) -> dict[str, Any]:
    """Everything about one call: description, change history, its current matches
    (area and score) and the gate that keeps it out of the inbox (or None)."""
    names = {s.id: s.name for s in session.scalars(select(Source))}
    details = call_summary(
        call, now=now, sources=_source_names(session, [call.id]).get(call.id, [])
    )
    details.update(
        {
            "call_identifier": call.call_identifier,
            "call_title": call.call_title,
            "parent_identifier": call.parent_identifier,
            "organiser": call.organiser,
            "title_sv": call.title_sv,
            "other_titles": call.other_titles,
            "language": call.language,
            "programme_code": call.programme_code,
            "programme_divisions": call.programme_divisions,
            "type_of_action": call.type_of_action,
            "summary": call.summary,
            "description": call.description_text,
            "description_html": sanitize_html(call.description_html),
            "deadline_details": [
                {
                    "at": d.deadline_at.isoformat(),
                    "stage": d.stage,
                    "date_only": d.is_date_only,
                }
                for d in call.deadlines
            ],
            "opening_note": call.opening_note,
            "budget": {
                "currency": call.currency,
                "total": amount_text(call.budget_total),
                "min_grant": amount_text(call.budget_min),
                "max_grant": amount_text(call.budget_max),
                "expected_grants": call.expected_grants,
                "total_eur": amount_text(call.budget_total_eur),
            },
            "cofinancing_rate": amount_text(call.cofinancing_rate),
            "region": call.region,
            "eligible_applicants": call.eligible_applicants,
            "eligible_area": call.eligible_area or None,
            "gate": None
            if call.gate_code is None
            else {"code": call.gate_code, "reason": call.gate_reason},
            "matches": [
                {"area": slug, "score": round(score, 1)}
                for slug, score in session.execute(
                    select(FocusArea.slug, CallMatch.score)
                    .join(CallMatch, CallMatch.focus_area_id == FocusArea.id)
                    .where(CallMatch.call_id == call.id, CallMatch.is_match.is_(True))
                    .order_by(CallMatch.score.desc(), FocusArea.slug)
                )
            ],
            "keywords": call.keywords,
            "tags": call.tags,
            "cross_cutting_priorities": call.cross_cutting_priorities,
            "links": call.links,
            "warnings": call.warnings,
            "is_withdrawn": call.is_withdrawn,
            "withdrawn_at": _iso(call.withdrawn_at),
            "first_seen_at": call.first_seen_at.isoformat(),
            "source_links": [
                {
                    "source": names.get(link.source_id),
                    "external_id": link.external_id,
                    "first_seen_at": link.first_seen_at.isoformat(),
                    "updated_at": link.updated_at.isoformat(),
                    "withdrawn_at": _iso(link.withdrawn_at),
                }
                for link in call.source_links
            ],
            "history": [
                {
                    "field": change.field,
                    "old": change.old_value,
                    "new": change.new_value,
                    "changed_at": change.changed_at.isoformat(),
                    "source": names.get(change.source_id) if change.source_id else None,
                }
                for change in session.scalars(
                    select(CallChange)
                    .where(CallChange.call_id == call.id)
                    .order_by(CallChange.changed_at, CallChange.id)
                )
            ],
        }
    )
    return details


def manual_source(session: Session, name: str, *, now: datetime) -> Source:
    """The manual source calls are imported into (created on first use)."""
    source = session.scalar(select(Source).where(Source.name == name))
    if source is None:
        source = Source(
            name=name,
            kind=SourceKind.MANUAL,
            url="",
            every="1d",
            is_enabled=True,
            settings={},
            created_at=now,
        )
        session.add(source)
        session.flush()
    elif source.kind is not SourceKind.MANUAL:
        raise ValidationFailed(
            msg(
                "%(name)s is a %(kind)s source, not a manual one", name=name, kind=source.kind.value
            )
        )
    return source


def add_manual_call(
    session: Session,
    source: Source,
    values: Mapping[str, Any],
    *,
    actor: User | None,
    now: datetime,
    sek_per_eur: Decimal | None = None,
    in_zone: ZoneInfo | None = None,
) -> FundingCall:
    """Add (or update) one call typed into the form; the keys are the sheet's columns. Times
    without a zone are in `in_zone` (the configured zone). The call is matched and the
    inbox refreshed (``pipeline.match_and_refresh``) before this returns.

    Raises ValidationFailed with a message per column. Adds and flushes.
    """
    record, errors = parse_manual_row(values, in_zone=in_zone)
    if record is None:
        raise ValidationFailed(
            msg("The call was not saved."), {e.column or "title": e.message for e in errors}
        )
    upsert_calls(
        session,
        source,
        [record],
        now=now,
        complete=False,
        sek_per_eur=sek_per_eur,
        in_zone=in_zone,
    )
    call_id = session.scalar(
        select(CallSourceLink.call_id).where(
            CallSourceLink.source_id == source.id, CallSourceLink.external_id == record.external_id
        )
    )
    assert call_id is not None
    record_event(
        session,
        "call.add_manual",
        "call",
        call_id,
        actor=actor,
        now=now,
        details={"source": source.name, "external_id": record.external_id},
    )
    match_and_refresh(session, [call_id], now=now)
    return get_call(session, call_id)


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    sheet: ManualImport
    stats: IngestStats


def import_calls(
    session: Session,
    source: Source,
    content: bytes,
    *,
    filename: str,
    now: datetime,
    sek_per_eur: Decimal | None = None,
    in_zone: ZoneInfo | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> ImportOutcome:
    """Import the valid rows of a CSV/xlsx sheet into `source`; rows with errors are
    reported, not imported. Times without a zone are in `in_zone`. The new and changed
    calls are matched and the inbox refreshed (``pipeline.match_and_refresh``); the caller
    commits (or rolls back for a dry run). ``progress`` is told (phase, done, total) as the
    rows are stored ("writing") and when matching begins ("matching")."""
    sheet = parse_manual(content, filename=filename, in_zone=in_zone)
    report = progress or (lambda _phase, _done, _total: None)
    total = len(sheet.records)

    def stored() -> Iterator[CallRecord]:
        report("writing", 0, total)
        for done, record in enumerate(sheet.records, start=1):
            yield record
            report("writing", done, total)

    stats = upsert_calls(
        session,
        source,
        stored(),
        now=now,
        complete=False,
        sek_per_eur=sek_per_eur,
        in_zone=in_zone,
    )
    if stats.new or stats.updated:
        report("matching", 0, 0)
        match_and_refresh(session, now=now)
    return ImportOutcome(sheet=sheet, stats=stats)

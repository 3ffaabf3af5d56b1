"""The log of official delegations and international visits the municipality receives."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tracker.errors import NotFound, ValidationFailed
from tracker.i18n import msg
from tracker.models import Delegation, DelegationKind, Office, User
from tracker.services.audit import record_event
from tracker.services.fields import FieldError, clean, parse_choice, parse_country, parse_date
from tracker.services.projects import apply_changes


@dataclass(frozen=True)
class DelegationData:
    visited_on: date
    origin: str
    topic: str
    kind: DelegationKind = DelegationKind.DELEGATION
    country_code: str | None = None
    host_office_id: int | None = None
    participants: int | None = None
    notes: str = ""


def read_delegation_form(raw: Mapping[str, str]) -> DelegationData:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        "origin": clean(raw.get("origin")),
        "topic": clean(raw.get("topic")),
        "notes": clean(raw.get("notes")),
        "country_code": None,
        "host_office_id": None,
        "participants": None,
        "kind": DelegationKind.DELEGATION,
    }
    try:
        visited_on = parse_date(raw.get("visited_on"))
        if visited_on is None:
            errors["visited_on"] = msg("a date is required")
        values["visited_on"] = visited_on
    except FieldError as exc:
        errors["visited_on"] = exc.message
    try:
        values["kind"] = parse_choice(raw.get("kind", ""), DelegationKind)
    except FieldError as exc:
        errors["kind"] = exc.message
    if clean(raw.get("country_code")):
        try:
            values["country_code"] = parse_country(raw.get("country_code"))
        except FieldError as exc:
            errors["country_code"] = exc.message
    office = clean(raw.get("host_office_id"))
    if office:
        if office.isdecimal():
            values["host_office_id"] = int(office)
        else:
            errors["host_office_id"] = msg("choose from the list")
    participants = clean(raw.get("participants"))
    if participants:
        if participants.isdecimal() and int(participants) > 0:
            values["participants"] = int(participants)
        else:
            errors["participants"] = msg("a whole number above zero")
    if errors:
        raise ValidationFailed("; ".join(errors.values()), errors)
    return DelegationData(**values)


def _check(session: Session, data: DelegationData) -> None:
    errors: dict[str, str] = {}
    if not data.origin:
        errors["origin"] = msg("say where the visitors came from")
    elif len(data.origin) > 300:
        errors["origin"] = msg("at most %(count)d characters", count=300)
    if not data.topic:
        errors["topic"] = msg("a topic is required")
    if data.host_office_id is not None and session.get(Office, data.host_office_id) is None:
        errors["host_office_id"] = msg("choose from the list")
    if errors:
        raise ValidationFailed("; ".join(errors.values()), errors)


def create_delegation(
    session: Session, data: DelegationData, *, actor: User | None, now: datetime
) -> Delegation:
    """Log a delegation or visit (audited)."""
    _check(session, data)
    delegation = Delegation(**dataclasses.asdict(data), created_at=now, updated_at=now)
    session.add(delegation)
    session.flush()
    record_event(
        session,
        "delegation.created",
        "delegation",
        delegation.id,
        actor=actor,
        now=now,
        details={"visited_on": data.visited_on.isoformat(), "origin": data.origin},
    )
    return delegation


def update_delegation(
    session: Session,
    delegation: Delegation,
    data: DelegationData,
    *,
    actor: User | None,
    now: datetime,
) -> dict[str, list[Any]]:
    _check(session, data)
    changes = apply_changes(delegation, dataclasses.asdict(data))
    if changes:
        delegation.updated_at = now
        session.flush()
        record_event(
            session,
            "delegation.updated",
            "delegation",
            delegation.id,
            actor=actor,
            now=now,
            details={"changes": changes},
        )
    return changes


def delete_delegation(
    session: Session, delegation: Delegation, *, actor: User | None, now: datetime
) -> None:
    record_event(
        session,
        "delegation.deleted",
        "delegation",
        delegation.id,
        actor=actor,
        now=now,
        details={"visited_on": delegation.visited_on.isoformat(), "origin": delegation.origin},
    )
    session.delete(delegation)
    session.flush()


def get_delegation(session: Session, delegation_id: int) -> Delegation:
    delegation = session.get(Delegation, delegation_id)
    if delegation is None:
        raise NotFound(msg("no delegation with id %(id)s", id=delegation_id))
    return delegation


def list_delegations(session: Session, *, year: int | None = None) -> list[Delegation]:
    query = select(Delegation).options(selectinload(Delegation.host_office))
    if year is not None:
        query = query.where(
            Delegation.visited_on >= date(year, 1, 1), Delegation.visited_on <= date(year, 12, 31)
        )
    return list(session.scalars(query.order_by(Delegation.visited_on.desc(), Delegation.id)))


def count_by_year(delegations: list[Delegation]) -> dict[int, dict[str, int]]:
    """Year -> {"delegation": n, "visit": m, "total": n + m}, years in order."""
    counts: dict[int, Counter[str]] = {}
    for delegation in delegations:
        counter = counts.setdefault(delegation.visited_on.year, Counter())
        counter[delegation.kind.value] += 1
    return {
        year: {
            **{kind.value: counts[year][kind.value] for kind in DelegationKind},
            "total": sum(counts[year].values()),
        }
        for year in sorted(counts)
    }

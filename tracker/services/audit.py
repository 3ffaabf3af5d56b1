"""Recording who changed what."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from tracker.models import AuditEvent, User


def record_event(
    session: Session,
    action: str,
    entity_type: str,
    entity_id: object | None,
    *,
    actor: User | None,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an audit event; the caller commits."""
    event = AuditEvent(
        **audit_values(action, entity_type, entity_id, actor=actor, now=now, details=details)
    )
    session.add(event)
    session.flush()
    return event


def audit_values(
    action: str,
    entity_type: str,
    entity_id: object | None,
    *,
    actor: User | None,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The columns of one audit event, for ``record_events``."""
    return {
        "at": now,
        "actor_id": actor.id if actor is not None else None,
        "action": action,
        "entity_type": entity_type,
        "entity_id": None if entity_id is None else str(entity_id),
        "details": details or {},
    }


def record_events(session: Session, events: Sequence[dict[str, Any]]) -> None:
    """Append many audit events (``audit_values``) in one multi-row INSERT: a bulk change."""
    if events:
        session.execute(insert(AuditEvent), list(events))

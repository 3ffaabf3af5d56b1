"""Recording who changed what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
    event = audit_event(action, entity_type, entity_id, actor=actor, now=now, details=details)
    session.add(event)
    session.flush()
    return event


def audit_event(
    action: str,
    entity_type: str,
    entity_id: object | None,
    *,
    actor: User | None,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """An audit event not yet added: for a bulk change that adds many with one flush."""
    return AuditEvent(
        at=now,
        actor_id=actor.id if actor is not None else None,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        details=details or {},
    )

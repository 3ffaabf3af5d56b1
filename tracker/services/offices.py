"""Offices (kontor and förvaltningar)."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.errors import NotFound, ValidationFailed
from tracker.i18n import msg
from tracker.models import Office, User
from tracker.services.audit import record_event

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def create_office(
    session: Session,
    slug: str,
    *,
    name_sv: str,
    name_en: str,
    now: datetime,
    shared_mailbox: str | None = None,
    actor: User | None = None,
) -> Office:
    """Create an office; the slug is lower-case letters, digits and dashes."""
    errors: dict[str, str] = {}
    if not SLUG_PATTERN.match(slug):
        errors["slug"] = msg("use lower-case letters, digits and dashes")
    elif session.scalar(select(Office).where(Office.slug == slug)) is not None:
        errors["slug"] = msg("an office with slug %(slug)s already exists", slug=slug)
    if not name_sv.strip():
        errors["name_sv"] = msg("a Swedish name is required")
    if shared_mailbox and not EMAIL_PATTERN.match(shared_mailbox.strip()):
        errors["shared_mailbox"] = msg("%(email)r is not an email address", email=shared_mailbox)
    if errors:
        raise ValidationFailed("; ".join(errors.values()), errors)
    office = Office(
        slug=slug,
        name_sv=name_sv.strip(),
        name_en=name_en.strip() or name_sv.strip(),
        shared_mailbox=shared_mailbox.strip() if shared_mailbox else None,
        is_active=True,
    )
    session.add(office)
    session.flush()
    record_event(
        session, "office.created", "office", office.id, actor=actor, now=now, details={"slug": slug}
    )
    return office


def list_offices(session: Session) -> list[Office]:
    """Every office, open and closed, by slug."""
    return list(session.scalars(select(Office).order_by(Office.slug)))


def get_office(session: Session, office_id: int) -> Office:
    office = session.get(Office, office_id)
    if office is None:
        raise NotFound(msg("no office with id %(id)s", id=office_id))
    return office


def update_office(
    session: Session,
    office: Office,
    *,
    name_sv: str,
    name_en: str,
    shared_mailbox: str | None,
    is_active: bool,
    actor: User,
    now: datetime,
) -> Office:
    """Rename an office, change its shared mailbox, or close it (a closed office keeps its
    history but is no longer offered for assignment)."""
    if not name_sv.strip():
        raise ValidationFailed(
            msg("a Swedish name is required"), {"name_sv": msg("a Swedish name is required")}
        )
    if shared_mailbox and not EMAIL_PATTERN.match(shared_mailbox.strip()):
        raise ValidationFailed(
            msg("%(email)r is not an email address", email=shared_mailbox),
            {"shared_mailbox": msg("%(email)r is not an email address", email=shared_mailbox)},
        )
    office.name_sv = name_sv.strip()
    office.name_en = name_en.strip() or name_sv.strip()
    office.shared_mailbox = shared_mailbox.strip() if shared_mailbox else None
    office.is_active = is_active
    session.flush()
    record_event(
        session,
        "office.updated",
        "office",
        office.id,
        actor=actor,
        now=now,
        details={"slug": office.slug, "active": is_active},
    )
    return office

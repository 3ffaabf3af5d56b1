"""Offices (kontor and förvaltningar)."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.errors import ValidationFailed
from tracker.i18n import msg
from tracker.models import Office, User
from tracker.services.audit import record_event

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
    if errors:
        raise ValidationFailed("; ".join(errors.values()), errors)
    office = Office(
        slug=slug,
        name_sv=name_sv.strip(),
        name_en=name_en.strip() or name_sv.strip(),
        shared_mailbox=shared_mailbox,
        is_active=True,
    )
    session.add(office)
    session.flush()
    record_event(
        session, "office.created", "office", office.id, actor=actor, now=now, details={"slug": slug}
    )
    return office

"""First-run defaults: sources and offices from the config file and whatever each area seeds
(the default strategy profile, organisations). Every loader is idempotent."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.config import Settings
from tracker.models import Office, Role, Source, SourceKind, User
from tracker.security import generate_password
from tracker.services.offices import create_office
from tracker.services.users import count_admins, create_user

log = logging.getLogger(__name__)

DefaultLoader = Callable[[Session, Settings, datetime], None]

# "module:function" loaders run by load_defaults after the sources; areas append theirs.
DEFAULT_LOADERS: tuple[str, ...] = (
    "tracker.services.project_seeds:load_project_defaults",
    "tracker.services.strategy.profiles:load_matching_defaults",
    "tracker.services.networks:load_network_defaults",
)


def sync_sources_from_config(session: Session, settings: Settings, now: datetime) -> list[Source]:
    """Create the sources named in the config file that the database does not have yet.
    Sources already in the database are left as staff edited them."""
    created = []
    existing = set(session.scalars(select(Source.name)))
    for item in settings.sources:
        if item.name in existing:
            continue
        source = Source(
            name=item.name,
            kind=SourceKind(item.kind),
            url=item.url,
            every=item.every,
            is_enabled=item.enabled,
            settings={},
            created_at=now,
        )
        session.add(source)
        created.append(source)
    session.flush()
    return created


def sync_offices_from_config(session: Session, settings: Settings, now: datetime) -> list[Office]:
    """Create the offices named in the config file that the database does not have yet.
    Offices already in the database are left as staff edited them."""
    existing = set(session.scalars(select(Office.slug)))
    return [
        create_office(
            session,
            item.slug,
            name_sv=item.name_sv,
            name_en=item.name_en,
            shared_mailbox=item.mailbox or None,
            now=now,
        )
        for item in settings.offices
        if item.slug not in existing
    ]


def load_defaults(session: Session, settings: Settings, *, now: datetime) -> None:
    """Load every default that is missing; safe to run on every start."""
    sync_sources_from_config(session, settings, now)
    sync_offices_from_config(session, settings, now)
    for reference in DEFAULT_LOADERS:
        module_name, _, function_name = reference.partition(":")
        loader: DefaultLoader = getattr(importlib.import_module(module_name), function_name)
        loader(session, settings, now)


def ensure_first_admin(
    session: Session, *, now: datetime, email: str = "admin@localhost.localdomain"
) -> tuple[User, str] | None:
    """Create an admin with a generated password when there is none; returns it and the
    password (shown once), or None when an admin exists."""
    if count_admins(session) > 0:
        return None
    password = generate_password()
    user = create_user(
        session, email, password=password, role=Role.ADMIN, now=now, display_name="Administrator"
    )
    return user, password

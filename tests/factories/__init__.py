"""Test data factories: ``make_x(session, **overrides)`` adds and flushes one row."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import (
    CallDeadline,
    FocusArea,
    FundingCall,
    Office,
    Role,
    Source,
    SourceKind,
    StrategyProfile,
    User,
)
from tracker.security import generate_token, hash_password

_counter = itertools.count(1)
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
TEST_PASSWORD = "correct horse battery"


@cache
def hashed_test_password() -> str:
    """TEST_PASSWORD hashed once, with the hashing parameters of the running suite."""
    return hash_password(TEST_PASSWORD)


def make_office(session: Session, **overrides: Any) -> Office:
    n = next(_counter)
    values: dict[str, Any] = {
        "slug": f"office-{n}",
        "name_sv": f"Kontor {n}",
        "name_en": f"Office {n}",
    }
    values.update(overrides)
    office = Office(**values)
    session.add(office)
    session.flush()
    return office


def make_user(session: Session, role: Role = Role.EDITOR, **overrides: Any) -> User:
    n = next(_counter)
    values: dict[str, Any] = {
        "email": f"user{n}@norrkoping.test",
        "display_name": f"User {n}",
        "password_hash": hashed_test_password(),
        "role": role,
        "language": "sv",
        "calendar_token": generate_token(),
        "created_at": NOW,
    }
    values.update(overrides)
    user = User(**values)
    session.add(user)
    session.flush()
    return user


# A call that matches energy and environment, as `make_call(session, **HEATING)`.
HEATING: dict[str, Any] = dict(
    title="Local heating and cooling plans for municipalities",
    programme_label="Programme for the Environment and Climate Action (LIFE)",
    programme_code="43252405",
    description_text=(
        "Local authorities prepare heating and cooling plans, improve energy efficiency of "
        "buildings and connect district heating networks. Citizens are involved."
    ),
)


def make_call(
    session: Session, deadlines: list[datetime] | None = None, **overrides: Any
) -> FundingCall:
    n = next(_counter)
    values: dict[str, Any] = {
        "identifier": f"TEST-2026-CALL-{n:04d}",
        "title": f"Test call {n}",
        "programme_code": "43251814",
        "programme_label": "Creative Europe (CREA)",
        "description_text": "A call for cultural cooperation between cities.",
        "url": f"https://example.org/calls/{n}",
        "deadline_model": "single-stage",
        "first_seen_at": NOW,
        "updated_at": NOW,
    }
    values.update(overrides)
    call = FundingCall(**values)
    for deadline in deadlines if deadlines is not None else [NOW + timedelta(days=30)]:
        call.deadlines.append(CallDeadline(deadline_at=deadline, stage=None))
    session.add(call)
    session.flush()
    return call


def login(client: FlaskClient, user: User) -> None:
    """Sign ``user`` in on ``client`` without going through the form."""
    with client.session_transaction() as flask_session:
        flask_session["user_id"] = user.id
        flask_session["session_nonce"] = user.session_nonce
        flask_session["lang"] = user.language


def make_source(session: Session, kind: SourceKind = SourceKind.RSS, **overrides: Any) -> Source:
    n = next(_counter)
    values: dict[str, Any] = {
        "name": f"source-{n}",
        "kind": kind,
        "url": f"https://feeds.example.org/{n}",
        "every": "6h",
        "is_enabled": True,
        "settings": {},
        "created_at": NOW,
    }
    values.update(overrides)
    source = Source(**values)
    session.add(source)
    session.flush()
    return source


# Focus areas tests use by slug, with the names the default profile gives them.
AREA_NAMES: dict[str, tuple[str, str]] = {
    "culture-music": ("Kultur, kreativitet och musik", "Culture, creativity and music"),
    "education": ("Utbildning och lärande", "Education and learning"),
    "energy-environment": ("Energi och miljö", "Energy and environment"),
}
_profiles = itertools.count(1)


def make_profile(
    session: Session,
    areas: Sequence[str | tuple[str, str, str]] = (
        "culture-music",
        "education",
        "energy-environment",
    ),
    **overrides: Any,
) -> StrategyProfile:
    """The active strategy profile (any other is deactivated) with these focus areas: slugs
    (named as in ``AREA_NAMES``, or "<slug> sv" / "<slug> en"), or (slug, Swedish name,
    English name)."""
    for other in session.scalars(select(StrategyProfile).where(StrategyProfile.is_active)):
        other.is_active = False
    values: dict[str, Any] = {
        "name": f"profile-{next(_profiles)}",
        "version": 1,
        "is_active": True,
        "gates": {},
        "created_at": NOW,
    }
    values.update(overrides)
    profile = StrategyProfile(**values)
    for position, area in enumerate(areas):
        slug, name_sv, name_en = (
            area
            if isinstance(area, tuple)
            else (area, *AREA_NAMES.get(area, (f"{area} sv", f"{area} en")))
        )
        profile.areas.append(
            FocusArea(slug=slug, name_sv=name_sv, name_en=name_en, position=position)
        )
    session.add(profile)
    session.flush()
    return profile

"""Focus areas, matches, subscriptions and earlier digests for the digest tests."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tests.factories import NOW, make_profile
from tracker.models import (
    CallMatch,
    Digest,
    DigestItem,
    DigestSection,
    DigestStatus,
    DigestSubscription,
    FocusArea,
    FundingCall,
    Office,
    User,
)

_counter = itertools.count(1)


def make_areas(session: Session, *slugs: str) -> dict[str, FocusArea]:
    """An active strategy profile with these focus areas (two by default), by slug."""
    profile = make_profile(session, slugs or ("culture-music", "education"))
    return {area.slug: area for area in profile.areas}


def make_match(
    session: Session,
    call: FundingCall,
    area: FocusArea,
    score: float = 80.0,
    *,
    evidence: list[Any] | None = None,
    matched_at: datetime | None = None,
    is_match: bool = True,
) -> CallMatch:
    match = CallMatch(
        call_id=call.id,
        focus_area_id=area.id,
        score=score,
        is_match=is_match,
        evidence=evidence
        if evidence is not None
        else [{"text": "music festivals and creative industries", "weight": 12.0}],
        matched_at=matched_at or NOW - timedelta(days=1),
    )
    session.add(match)
    session.flush()
    return match


def make_subscription(
    session: Session, user: User | None = None, office: Office | None = None, **overrides: Any
) -> DigestSubscription:
    values: dict[str, Any] = {
        "user": user,
        "office": office,
        "focus_area_slugs": [],
        "office_slugs": [office.slug] if office is not None else [],
        "min_score": 50,
        "closing_soon_days": 30,
        "language": user.language if user is not None else "sv",
        "send_when_empty": False,
        "is_active": True,
        "created_at": NOW - timedelta(days=30),
        "updated_at": NOW - timedelta(days=30),
    }
    values.update(overrides)
    subscription = DigestSubscription(**values)
    session.add(subscription)
    session.flush()
    return subscription


def make_previous_digest(
    session: Session,
    subscription: DigestSubscription,
    *,
    period_end: datetime,
    items: Sequence[tuple[FundingCall, DigestSection, dict[str, Any]]] = (),
    week: str = "2026-W46",
    status: DigestStatus = DigestStatus.SENT,
) -> Digest:
    """A digest sent earlier, with what it said about each call."""
    digest = Digest(
        subscription_id=subscription.id,
        iso_week=week,
        status=status,
        period_start=period_end - timedelta(days=7),
        period_end=period_end,
        address=subscription.address or "",
        language=subscription.language,
        counts={},
        subject="earlier digest",
        text_body="",
        html_body="",
        message_id=f"<earlier.{next(_counter)}@test>",
        attempts=1,
        sent_at=period_end,
        created_at=period_end,
    )
    for call, section, snapshot in items:
        digest.items.append(DigestItem(call_id=call.id, section=section, snapshot=snapshot))
    session.add(digest)
    session.flush()
    return digest

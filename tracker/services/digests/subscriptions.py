"""Digest subscriptions: a person's or an office's focus areas, addresses, bounces and
unsubscribing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from tracker.config import Settings
from tracker.errors import NotFound, ValidationFailed
from tracker.i18n import msg
from tracker.models import (
    Digest,
    DigestSubscription,
    FocusArea,
    Office,
    StrategyProfile,
    User,
)
from tracker.services.audit import record_event
from tracker.services.digests.links import (
    InvalidLink,
    read_unsubscribe_token,
)
from tracker.services.users import EMAIL_PATTERN, normalise_email

log = logging.getLogger(__name__)

__all__ = [
    "active_focus_areas",
    "clear_bounce",
    "digest_for_week",
    "get_digest",
    "get_subscription",
    "list_subscriptions",
    "subscribe",
    "subscribe_address",
    "subscribe_office",
    "subscription_for_address",
    "unsubscribe",
    "unsubscribe_by_token",
]


def active_focus_areas(session: Session) -> list[FocusArea]:
    """The focus areas of the active strategy profile, which subscribers choose from."""
    return list(
        session.scalars(
            select(FocusArea)
            .join(StrategyProfile, StrategyProfile.id == FocusArea.profile_id)
            .where(StrategyProfile.is_active, FocusArea.is_retired.is_(False))
            .order_by(FocusArea.position, FocusArea.slug)
        )
    )


def subscribed_areas(session: Session, subscription: DigestSubscription) -> list[FocusArea]:
    """The focus areas ``subscription`` follows: those chosen, or all when none is chosen.
    Areas retired since they were chosen leave nothing chosen: that reads as "all", as it
    does on the settings page."""
    active = active_focus_areas(session)
    chosen = [a for a in active if a.slug in set(subscription.focus_area_slugs)]
    return chosen or active


def subscribe(
    session: Session,
    *,
    now: datetime,
    user: User | None = None,
    office: Office | None = None,
    focus_area_slugs: Sequence[str] | None = None,
    office_slugs: Sequence[str] | None = None,
    min_score: int | None = None,
    closing_soon_days: int | None = None,
    language: str | None = None,
    send_when_empty: bool | None = None,
    actor: User | None = None,
) -> DigestSubscription:
    """Create or update (and reactivate) the digest subscription of ``user`` or of ``office``'s
    shared mailbox. Options left as None keep their current value (or the default)."""
    if (user is None) == (office is None):
        raise ValueError("subscribe needs exactly one of user and office")
    errors: dict[str, str] = {}
    if office is not None and not office.shared_mailbox:
        errors["office"] = msg("the office %(slug)s has no shared mailbox", slug=office.slug)
    if focus_area_slugs is not None:
        known = {area.slug for area in active_focus_areas(session)}
        unknown = sorted(set(focus_area_slugs) - known)
        if unknown:
            errors["focus_area_slugs"] = msg(
                "unknown focus areas: %(slugs)s", slugs=", ".join(unknown)
            )
    if office_slugs is not None:
        known_offices = set(session.scalars(select(Office.slug)))
        unknown = sorted(set(office_slugs) - known_offices)
        if unknown:
            errors["office_slugs"] = msg("unknown offices: %(slugs)s", slugs=", ".join(unknown))
    if min_score is not None and not 0 <= min_score <= 100:
        errors["min_score"] = msg("the minimum score must be between 0 and 100")
    if closing_soon_days is not None and not 1 <= closing_soon_days <= 365:
        errors["closing_soon_days"] = msg("the horizon must be between 1 and 365 days")
    if language is not None and language not in ("sv", "en"):
        errors["language"] = msg("language must be sv or en")
    if errors:
        raise ValidationFailed("; ".join(errors.values()), errors)

    if user is not None:
        subscription = session.scalar(
            select(DigestSubscription).where(DigestSubscription.user_id == user.id)
        )
    else:
        assert office is not None
        subscription = session.scalar(
            select(DigestSubscription).where(DigestSubscription.office_id == office.id)
        )
    created = subscription is None
    if subscription is None:
        subscription = DigestSubscription(
            user=user,
            office=office,
            focus_area_slugs=[],
            office_slugs=[office.slug] if office is not None else [],
            min_score=50,
            closing_soon_days=30,
            language=user.language if user is not None else "sv",
            send_when_empty=False,
            created_at=now,
        )
        session.add(subscription)
    if focus_area_slugs is not None:
        subscription.focus_area_slugs = sorted(set(focus_area_slugs))
    if office_slugs is not None:
        subscription.office_slugs = sorted(set(office_slugs))
    if min_score is not None:
        subscription.min_score = min_score
    if closing_soon_days is not None:
        subscription.closing_soon_days = closing_soon_days
    if language is not None:
        subscription.language = language
    if send_when_empty is not None:
        subscription.send_when_empty = send_when_empty
    subscription.is_active = True
    subscription.updated_at = now
    session.flush()
    record_event(
        session,
        "digest.subscribed" if created else "digest.subscription_changed",
        "digest_subscription",
        subscription.id,
        actor=actor,
        now=now,
        details={
            "address": subscription.address,
            "focus_areas": subscription.focus_area_slugs,
            "offices": subscription.office_slugs,
            "min_score": subscription.min_score,
            "closing_soon_days": subscription.closing_soon_days,
            "language": subscription.language,
            "send_when_empty": subscription.send_when_empty,
        },
    )
    return subscription


def subscribe_office(
    session: Session,
    office: Office,
    *,
    now: datetime,
    mailbox: str | None = None,
    actor: User | None = None,
    **options: Any,
) -> DigestSubscription:
    """Subscribe ``office``'s shared mailbox, first setting the mailbox when one is given."""
    if mailbox:
        address = normalise_email(mailbox)
        if not EMAIL_PATTERN.match(address):
            raise ValidationFailed(
                msg("%(email)r is not an email address", email=address), {"mailbox": "invalid"}
            )
        office.shared_mailbox = address
        session.flush()
    return subscribe(session, now=now, office=office, actor=actor, **options)


def get_subscription(session: Session, subscription_id: int) -> DigestSubscription:
    subscription = session.get(DigestSubscription, subscription_id)
    if subscription is None:
        raise NotFound(msg("no digest subscription %(id)s", id=subscription_id))
    return subscription


def get_digest(session: Session, digest_id: int) -> Digest:
    digest = session.get(Digest, digest_id)
    if digest is None:
        raise NotFound(msg("no digest %(id)s", id=digest_id))
    return digest


def digest_for_week(session: Session, subscription: DigestSubscription, week: str) -> Digest:
    digest = session.scalar(
        select(Digest).where(Digest.subscription_id == subscription.id, Digest.iso_week == week)
    )
    if digest is None:
        raise NotFound(
            msg("%(address)s has no digest for %(week)s", address=subscription.address, week=week)
        )
    return digest


def _owner_of_address(session: Session, email: str) -> tuple[User | None, Office | None]:
    address = normalise_email(email)
    user = session.scalar(select(User).where(User.email == address))
    if user is not None:
        return user, None
    office = session.scalar(select(Office).where(func.lower(Office.shared_mailbox) == address))
    if office is not None:
        return None, office
    raise NotFound(msg("no user or office mailbox with address %(email)s", email=address))


def subscribe_address(
    session: Session, email: str, *, now: datetime, actor: User | None = None, **options: Any
) -> DigestSubscription:
    """``subscribe`` the user with this email, or the office whose shared mailbox it is."""
    user, office = _owner_of_address(session, email)
    return subscribe(session, now=now, user=user, office=office, actor=actor, **options)


def subscription_for_address(session: Session, email: str) -> DigestSubscription:
    user, office = _owner_of_address(session, email)
    if user is not None:
        condition = DigestSubscription.user_id == user.id
    else:
        assert office is not None
        condition = DigestSubscription.office_id == office.id
    subscription = session.scalar(select(DigestSubscription).where(condition))
    if subscription is None:
        raise NotFound(msg("%(email)s has no digest subscription", email=normalise_email(email)))
    return subscription


def unsubscribe(
    session: Session, subscription: DigestSubscription, *, now: datetime, actor: User | None
) -> None:
    """Stop the digest; the settings and past digests are kept for a later re-subscription."""
    if not subscription.is_active:
        return
    subscription.is_active = False
    subscription.updated_at = now
    session.flush()
    record_event(
        session,
        "digest.unsubscribed",
        "digest_subscription",
        subscription.id,
        actor=actor,
        now=now,
        details={"address": subscription.address},
    )


def unsubscribe_by_token(
    session: Session, settings: Settings, token: str, *, now: datetime
) -> DigestSubscription:
    """The one-click unsubscribe of a digest's link or List-Unsubscribe header."""
    subscription = session.get(DigestSubscription, read_unsubscribe_token(settings, token))
    if subscription is None:
        raise InvalidLink(msg("this link is not valid"))
    unsubscribe(session, subscription, now=now, actor=subscription.user)
    return subscription


def clear_bounce(
    session: Session, subscription: DigestSubscription, *, now: datetime, actor: User | None
) -> None:
    """An admin checked the address: digests may go to it again."""
    previous = subscription.bounced_address
    subscription.bounced_address = None
    subscription.bounced_at = None
    subscription.bounce_error = None
    subscription.updated_at = now
    session.flush()
    record_event(
        session,
        "digest.bounce_cleared",
        "digest_subscription",
        subscription.id,
        actor=actor,
        now=now,
        details={"address": previous},
    )


def list_subscriptions(session: Session) -> list[DigestSubscription]:
    return list(
        session.scalars(
            select(DigestSubscription)
            .options(selectinload(DigestSubscription.user), selectinload(DigestSubscription.office))
            .order_by(DigestSubscription.id)
        )
    )

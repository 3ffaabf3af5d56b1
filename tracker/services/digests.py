"""Weekly email digests: subscriptions, what goes into a digest, and sending it exactly once.

Content (``build_digest``): new matches since the subscriber's last digest; changes (deadline
moved, opening date, status, budget) that ingestion recorded in ``CallChange`` since then, for
calls the subscriber watches, was sent before or follows through an office; calls closing
within the subscriber's horizon among those watched or in the municipality's pipeline
(interested, preparing); mentions and assignments; a one-line pipeline summary.

Delivery (``send_weekly_digests``, ``retry_due_digests``, ``resend_digest``) and why it sends
each digest at most once:

1. *Claim*: the digest is built, rendered and inserted with its ISO week. ``digests`` has a
   unique key (subscription, ISO week), so of two schedulers only one insert succeeds.
2. *Start an attempt*: a conditional UPDATE moves the row from ``pending`` (or a due
   ``failed_temporary``) to ``sending`` and commits. Only one process can win it, and the
   commit happens before any byte goes to the SMTP server.
3. *Send*, with the Message-ID stored at the claim.
4. *Record*: ``sent``, ``failed_temporary`` with the next attempt time (4xx, connection
   refused), or ``failed_permanent`` (5xx; the address is flagged for admins).

A crash between 3 and 4 leaves the row in ``sending``. Nothing resends a ``sending`` row on its
own: the mail may have been delivered, and a duplicate is the failure the design rules out.
Admins see such rows as "delivery unconfirmed" and can resend the stored content (same
Message-ID). The window is as narrow as SMTP allows: the mailer reports a lost reply after a
fully sent message as ``UncertainDelivery``, which is recorded the same way, while everything
that fails earlier is known not to have been delivered and is retried. A crash after the claim
but before step 2 leaves a ``pending`` row, which the retry pass sends.

Every write transaction in steps 1-4 starts with its write: on SQLite a transaction that read
first and then writes can fail at once when another process wrote meanwhile.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, load_only, selectinload, sessionmaker

from tracker.calltime import amount_text
from tracker.config import Settings
from tracker.errors import Conflict, NotFound, ValidationFailed
from tracker.i18n import msg
from tracker.models import (
    CallChange,
    CallMatch,
    CallReview,
    Comment,
    DecisionSource,
    Digest,
    DigestDismissal,
    DigestItem,
    DigestSection,
    DigestStatus,
    DigestSubscription,
    FocusArea,
    FundingCall,
    MatchDecision,
    Mention,
    Office,
    StrategyProfile,
    TriageEvent,
    TriageState,
    User,
    Watch,
)
from tracker.services.audit import record_event
from tracker.services.digest_mail import (
    InvalidLink,
    RenderedDigest,
    build_message,
    make_message_id,
    read_not_relevant_token,
    read_unsubscribe_token,
    render_digest,
    sender_address,
)
from tracker.services.mailer import (
    PermanentFailure,
    SmtpMailer,
    TemporaryFailure,
    UncertainDelivery,
)
from tracker.services.matching import call_key, record_decision
from tracker.services.users import EMAIL_PATTERN, normalise_email

log = logging.getLogger(__name__)

__all__ = [
    "DigestContent",
    "DigestEntry",
    "DigestOutcome",
    "FieldChange",
    "InvalidLink",
    "active_focus_areas",
    "build_digest",
    "changed_calls",
    "changed_fields",
    "clear_bounce",
    "confirm_delivered",
    "digest_for_week",
    "get_digest",
    "get_subscription",
    "iso_week",
    "list_subscriptions",
    "parse_iso_week",
    "preview_digest",
    "read_unsubscribe_token",
    "recent_digests",
    "record_not_relevant",
    "resend_digest",
    "retry_due_digests",
    "send_digest_now",
    "send_weekly_digests",
    "subscribe",
    "subscribe_address",
    "subscribe_office",
    "subscription_for_address",
    "unconfirmed_digests",
    "unsubscribe",
    "unsubscribe_by_token",
]

FIRST_DIGEST_LOOKBACK = timedelta(days=7)
# How far back "calls sent before" reaches when looking for changes.
CHANGE_LOOKBACK = timedelta(weeks=26)
# The fields of ``CallChange`` a digest reports, in the order it reports them.
CHANGE_FIELDS = ("deadlines", "opens_at", "status", "budget")
# Ids per IN (...) list.
QUERY_CHUNK = 500
# A "not relevant to me" click, as a decision for the matching engine to learn from: the
# subscriber follows the area the call matched and says the call does not belong there.
NOT_RELEVANT_REASON = "wrong-area"
MAX_BACKOFF = timedelta(hours=6)
# A "sending" row older than this is no longer in flight: its delivery is unconfirmed.
SENDING_STALE_AFTER = timedelta(minutes=15)
PIPELINE_STATES = (TriageState.INTERESTED, TriageState.PREPARING, TriageState.SUBMITTED)
CLOSING_SOON_STATES = (TriageState.INTERESTED, TriageState.PREPARING)
EXCERPT_LENGTH = 200

# --- subscriptions ------------------------------------------------------------------------


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


# --- "not relevant to me" -----------------------------------------------------------------


def record_not_relevant(
    session: Session,
    subscription: DigestSubscription,
    call: FundingCall,
    *,
    focus_area_id: int | None,
    now: datetime,
) -> DigestDismissal:
    """The subscriber says ``call`` is not relevant to them: it leaves their digests, and the
    decision is recorded for the matching engine to learn from. Idempotent."""
    existing = session.scalar(
        select(DigestDismissal).where(
            DigestDismissal.subscription_id == subscription.id,
            DigestDismissal.call_id == call.id,
        )
    )
    if existing is not None:
        return existing
    dismissal = DigestDismissal(
        subscription=subscription,
        call=call,
        user_id=subscription.user_id,
        focus_area_id=focus_area_id,
        created_at=now,
    )
    session.add(dismissal)
    session.flush()
    _record_learning_decisions(session, dismissal, now=now)
    return dismissal


def _record_learning_decisions(
    session: Session, dismissal: DigestDismissal, *, now: datetime
) -> list[MatchDecision]:
    """A "not relevant" decision (source ``digest``) for each area of the subscriber's that
    the call matched, plus the area the link was for. A decision staff made in the review
    workspace or imported from labels is never replaced by a click in a mail."""
    call = dismissal.call
    subscription = dismissal.subscription
    matched = set(
        session.scalars(
            select(CallMatch.focus_area_id).where(
                CallMatch.call_id == call.id, CallMatch.is_match.is_(True)
            )
        )
    )
    slugs = sorted(
        area.slug
        for area in subscribed_areas(session, subscription)
        if area.id in matched or area.id == dismissal.focus_area_id
    )
    existing = {
        decision.area_slug: decision
        for decision in session.scalars(
            select(MatchDecision).where(MatchDecision.call_key == call_key(call))
        )
    }
    decisions = []
    for slug in slugs:
        earlier = existing.get(slug)
        if earlier is not None and earlier.source is not DecisionSource.DIGEST:
            continue
        decisions.append(
            record_decision(
                session,
                call.id,
                slug,
                relevant=False,
                reason=NOT_RELEVANT_REASON,
                actor=subscription.user,
                now=now,
                source=DecisionSource.DIGEST,
            )
        )
    return decisions


def dismissal_target(
    session: Session, settings: Settings, token: str
) -> tuple[DigestSubscription, FundingCall, int | None]:
    """The subscription, call and focus area a "not relevant" link stands for."""
    subscription_id, call_id, focus_area_id = read_not_relevant_token(settings, token)
    subscription = session.get(DigestSubscription, subscription_id)
    call = session.get(FundingCall, call_id)
    if subscription is None or call is None:
        raise InvalidLink(msg("this link is not valid"))
    return subscription, call, focus_area_id


# --- content ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    """One change of a followed call: ``field`` is deadline, opening, status or budget.
    Dates are ISO 8601 in UTC, budgets amounts in ``unit`` (a currency code, when known)."""

    field: str
    old: str | None
    new: str | None
    unit: str | None = None


@dataclass(frozen=True)
class DigestEntry:
    """A call as one item of a digest, with what the subscriber needs to judge it."""

    call_id: int
    title: str
    programme: str
    deadline_at: datetime | None
    official_url: str | None
    # The deadline was given as a day and is shown as a date.
    deadline_date_only: bool = False
    score: float | None = None
    focus_area_id: int | None = None
    focus_area_name: str | None = None
    evidence: tuple[str, ...] = ()
    changes: tuple[FieldChange, ...] = ()
    # Mentions: who wrote what; assignments: who assigned it and to whom.
    actor_name: str | None = None
    excerpt: str | None = None
    assignee_name: str | None = None


@dataclass(frozen=True)
class DigestContent:
    subscription_id: int
    recipient_name: str
    language: str
    since: datetime
    until: datetime
    new: tuple[DigestEntry, ...] = ()
    changed: tuple[DigestEntry, ...] = ()
    closing: tuple[DigestEntry, ...] = ()
    mentions: tuple[DigestEntry, ...] = ()
    assignments: tuple[DigestEntry, ...] = ()
    pipeline: dict[str, int] = field(default_factory=dict)
    # What the digest told about each call it shows, stored with its items as a record.
    snapshots: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "new": len(self.new),
            "changed": len(self.changed),
            "closing": len(self.closing),
            "mentions": len(self.mentions),
            "assignments": len(self.assignments),
        }

    @property
    def is_empty(self) -> bool:
        return not any(self.counts.values())

    def sections(self) -> list[tuple[DigestSection, tuple[DigestEntry, ...]]]:
        return [
            (DigestSection.NEW, self.new),
            (DigestSection.CHANGED, self.changed),
            (DigestSection.CLOSING, self.closing),
            (DigestSection.MENTION, self.mentions),
            (DigestSection.ASSIGNMENT, self.assignments),
        ]


def call_snapshot(call: FundingCall, now: datetime) -> dict[str, Any]:
    """What a digest tells about a call, stored with the digest's items."""
    return {
        "deadlines": sorted(d.deadline_at.isoformat() for d in call.deadlines),
        "status": "withdrawn" if call.is_withdrawn else call.status(now),
        "budget": amount_text(call.budget_total_eur),
    }


def _instant(value: Any) -> datetime | None:
    if not value:
        return None
    at = datetime.fromisoformat(str(value))
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _deadline_changes(old: Any, new: Any, now: datetime) -> list[FieldChange]:
    """Deadlines moved, added or removed between two lists of deadlines.

    Removed and added dates are paired in order: each pair is a move. A stage that passed and
    is no longer listed has not moved; it only counts as the old date of a deadline added
    when nothing upcoming was removed (an extension after the deadline passed)."""
    before = {at for at in map(_instant, old or []) if at is not None}
    after = {at for at in map(_instant, new or []) if at is not None}
    dropped = before - after
    olds = sorted(d for d in dropped if d >= now) + sorted(
        (d for d in dropped if d < now), reverse=True
    )
    changes = []
    for index, added in enumerate(sorted(after - before)):
        moved_from = olds[index] if index < len(olds) else None
        changes.append(
            FieldChange(
                "deadline", moved_from.isoformat() if moved_from else None, added.isoformat()
            )
        )
    changes += [
        FieldChange("deadline", removed.isoformat(), None)
        for removed in olds[len(after - before) :]
        if removed >= now
    ]
    return changes


def _budget_amount(budget: Any) -> tuple[str | None, str | None]:
    """The amount a reader compares (the total, else the largest grant) and its currency."""
    if not isinstance(budget, dict):
        return None, None
    for key in ("total", "max", "min"):
        value = budget.get(key)
        if value is not None:
            return amount_text(Decimal(str(value))), budget.get("currency")
    return None, budget.get("currency")


def changed_fields(name: str, old: Any, new: Any, now: datetime) -> list[FieldChange]:
    """What a subscriber hears of a field of ``CallChange`` going from ``old`` to ``new``."""
    if name == "deadlines":
        return _deadline_changes(old, new, now)
    if name == "opens_at":
        old_at, new_at = _instant(old), _instant(new)
        # Only the opening date of a call still to open; its opening is a status change.
        if old_at and new_at and old_at != new_at and new_at > now:
            return [FieldChange("opening", old_at.isoformat(), new_at.isoformat())]
        return []
    if name == "status":
        # Closing when the deadline passes is expected, not news.
        if old and new and old != new and new != "closed":
            return [FieldChange("status", str(old), str(new))]
        return []
    if name == "budget":
        (old_amount, old_unit), (new_amount, new_unit) = _budget_amount(old), _budget_amount(new)
        if new_amount is not None and (old_amount, old_unit) != (new_amount, new_unit):
            return [FieldChange("budget", old_amount, new_amount, unit=new_unit)]
        return []
    return []


def changed_calls(
    session: Session, *, since: datetime, until: datetime, call_ids: Iterable[int]
) -> dict[int, list[FieldChange]]:
    """What changed in these calls after ``since`` up to ``until``, from the history that
    ingestion records (``CallChange``): deadlines moved, added or removed, the opening date,
    the status and the budget.

    Several changes of one field in the period count as one, from the first old value to the
    last new one, so a date moved and moved back is not news."""
    ids = sorted(set(call_ids))
    net: dict[int, dict[str, list[Any]]] = {}
    for start in range(0, len(ids), QUERY_CHUNK):
        rows = session.execute(
            select(CallChange.call_id, CallChange.field, CallChange.old_value, CallChange.new_value)
            .where(
                CallChange.call_id.in_(ids[start : start + QUERY_CHUNK]),
                CallChange.field.in_(CHANGE_FIELDS),
                CallChange.changed_at > since,
                CallChange.changed_at <= until,
            )
            .order_by(CallChange.changed_at, CallChange.id)
        )
        for call_id, name, old, new in rows:
            values = net.setdefault(call_id, {}).setdefault(name, [old, new])
            values[1] = new
    changes: dict[int, list[FieldChange]] = {}
    for call_id, fields in net.items():
        found = []
        for name in CHANGE_FIELDS:
            if name in fields:
                old, new = fields[name]
                found += changed_fields(name, old, new, until)
        if found:
            changes[call_id] = found
    return changes


def _period_start(session: Session, subscription: DigestSubscription, now: datetime) -> datetime:
    previous = session.scalar(
        select(func.max(Digest.period_end)).where(
            Digest.subscription_id == subscription.id, Digest.period_end <= now
        )
    )
    return previous if previous is not None else now - FIRST_DIGEST_LOOKBACK


def _sent_before(session: Session, subscription: DigestSubscription, now: datetime) -> set[int]:
    """The calls this subscriber's recent digests showed."""
    return set(
        session.scalars(
            select(DigestItem.call_id)
            .join(Digest, Digest.id == DigestItem.digest_id)
            .where(
                Digest.subscription_id == subscription.id,
                Digest.period_end >= now - CHANGE_LOOKBACK,
                Digest.period_end <= now,
                # Items of older digests that were kept only to compare snapshots.
                DigestItem.section != DigestSection.BASELINE,
            )
        )
    )


def _evidence_lines(evidence: list[Any], limit: int = 2) -> tuple[str, ...]:
    """The strongest pieces of evidence as short lines, whatever keys the engine used."""

    def weight(item: Any) -> float:
        if isinstance(item, dict):
            for key in ("weight", "score", "contribution"):
                value = item.get(key)
                if isinstance(value, int | float):
                    return float(value)
        return 0.0

    lines: list[str] = []
    for item in sorted(evidence, key=weight, reverse=True):
        if isinstance(item, dict):
            text = next(
                (
                    str(item[key])
                    for key in ("summary", "text", "snippet", "phrase", "term", "label", "reason")
                    if item.get(key)
                ),
                ", ".join(str(v) for v in item.values() if isinstance(v, str)),
            )
        else:
            text = str(item)
        text = " ".join(text.split())
        if text and text not in lines:
            lines.append(text if len(text) <= 160 else text[:157] + "...")
        if len(lines) == limit:
            break
    return tuple(lines)


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_LENGTH else text[: EXCERPT_LENGTH - 3] + "..."


_DIGEST_CALL_COLUMNS = (
    FundingCall.title,
    FundingCall.title_sv,
    FundingCall.programme_code,
    FundingCall.programme_label,
    FundingCall.url,
    FundingCall.opens_at,
    FundingCall.deadline_model,
    FundingCall.is_withdrawn,
    FundingCall.budget_total_eur,
)


@dataclass(frozen=True)
class _Match:
    call_id: int
    focus_area_id: int
    score: float
    is_match: bool
    evidence: list[Any]


class _Builder:
    """Gathers one subscriber's digest. Each section is one or two queries."""

    def __init__(self, session: Session, subscription: DigestSubscription, now: datetime):
        self.session = session
        self.subscription = subscription
        self.now = now
        self.language = subscription.language
        self.since = _period_start(session, subscription, now)
        self.areas = subscribed_areas(session, subscription)
        self.area_by_id = {area.id: area for area in self.areas}
        self.office_ids: set[int] = set()
        if subscription.office_slugs:
            self.office_ids = set(
                session.scalars(select(Office.id).where(Office.slug.in_(subscription.office_slugs)))
            )
        self.dismissed = set(
            session.scalars(
                select(DigestDismissal.call_id).where(
                    DigestDismissal.subscription_id == subscription.id
                )
            )
        )
        self.watched: set[int] = set()
        if subscription.user_id is not None:
            self.watched = set(
                session.scalars(select(Watch.call_id).where(Watch.user_id == subscription.user_id))
            )
        self.sent_before = _sent_before(session, subscription, now)
        self.calls: dict[int, FundingCall] = {}
        self.best_match: dict[int, _Match] = {}

    # helpers

    def load_calls(self, ids: Iterable[int]) -> None:
        missing = set(ids) - set(self.calls)
        if not missing:
            return
        for call in self.session.scalars(
            select(FundingCall)
            .where(FundingCall.id.in_(missing))
            # Only what a digest shows: descriptions and raw payloads can be large.
            .options(load_only(*_DIGEST_CALL_COLUMNS), selectinload(FundingCall.deadlines))
        ):
            self.calls[call.id] = call

    def load_matches(self, ids: Iterable[int]) -> None:
        missing = set(ids) - set(self.best_match)
        if not missing or not self.areas:
            return
        for match in self.matches(
            CallMatch.call_id.in_(missing), CallMatch.focus_area_id.in_(self.area_by_id)
        ):
            best = self.best_match.get(match.call_id)
            if best is None or (match.is_match, match.score) > (best.is_match, best.score):
                self.best_match[match.call_id] = match

    def matches(self, *conditions: Any) -> list[_Match]:
        # Plain rows rather than ORM objects: a subscriber's areas can match hundreds of calls.
        rows = self.session.execute(
            select(
                CallMatch.call_id,
                CallMatch.focus_area_id,
                CallMatch.score,
                CallMatch.is_match,
                CallMatch.evidence,
            ).where(*conditions)
        )
        return [_Match(*row) for row in rows]

    def entry(self, call_id: int, **extra: Any) -> DigestEntry:
        call = self.calls[call_id]
        match = self.best_match.get(call_id)
        area = self.area_by_id.get(match.focus_area_id) if match is not None else None
        title = (call.title_sv or call.title) if self.language == "sv" else call.title
        deadline = call.next_deadline_row(self.now)
        return DigestEntry(
            call_id=call.id,
            title=title,
            programme=call.programme_label or call.programme_code or "",
            deadline_at=deadline.deadline_at if deadline is not None else None,
            deadline_date_only=deadline is not None and deadline.is_date_only,
            official_url=call.url or None,
            score=match.score if match is not None else None,
            focus_area_id=area.id if area is not None else None,
            focus_area_name=area.name(self.language) if area is not None else None,
            evidence=_evidence_lines(match.evidence) if match is not None else (),
            **extra,
        )

    def is_live(self, call_id: int) -> bool:
        call = self.calls.get(call_id)
        return call is not None and not call.is_withdrawn and call.status(self.now) != "closed"

    def triage_dismissed(self, ids: Iterable[int]) -> set[int]:
        ids = set(ids)
        if not ids:
            return set()
        return set(
            self.session.scalars(
                select(CallReview.call_id).where(
                    CallReview.call_id.in_(ids), CallReview.state == TriageState.DISMISSED
                )
            )
        )

    # sections

    def new_matches(self) -> list[DigestEntry]:
        if not self.areas:
            return []
        # ``matched_at`` is when the engine first found the match, kept through re-matching:
        # a call is new once, not every week it is scored again.
        for match in self.matches(
            CallMatch.is_match,
            CallMatch.score >= self.subscription.min_score,
            CallMatch.matched_at > self.since,
            CallMatch.matched_at <= self.now,
            CallMatch.focus_area_id.in_(self.area_by_id),
            # A gated call (not eligible, withdrawn) is no match whatever its scores.
            CallMatch.call_id.in_(select(FundingCall.id).where(FundingCall.gate_code.is_(None))),
        ):
            best = self.best_match.get(match.call_id)
            if best is None or match.score > best.score:
                self.best_match[match.call_id] = match
        candidates = set(self.best_match) - self.dismissed - self.sent_before
        self.load_calls(candidates)
        candidates -= self.triage_dismissed(candidates)
        entries = [self.entry(i) for i in candidates if self.is_live(i)]
        entries.sort(key=lambda e: (-(e.score or 0), e.deadline_at or self.now, e.title))
        return entries

    def changed(self, exclude: set[int]) -> list[DigestEntry]:
        followed = self.watched | self.sent_before
        if self.office_ids:
            followed |= set(
                self.session.scalars(
                    select(CallReview.call_id).where(
                        CallReview.office_id.in_(self.office_ids),
                        CallReview.state != TriageState.DISMISSED,
                    )
                )
            )
        followed -= self.dismissed | exclude
        changes = changed_calls(self.session, since=self.since, until=self.now, call_ids=followed)
        # Opening on the announced date is recorded nowhere (nothing changed in the call) but
        # is news all the same.
        opened = self.opened_since(followed)
        self.load_calls(set(changes) | opened)
        for call_id in opened:
            found = changes.setdefault(call_id, [])
            call = self.calls.get(call_id)
            opens_now = call is not None and call.status(self.now) == "open"
            if opens_now and not any(c.field == "status" for c in found):
                found.append(FieldChange("status", "forthcoming", "open"))
        changes = {i: c for i, c in changes.items() if c and i in self.calls}
        self.load_matches(changes)
        entries = [self.entry(i, changes=tuple(c)) for i, c in changes.items()]
        entries.sort(key=lambda e: (e.deadline_at or self.now + timedelta(days=3650), e.title))
        return entries

    def opened_since(self, ids: set[int]) -> set[int]:
        found: set[int] = set()
        ordered = sorted(ids)
        for start in range(0, len(ordered), QUERY_CHUNK):
            found.update(
                self.session.scalars(
                    select(FundingCall.id).where(
                        FundingCall.id.in_(ordered[start : start + QUERY_CHUNK]),
                        FundingCall.opens_at > self.since,
                        FundingCall.opens_at <= self.now,
                        FundingCall.is_withdrawn.is_(False),
                    )
                )
            )
        return found

    def closing_soon(self, exclude: set[int]) -> list[DigestEntry]:
        horizon = self.now + timedelta(days=self.subscription.closing_soon_days)
        pipeline = select(CallReview.call_id).where(CallReview.state.in_(CLOSING_SOON_STATES))
        if self.office_ids:
            pipeline = pipeline.where(CallReview.office_id.in_(self.office_ids))
        candidates = (self.watched | set(self.session.scalars(pipeline))) - self.dismissed - exclude
        self.load_calls(candidates)
        closing = []
        for call_id in candidates:
            call = self.calls.get(call_id)
            if call is None or call.is_withdrawn:
                continue
            deadline = call.next_deadline(self.now)
            if deadline is not None and deadline <= horizon:
                closing.append(call_id)
        self.load_matches(closing)
        entries = [self.entry(i) for i in closing]
        entries.sort(key=lambda e: (e.deadline_at or horizon, e.title))
        return entries

    def mentions(self) -> list[DigestEntry]:
        if self.subscription.user_id is None:
            return []
        rows = self.session.execute(
            select(Mention, Comment)
            .join(Comment, Comment.id == Mention.comment_id)
            .where(
                Mention.user_id == self.subscription.user_id,
                Mention.created_at > self.since,
                Mention.created_at <= self.now,
            )
            .options(selectinload(Comment.author))
            .order_by(Mention.created_at)
        ).all()
        self.load_calls(comment.call_id for _, comment in rows)
        return [
            self.entry(
                comment.call_id,
                actor_name=comment.author.display_name if comment.author else None,
                excerpt=_excerpt(comment.body),
            )
            for _, comment in rows
        ]

    def assignments(self) -> list[DigestEntry]:
        sub = self.subscription
        query = select(TriageEvent).where(
            TriageEvent.kind == "assignment",
            TriageEvent.at > self.since,
            TriageEvent.at <= self.now,
        )
        if sub.user_id is not None:
            # Nobody needs a mail about what they did themselves.
            query = query.where(
                TriageEvent.assignee_id == sub.user_id,
                or_(TriageEvent.actor_id.is_(None), TriageEvent.actor_id != sub.user_id),
            )
        else:
            query = query.where(TriageEvent.office_id == sub.office_id)
        events = list(
            self.session.scalars(
                query.options(
                    selectinload(TriageEvent.actor),
                    selectinload(TriageEvent.assignee),
                    selectinload(TriageEvent.office),
                ).order_by(TriageEvent.at)
            )
        )
        self.load_calls(event.call_id for event in events)
        latest: dict[int, TriageEvent] = {}
        for event in events:
            latest[event.call_id] = event
        entries = []
        for event in latest.values():
            assignee = (
                event.assignee.display_name
                if event.assignee is not None
                else event.office.name(self.language)
                if event.office is not None
                else None
            )
            entries.append(
                self.entry(
                    event.call_id,
                    actor_name=event.actor.display_name if event.actor else None,
                    assignee_name=assignee,
                )
            )
        return entries

    def pipeline(self) -> dict[str, int]:
        query = (
            select(CallReview.state, func.count())
            .where(CallReview.state.in_(PIPELINE_STATES))
            .group_by(CallReview.state)
        )
        if self.office_ids:
            query = query.where(CallReview.office_id.in_(self.office_ids))
        counts = {state.value: 0 for state in PIPELINE_STATES}
        for state, count in self.session.execute(query):
            counts[TriageState(state).value] = int(count)
        return counts


def build_digest(
    session: Session, subscription: DigestSubscription, *, now: datetime
) -> DigestContent:
    """What ``subscription``'s digest contains if it is built at ``now``: everything since the
    end of its previous digest (the last seven days for a first digest)."""
    builder = _Builder(session, subscription, now)
    new = builder.new_matches()
    shown = {e.call_id for e in new}
    changed = builder.changed(exclude=shown)
    shown |= {e.call_id for e in changed}
    closing = builder.closing_soon(exclude=shown)
    shown |= {e.call_id for e in closing}
    mentions = builder.mentions()
    assignments = builder.assignments()
    shown |= {e.call_id for e in mentions} | {e.call_id for e in assignments}
    builder.load_calls(shown)
    snapshots = {
        call_id: call_snapshot(builder.calls[call_id], now)
        for call_id in sorted(shown)
        if call_id in builder.calls
    }
    if subscription.user is not None:
        name = subscription.user.display_name
    else:
        name = subscription.office.name(subscription.language) if subscription.office else ""
    return DigestContent(
        subscription_id=subscription.id,
        recipient_name=name,
        language=subscription.language,
        since=builder.since,
        until=now,
        new=tuple(new),
        changed=tuple(changed),
        closing=tuple(closing),
        mentions=tuple(mentions),
        assignments=tuple(assignments),
        pipeline=builder.pipeline(),
        snapshots=snapshots,
    )


def preview_digest(
    session: Session,
    settings: Settings,
    subscription: DigestSubscription,
    *,
    now: datetime,
    week: str | None = None,
) -> tuple[DigestContent, RenderedDigest]:
    """The digest ``subscription`` would get if it were sent now; nothing is stored."""
    content = build_digest(session, subscription, now=now)
    return content, render_digest(
        content, settings, week=week or iso_week(now, settings.tz), now=now
    )


# --- ISO weeks ----------------------------------------------------------------------------


def iso_week(now: datetime, tz: ZoneInfo) -> str:
    """The ISO week (``2026-W48``) that ``now`` falls in, in local time."""
    year, week, _ = now.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def parse_iso_week(text: str) -> str:
    """Check and normalise an ISO week such as ``2026-W48``; ValidationFailed otherwise."""
    cleaned = text.strip().upper()
    try:
        year, week = cleaned.split("-W")
        date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        raise ValidationFailed(
            msg("%(week)r is not an ISO week like 2026-W48", week=text), {"week": "invalid"}
        ) from None
    return f"{int(year)}-W{int(week):02d}"


# --- delivery -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestOutcome:
    """What happened to one subscriber's digest in a run (for the CLI, logs and the bench).

    ``status`` is a DigestStatus value, ``unconfirmed`` (see the module docstring), or one of
    ``empty`` (nothing to say), ``no-address``, ``already-<status>`` (this week's digest
    existed), ``taken`` (another process claimed or started it), ``not-due``, ``dry-run``."""

    subscription_id: int
    address: str
    week: str
    status: str
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None
    subject: str | None = None


def claim_digest(
    session: Session,
    subscription: DigestSubscription,
    content: DigestContent,
    rendered: RenderedDigest,
    *,
    week: str,
    address: str,
    sender: str,
    now: datetime,
) -> Digest | None:
    """Store this week's digest for ``subscription`` unless one exists; None when another
    process got there first. The caller commits; see the module docstring."""
    digest = Digest(
        subscription_id=subscription.id,
        iso_week=week,
        status=DigestStatus.PENDING,
        period_start=content.since,
        period_end=content.until,
        address=address,
        language=content.language,
        counts=content.counts,
        subject=rendered.subject,
        text_body=rendered.text,
        html_body=rendered.html,
        message_id=make_message_id(subscription.id, week, sender),
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    keys: set[tuple[int, DigestSection]] = set()
    for section, entries in content.sections():
        keys.update((entry.call_id, section) for entry in entries)
    try:
        with session.begin_nested():
            session.add(digest)
            session.flush()
    except IntegrityError:
        taken = session.scalar(
            select(Digest.id).where(
                Digest.subscription_id == subscription.id, Digest.iso_week == week
            )
        )
        if taken is None:
            raise
        return None
    if keys:
        # One multi-row insert: a digest can hold dozens of items.
        session.execute(
            insert(DigestItem),
            [
                {
                    "digest_id": digest.id,
                    "call_id": call_id,
                    "section": section,
                    "snapshot": content.snapshots.get(call_id, {}),
                }
                for call_id, section in sorted(keys)
            ],
        )
    session.execute(
        update(DigestSubscription)
        .where(DigestSubscription.id == subscription.id)
        .values(last_digest_week=week)
    )
    return digest


def start_attempt(session: Session, digest_id: int, *, now: datetime, resend: bool = False) -> bool:
    """Take the right to send digest ``digest_id`` now (pending or due for a retry; for
    ``resend`` anything not being sent at this moment). False when it is not ours to send."""
    if resend:
        condition = or_(
            Digest.status != DigestStatus.SENDING,
            Digest.last_attempt_at.is_(None),
            Digest.last_attempt_at < now - SENDING_STALE_AFTER,
        )
    else:
        condition = and_(
            Digest.status.in_([DigestStatus.PENDING, DigestStatus.FAILED_TEMPORARY]),
            or_(Digest.next_attempt_at.is_(None), Digest.next_attempt_at <= now),
        )
    result = session.execute(
        update(Digest)
        .where(Digest.id == digest_id, condition)
        .values(
            status=DigestStatus.SENDING,
            attempts=Digest.attempts + 1,
            last_attempt_at=now,
            next_attempt_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def backoff(attempts: int, settings: Settings) -> timedelta:
    """Wait before the next attempt after ``attempts`` failed ones: doubling, capped."""
    delay = timedelta(minutes=settings.digest.retry_backoff_minutes * 2 ** max(0, attempts - 1))
    return min(delay, MAX_BACKOFF)


def _record(session: Session, digest_id: int, **values: Any) -> None:
    session.execute(
        update(Digest)
        .where(Digest.id == digest_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _attempt(
    session_factory: sessionmaker[Session],
    settings: Settings,
    mailer: SmtpMailer,
    digest_id: int,
    *,
    now: datetime,
    resend: bool = False,
    started: float | None = None,
) -> DigestOutcome:
    """Steps 2 to 4 for one stored digest (see the module docstring)."""
    started = time.perf_counter() if started is None else started
    with session_factory() as session:
        if not start_attempt(session, digest_id, now=now, resend=resend):
            session.rollback()
            digest = session.get(Digest, digest_id)
            if digest is None:
                raise NotFound(msg("no digest %(id)s", id=digest_id))
            if digest.status == DigestStatus.SENDING:
                status = "taken"
            elif digest.status in (DigestStatus.PENDING, DigestStatus.FAILED_TEMPORARY):
                status = "not-due"
            else:
                status = f"already-{digest.status.value}"
            return DigestOutcome(digest.subscription_id, digest.address, digest.iso_week, status)
        session.commit()
        digest = session.get(Digest, digest_id)
        assert digest is not None
        subscription = digest.subscription
        bounced = subscription.bounced_address == digest.address
        bounced_at = subscription.bounced_at
        message = build_message(digest, settings, now=now)
        session.commit()

        def outcome(status: str, error: str | None = None) -> DigestOutcome:
            return DigestOutcome(
                digest.subscription_id,
                digest.address,
                digest.iso_week,
                status,
                counts=dict(digest.counts),
                seconds=time.perf_counter() - started,
                error=error,
                subject=digest.subject,
            )

        def fail(status: DigestStatus | None, error: str, **values: Any) -> DigestOutcome:
            if status is not None:
                values["status"] = status
            _record(session, digest_id, error=error, **values)
            session.commit()
            return outcome(status.value if status is not None else "unconfirmed", error)

        if bounced:
            error = f"not sent: {digest.address} has refused mail since {bounced_at:%Y-%m-%d}"
            log.warning("digest %s: %s", digest_id, error)
            return fail(DigestStatus.FAILED_PERMANENT, error)
        try:
            mailer.send(message, sender=sender_address(settings), recipient=digest.address)
        except TemporaryFailure as exc:
            if digest.attempts >= settings.digest.max_attempts:
                log.error(
                    "digest %s: giving up after %d attempts: %s", digest_id, digest.attempts, exc
                )
                return fail(
                    DigestStatus.FAILED_PERMANENT,
                    f"gave up after {digest.attempts} attempts: {exc}",
                )
            retry_at = now + backoff(digest.attempts, settings)
            log.warning("digest %s: temporary failure, retry at %s: %s", digest_id, retry_at, exc)
            return fail(DigestStatus.FAILED_TEMPORARY, str(exc), next_attempt_at=retry_at)
        except PermanentFailure as exc:
            log.error("digest %s: refused: %s", digest_id, exc)
            if exc.address_at_fault:
                session.execute(
                    update(DigestSubscription)
                    .where(DigestSubscription.id == digest.subscription_id)
                    .values(bounced_address=digest.address, bounced_at=now, bounce_error=str(exc))
                    .execution_options(synchronize_session=False)
                )
            return fail(DigestStatus.FAILED_PERMANENT, str(exc))
        except UncertainDelivery as exc:
            # Stays "sending": never resent automatically (see the module docstring).
            log.error("digest %s: delivery unconfirmed: %s", digest_id, exc)
            return fail(None, f"delivery unconfirmed: {exc}")
        record_sent(session, digest_id, digest.subscription_id, now=now)
        session.commit()
        return outcome(DigestStatus.SENT.value)


def record_sent(session: Session, digest_id: int, subscription_id: int, *, now: datetime) -> None:
    """Step 4: the SMTP server accepted the digest. The caller commits."""
    _record(session, digest_id, status=DigestStatus.SENT, sent_at=now, error=None)
    session.execute(
        update(DigestSubscription)
        .where(DigestSubscription.id == subscription_id)
        .values(last_sent_at=now)
        .execution_options(synchronize_session=False)
    )


def _prepare_and_send(
    session_factory: sessionmaker[Session],
    settings: Settings,
    mailer: SmtpMailer,
    subscription_id: int,
    *,
    week: str,
    now: datetime,
    dry_run: bool = False,
    include_empty: bool = False,
) -> DigestOutcome:
    started = time.perf_counter()
    with session_factory() as session:
        result = _build_and_claim(
            session,
            settings,
            subscription_id,
            week=week,
            now=now,
            dry_run=dry_run,
            include_empty=include_empty,
        )
    # The attempt runs in sessions of its own, after this one is closed.
    if isinstance(result, int):
        return _attempt(session_factory, settings, mailer, result, now=now, started=started)
    return result


def _build_and_claim(
    session: Session,
    settings: Settings,
    subscription_id: int,
    *,
    week: str,
    now: datetime,
    dry_run: bool,
    include_empty: bool,
) -> DigestOutcome | int:
    """Step 1: the id of this week's digest, claimed now or earlier and due to be sent, or
    the outcome when there is nothing to send."""
    started = time.perf_counter()
    subscription = session.get(DigestSubscription, subscription_id)
    if subscription is None:
        raise NotFound(msg("no digest subscription %(id)s", id=subscription_id))
    address = subscription.address
    if address is None:
        return DigestOutcome(subscription_id, "", week, "no-address")
    existing = session.scalar(
        select(Digest).where(Digest.subscription_id == subscription_id, Digest.iso_week == week)
    )
    if existing is not None:
        due = existing.status in (DigestStatus.PENDING, DigestStatus.FAILED_TEMPORARY) and (
            existing.next_attempt_at is None or existing.next_attempt_at <= now
        )
        if due and not dry_run:
            # Claimed earlier but not sent: a crash after the claim, or a retry now due.
            return existing.id
        return DigestOutcome(
            subscription_id,
            address,
            week,
            f"already-{existing.status.value}",
            counts=dict(existing.counts),
            subject=existing.subject,
        )
    content = build_digest(session, subscription, now=now)
    if content.is_empty and not (subscription.send_when_empty or include_empty):
        return DigestOutcome(subscription_id, address, week, "empty", counts=content.counts)
    rendered = render_digest(content, settings, week=week, now=now)
    if dry_run:
        return DigestOutcome(
            subscription_id,
            address,
            week,
            "dry-run",
            counts=content.counts,
            seconds=time.perf_counter() - started,
            subject=rendered.subject,
        )
    # End the reading transaction so that the claim's transaction begins with its insert.
    session.commit()
    digest = claim_digest(
        session,
        subscription,
        content,
        rendered,
        week=week,
        address=address,
        sender=sender_address(settings),
        now=now,
    )
    if digest is None:
        session.rollback()
        return DigestOutcome(subscription_id, address, week, "taken", counts=content.counts)
    session.commit()
    return digest.id


def send_weekly_digests(
    session_factory: sessionmaker[Session],
    settings: Settings,
    mailer: SmtpMailer,
    *,
    now: datetime,
    week: str | None = None,
    only_address: str | None = None,
    dry_run: bool = False,
) -> list[DigestOutcome]:
    """Build and send this week's digest to every active subscriber (or only to
    ``only_address``) that has not had it yet. Safe to run twice or in two processes at once.

    Owns its transactions, unlike most services: the claim must be committed before the SMTP
    conversation begins and the outcome recorded after it (see the module docstring)."""
    week = week or iso_week(now, settings.tz)
    with session_factory() as session:
        query = (
            select(DigestSubscription.id)
            .where(DigestSubscription.is_active)
            .order_by(DigestSubscription.id)
        )
        if only_address is not None:
            query = query.where(
                DigestSubscription.id == subscription_for_address(session, only_address).id
            )
        ids = list(session.scalars(query))
    outcomes = []
    for subscription_id in ids:
        outcome = _prepare_and_send(
            session_factory, settings, mailer, subscription_id, week=week, now=now, dry_run=dry_run
        )
        outcomes.append(outcome)
    sent = sum(1 for o in outcomes if o.status == DigestStatus.SENT.value)
    log.info("digests for %s: %d subscribers, %d sent", week, len(outcomes), sent)
    return outcomes


def send_digest_now(
    session_factory: sessionmaker[Session],
    settings: Settings,
    mailer: SmtpMailer,
    subscription_id: int,
    *,
    now: datetime,
) -> DigestOutcome:
    """An admin's "send now": this week's digest, even when it has nothing to say. A digest
    already sent this week is not sent again (``resend_digest`` does that on purpose)."""
    return _prepare_and_send(
        session_factory,
        settings,
        mailer,
        subscription_id,
        week=iso_week(now, settings.tz),
        now=now,
        include_empty=True,
    )


def retry_due_digests(
    session_factory: sessionmaker[Session],
    settings: Settings,
    mailer: SmtpMailer,
    *,
    now: datetime,
) -> list[DigestOutcome]:
    """Send the digests whose temporary failure is due for a retry, and any digest a crash
    left claimed but unsent. Digests left "sending" are reported, never resent."""
    with session_factory() as session:
        due = list(
            session.scalars(
                select(Digest.id)
                .where(
                    Digest.status.in_([DigestStatus.PENDING, DigestStatus.FAILED_TEMPORARY]),
                    or_(Digest.next_attempt_at.is_(None), Digest.next_attempt_at <= now),
                )
                .order_by(Digest.id)
            )
        )
        unconfirmed = session.scalar(
            select(func.count())
            .select_from(Digest)
            .where(
                Digest.status == DigestStatus.SENDING,
                Digest.last_attempt_at < now - SENDING_STALE_AFTER,
            )
        )
    if unconfirmed:
        log.warning("%d digests have unconfirmed delivery; an admin may resend them", unconfirmed)
    return [_attempt(session_factory, settings, mailer, i, now=now) for i in due]


def resend_digest(
    session_factory: sessionmaker[Session],
    settings: Settings,
    mailer: SmtpMailer,
    digest_id: int,
    *,
    now: datetime,
    actor: User | None,
) -> DigestOutcome:
    """Send a stored digest again, as stored and with the same Message-ID (an admin's
    decision, e.g. after an unconfirmed delivery or a fixed address)."""
    with session_factory() as session:
        digest = session.get(Digest, digest_id)
        if digest is None:
            raise NotFound(msg("no digest %(id)s", id=digest_id))
        if digest.subscription.is_bouncing and digest.subscription.address == digest.address:
            raise Conflict(
                msg(
                    "%(address)s is flagged as refusing mail; clear the flag first",
                    address=digest.address,
                )
            )
        record_event(
            session,
            "digest.resent",
            "digest",
            digest.id,
            actor=actor,
            now=now,
            details={"address": digest.address, "week": digest.iso_week},
        )
        session.commit()
    outcome = _attempt(session_factory, settings, mailer, digest_id, now=now, resend=True)
    if outcome.status == "taken":
        raise Conflict(msg("this digest is being sent right now"))
    return outcome


def confirm_delivered(
    session: Session, digest: Digest, *, now: datetime, actor: User | None
) -> None:
    """An admin learnt that an unconfirmed digest did arrive: record it as sent."""
    if digest.status != DigestStatus.SENDING:
        raise Conflict(msg("only a digest whose delivery is unconfirmed can be confirmed"))
    digest.status = DigestStatus.SENT
    digest.sent_at = digest.last_attempt_at or now
    digest.error = None
    session.flush()
    record_event(
        session,
        "digest.delivery_confirmed",
        "digest",
        digest.id,
        actor=actor,
        now=now,
        details={"address": digest.address, "week": digest.iso_week},
    )


def unconfirmed_digests(session: Session, *, now: datetime) -> list[Digest]:
    """Digests whose delivery attempt never finished: a crash or a lost SMTP reply."""
    return list(
        session.scalars(
            select(Digest)
            .where(
                Digest.status == DigestStatus.SENDING,
                Digest.last_attempt_at < now - SENDING_STALE_AFTER,
            )
            .order_by(Digest.id)
        )
    )


def recent_digests(session: Session, *, limit: int = 100) -> list[Digest]:
    return list(
        session.scalars(
            select(Digest)
            .options(selectinload(Digest.subscription))
            .order_by(Digest.created_at.desc(), Digest.id.desc())
            .limit(limit)
        )
    )

"""Sending each digest exactly once.

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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from functools import partial
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tracker.config import Settings
from tracker.errors import NotFound
from tracker.i18n import msg
from tracker.models import (
    AuditEvent,
    Digest,
    DigestItem,
    DigestSection,
    DigestStatus,
    DigestSubscription,
)
from tracker.services.audit import record_event
from tracker.services.digests.content import DigestContent, build_digest, iso_week
from tracker.services.digests.mail import (
    RenderedDigest,
    build_message,
    is_deliverable_address,
    make_message_id,
    render_digest,
    sender_address,
)
from tracker.services.digests.subscriptions import subscription_for_address
from tracker.services.mailer import (
    PermanentFailure,
    SmtpMailer,
    TemporaryFailure,
    UncertainDelivery,
)

log = logging.getLogger(__name__)

__all__ = [
    "DigestOutcome",
    "delivery_problem",
    "preview_digest",
    "retry_due_digests",
    "send_digest_now",
    "send_weekly_digests",
]


MAX_BACKOFF = timedelta(hours=6)


# A "sending" row older than this is no longer in flight: its delivery is unconfirmed.
SENDING_STALE_AFTER = timedelta(minutes=15)


# Outcome of a digest held back because the mail server refused our sender or session.
HELD = "held"


DELIVERY_STOPPED = "digest.delivery_stopped"


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
        try:
            message: EmailMessage | None = build_message(digest, settings, now=now)
            unbuildable = None
        except Exception as exc:  # nothing was sent: record it, never stop the run
            log.exception("digest %s: the message cannot be built", digest_id)
            message, unbuildable = None, f"not sent: {exc}"
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
        if message is None:
            return fail(DigestStatus.FAILED_PERMANENT, unbuildable or "not sent")
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
            if not exc.address_at_fault:
                # Our sender, the relay or the session: every recipient would be refused
                # alike. Nobody's address is flagged; the digest waits for the retry pass and
                # the run stops (see send_weekly_digests).
                log.error("digest %s: the mail server refuses our side: %s", digest_id, exc)
                if digest.attempts >= settings.digest.max_attempts:
                    return fail(
                        DigestStatus.FAILED_PERMANENT,
                        f"gave up after {digest.attempts} attempts: {exc}",
                    )
                retry_at = now + backoff(digest.attempts, settings)
                _record(
                    session,
                    digest_id,
                    status=DigestStatus.FAILED_TEMPORARY,
                    error=f"held: {exc}",
                    next_attempt_at=retry_at,
                )
                session.commit()
                return outcome(HELD, str(exc))
            log.error("digest %s: refused: %s", digest_id, exc)
            _flag_address(session, digest.subscription_id, digest.address, str(exc), now=now)
            return fail(DigestStatus.FAILED_PERMANENT, str(exc))
        except UncertainDelivery as exc:
            # Stays "sending": never resent automatically (see the module docstring).
            log.error("digest %s: delivery unconfirmed: %s", digest_id, exc)
            return fail(None, f"delivery unconfirmed: {exc}")
        record_sent(session, digest_id, digest.subscription_id, now=now)
        session.commit()
        return outcome(DigestStatus.SENT.value)


def _flag_address(
    session: Session, subscription_id: int, address: str, error: str, *, now: datetime
) -> None:
    """Mark ``address`` as refusing mail for admins; digests skip it until it changes or an
    admin clears the flag."""
    session.execute(
        update(DigestSubscription)
        .where(DigestSubscription.id == subscription_id)
        .values(bounced_address=address, bounced_at=now, bounce_error=error)
        .execution_options(synchronize_session=False)
    )


def _report_stop(
    session_factory: sessionmaker[Session], *, error: str, held: int, now: datetime
) -> None:
    """Tell the admins, once per run, that the mail server refused our side."""
    with session_factory() as session:
        record_event(
            session,
            DELIVERY_STOPPED,
            "digest_run",
            None,
            actor=None,
            now=now,
            details={"error": error, "held": held},
        )
        session.commit()


def delivery_problem(session: Session) -> AuditEvent | None:
    """The latest stop of a run because the mail server refused our side, unless a digest
    was delivered since (the problem is then fixed). For the digests admin page."""
    event = session.scalar(
        select(AuditEvent)
        .where(AuditEvent.action == DELIVERY_STOPPED)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(1)
    )
    if event is None:
        return None
    last_sent = session.scalar(select(func.max(Digest.sent_at)))
    if last_sent is not None and last_sent > event.at:
        return None
    return event


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
    hold_until: datetime | None = None,
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
            hold_until=hold_until,
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
    hold_until: datetime | None = None,
) -> DigestOutcome | int:
    """Step 1: the id of this week's digest, claimed now or earlier and due to be sent, or
    the outcome when there is nothing to send. With ``hold_until`` (the mail server refuses
    our side), a new digest is claimed for the retry pass to send from then on."""
    started = time.perf_counter()
    subscription = session.get(DigestSubscription, subscription_id)
    if subscription is None:
        raise NotFound(msg("no digest subscription %(id)s", id=subscription_id))
    address = subscription.address
    if address is None:
        return DigestOutcome(subscription_id, "", week, "no-address")
    if not is_deliverable_address(address):
        error = f"not sent: {address!r} is not an email address"
        if not dry_run and subscription.bounced_address != address:
            # Shown to admins with the addresses that refuse mail, until the address changes.
            session.commit()
            _flag_address(session, subscription_id, address, error, now=now)
            session.commit()
        log.warning("digest for subscription %s: %s", subscription_id, error)
        return DigestOutcome(subscription_id, address, week, "invalid-address", error=error)
    existing = session.scalar(
        select(Digest).where(Digest.subscription_id == subscription_id, Digest.iso_week == week)
    )
    if existing is not None:
        due = existing.status in (DigestStatus.PENDING, DigestStatus.FAILED_TEMPORARY) and (
            existing.next_attempt_at is None or existing.next_attempt_at <= now
        )
        if due and not dry_run and hold_until is None:
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
    if hold_until is not None:
        _record(session, digest.id, next_attempt_at=hold_until)
        session.commit()
        return DigestOutcome(
            subscription_id, address, week, HELD, counts=content.counts, subject=rendered.subject
        )
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
    stopped: DigestOutcome | None = None
    for subscription_id in ids:
        # Once the server has refused our side, the others' digests are stored for the retry
        # pass instead of being offered to it one after the other.
        hold_until = now + backoff(1, settings) if stopped is not None else None
        outcome = _guarded(
            subscription_id,
            partial(
                _prepare_and_send,
                session_factory,
                settings,
                mailer,
                subscription_id,
                week=week,
                now=now,
                dry_run=dry_run,
                hold_until=hold_until,
            ),
            week=week,
        )
        outcomes.append(outcome)
        if stopped is None and outcome.status == HELD:
            stopped = outcome
    if stopped is not None:
        held = sum(1 for o in outcomes if o.status == HELD)
        _report_stop(session_factory, error=stopped.error or "", held=held, now=now)
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
    outcomes = []
    for digest_id in due:
        outcome = _guarded(
            digest_id,
            partial(_attempt, session_factory, settings, mailer, digest_id, now=now),
            week="",
        )
        outcomes.append(outcome)
        if outcome.status == HELD:
            # The others would be refused alike; they stay due for the next pass.
            held = len(due) - len(outcomes) + 1
            _report_stop(session_factory, error=outcome.error or "", held=held, now=now)
            break
    return outcomes


def _guarded(key: int, send: Callable[[], DigestOutcome], *, week: str) -> DigestOutcome:
    """One subscriber's digest; whatever goes wrong with it is logged and reported, and the
    run goes on to the next subscriber."""
    try:
        return send()
    except Exception as exc:
        log.exception("digest run: subscriber or digest %s failed", key)
        return DigestOutcome(key, "", week, "error", error=f"{type(exc).__name__}: {exc}")

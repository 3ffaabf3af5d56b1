"""After sending, for admins: digests whose delivery is unconfirmed, resending one with its
stored content and Message-ID, confirming one, and the recent digests.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from tracker.config import Settings
from tracker.errors import Conflict, NotFound
from tracker.i18n import msg
from tracker.models import (
    Digest,
    DigestStatus,
    User,
)
from tracker.services.audit import record_event
from tracker.services.digests.delivery import SENDING_STALE_AFTER, DigestOutcome, _attempt
from tracker.services.mailer import (
    SmtpMailer,
)

log = logging.getLogger(__name__)

__all__ = [
    "confirm_delivered",
    "recent_digests",
    "resend_digest",
    "unconfirmed_digests",
]


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

"""Weekly email digests: who gets one and with what filters, every digest sent (its stored
content and delivery state), the calls each digest contained, and the calls a subscriber said
are not relevant to them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base
from tracker.models.calls import FundingCall
from tracker.models.users import Office, User


class DigestStatus(enum.StrEnum):
    PENDING = "pending"  # claimed and built, not handed to the SMTP server yet
    SENDING = "sending"  # an attempt is under way (or crashed: delivery unconfirmed)
    SENT = "sent"
    FAILED_TEMPORARY = "failed_temporary"  # retried at next_attempt_at
    FAILED_PERMANENT = "failed_permanent"  # refused (5xx) or given up; an admin may resend


class DigestSection(enum.StrEnum):
    NEW = "new"
    CHANGED = "changed"
    CLOSING = "closing"
    MENTION = "mention"
    ASSIGNMENT = "assignment"
    # No longer written: items of early digests that held a followed call's snapshot to
    # compare with (changes now come from ingestion's CallChange history).
    BASELINE = "baseline"


def _enum(cls: type[enum.StrEnum]) -> Enum:
    return Enum(cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])


class DigestSubscription(Base):
    """One person's (or one office's shared mailbox's) weekly digest and its filters.

    Exactly one of ``user_id`` and ``office_id`` is set; the address is the user's email or
    the office's shared mailbox at sending time, so it follows edits of either."""

    __tablename__ = "digest_subscriptions"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (office_id IS NULL)", name="one_of_user_or_office"),
        CheckConstraint("min_score >= 0 AND min_score <= 100", name="min_score_range"),
        CheckConstraint(
            "closing_soon_days >= 1 AND closing_soon_days <= 365", name="horizon_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    office_id: Mapped[int | None] = mapped_column(
        ForeignKey("offices.id", ondelete="CASCADE"), unique=True
    )
    # Empty lists mean "all": every focus area of the active profile, every office.
    focus_area_slugs: Mapped[list[str]] = mapped_column(default=list)
    office_slugs: Mapped[list[str]] = mapped_column(default=list)
    min_score: Mapped[int] = mapped_column(default=50)
    closing_soon_days: Mapped[int] = mapped_column(default=30)
    language: Mapped[str] = mapped_column(String(2), default="sv")
    send_when_empty: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True, index=True)
    last_sent_at: Mapped[datetime | None]
    last_digest_week: Mapped[str | None] = mapped_column(String(8))
    # Set when the SMTP server refused the address permanently (5xx): no digest goes to that
    # address until an admin clears the flag. A changed address is no longer flagged.
    bounced_address: Mapped[str | None] = mapped_column(String(320))
    bounced_at: Mapped[datetime | None]
    bounce_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    user: Mapped[User | None] = relationship()
    office: Mapped[Office | None] = relationship()
    digests: Mapped[list[Digest]] = relationship(
        back_populates="subscription", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def address(self) -> str | None:
        """Where the digest goes now, or None when there is nowhere to send it."""
        if self.user is not None:
            return self.user.email if self.user.is_active else None
        if self.office is not None and self.office.is_active:
            return self.office.shared_mailbox or None
        return None

    @property
    def is_bouncing(self) -> bool:
        address = self.address
        return address is not None and address == self.bounced_address


class Digest(Base):
    """One subscription's digest for one ISO week, with its content as sent.

    The unique key is what makes a digest go out at most once a week: a scheduler claims the
    week by inserting this row (with the built content) before it talks to the SMTP server."""

    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("subscription_id", "iso_week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("digest_subscriptions.id", ondelete="CASCADE"), index=True
    )
    iso_week: Mapped[str] = mapped_column(String(8))  # 2026-W48
    status: Mapped[DigestStatus] = mapped_column(_enum(DigestStatus), index=True)
    # The content covers what happened between these two instants.
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    address: Mapped[str] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(2))
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    subject: Mapped[str] = mapped_column(Text)
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(300), unique=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    last_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]

    subscription: Mapped[DigestSubscription] = relationship(back_populates="digests")
    items: Mapped[list[DigestItem]] = relationship(
        back_populates="digest", cascade="all, delete-orphan", passive_deletes=True
    )


class DigestItem(Base):
    """A call in a digest, with what the digest said about it (deadlines, status, budget).
    Next week's digest reports changes of the calls a subscriber was sent before."""

    __tablename__ = "digest_items"
    __table_args__ = (UniqueConstraint("digest_id", "call_id", "section"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    digest_id: Mapped[int] = mapped_column(ForeignKey("digests.id", ondelete="CASCADE"), index=True)
    call_id: Mapped[int] = mapped_column(
        ForeignKey("funding_calls.id", ondelete="CASCADE"), index=True
    )
    section: Mapped[DigestSection] = mapped_column(_enum(DigestSection))
    snapshot: Mapped[dict[str, Any]] = mapped_column(default=dict)

    digest: Mapped[Digest] = relationship(back_populates="items")
    call: Mapped[FundingCall] = relationship()


class DigestDismissal(Base):
    """ "Not relevant to me": the call leaves this subscriber's digests. Also a decision the
    matching engine learns from (who, which call, which focus area)."""

    __tablename__ = "digest_dismissals"
    __table_args__ = (UniqueConstraint("subscription_id", "call_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("digest_subscriptions.id", ondelete="CASCADE"), index=True
    )
    call_id: Mapped[int] = mapped_column(
        ForeignKey("funding_calls.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    focus_area_id: Mapped[int | None] = mapped_column(
        ForeignKey("focus_areas.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]

    subscription: Mapped[DigestSubscription] = relationship()
    call: Mapped[FundingCall] = relationship()

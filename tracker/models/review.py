"""The review workspace: what the municipality decided on each call, who looks after it, and
what people said about it."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base
from tracker.models.calls import FundingCall
from tracker.models.users import Office, User


class TriageState(enum.StrEnum):
    NEW = "new"
    INTERESTED = "interested"
    PREPARING = "preparing"
    SUBMITTED = "submitted"
    AWARDED = "awarded"
    NOT_FUNDED = "not_funded"
    WITHDRAWN = "withdrawn"
    DISMISSED = "dismissed"


class DismissReason(enum.StrEnum):
    NOT_OUR_GOALS = "not_our_goals"
    NOT_ELIGIBLE = "not_eligible"
    NO_COFINANCING = "no_cofinancing"
    NO_PARTNER = "no_partner"
    DEADLINE_TOO_CLOSE = "deadline_too_close"
    NO_CAPACITY = "no_capacity"
    OTHER = "other"


def _enum(cls: type[enum.StrEnum]) -> Enum:
    return Enum(cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])


class CallReview(Base):
    """The current state of the municipality's decision on a call (one row per call, created
    on the first decision; a call without a row is ``new``)."""

    __tablename__ = "call_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(
        ForeignKey("funding_calls.id", ondelete="CASCADE"), unique=True
    )
    state: Mapped[TriageState] = mapped_column(_enum(TriageState), index=True)
    dismiss_reason: Mapped[DismissReason | None] = mapped_column(_enum(DismissReason))
    office_id: Mapped[int | None] = mapped_column(
        ForeignKey("offices.id", ondelete="SET NULL"), index=True
    )
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    updated_at: Mapped[datetime]

    call: Mapped[FundingCall] = relationship()
    office: Mapped[Office | None] = relationship()
    assignee: Mapped[User | None] = relationship()


class TriageEvent(Base):
    """One change of state, assignment or note: the call's timeline."""

    __tablename__ = "triage_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(
        ForeignKey("funding_calls.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(16))  # state | assignment
    from_state: Mapped[TriageState | None] = mapped_column(_enum(TriageState))
    to_state: Mapped[TriageState | None] = mapped_column(_enum(TriageState))
    reason: Mapped[DismissReason | None] = mapped_column(_enum(DismissReason))
    note: Mapped[str | None] = mapped_column(Text)
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    office: Mapped[Office | None] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(
        ForeignKey("funding_calls.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]

    author: Mapped[User | None] = relationship()
    mentions: Mapped[list[Mention]] = relationship(
        back_populates="comment", cascade="all, delete-orphan", passive_deletes=True
    )


class Mention(Base):
    __tablename__ = "mentions"
    __table_args__ = (UniqueConstraint("comment_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]

    comment: Mapped[Comment] = relationship(back_populates="mentions")
    user: Mapped[User] = relationship()


class Watch(Base):
    __tablename__ = "watches"
    __table_args__ = (UniqueConstraint("user_id", "call_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    call_id: Mapped[int] = mapped_column(
        ForeignKey("funding_calls.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]


class SavedFilter(Base):
    __tablename__ = "saved_filters"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    query: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class Milestone(Base):
    """An internal date for a call (draft to the board, partner meeting) shown in the calendar."""

    __tablename__ = "milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(
        ForeignKey("funding_calls.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    due_on: Mapped[date] = mapped_column(index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]

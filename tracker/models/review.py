"""The review workspace: what the municipality decided on each call, who looks after it, and
what people said about it."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base
from tracker.models.calls import CallMatch, FundingCall
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


class InboxEntry(Base):
    """What the inbox filters, sorts and counts on, for each call that matched at least one
    active focus area: a narrow copy of the call's dates, its best score, the areas it matched,
    and the municipality's decision on it.

    Derived data. ``tracker.services.inbox.refresh_inbox_entries`` rebuilds the entries of the
    calls matching matched (every change of calls goes through matching, see
    ``tracker.services.pipeline``); the review services keep ``state`` and
    ``office_id`` in step with ``CallReview``. It exists so that the inbox, with 100,000 calls,
    reads one narrow table instead of joining the calls' long texts and their matches' evidence.
    Nothing here depends on the current time, so nothing needs refreshing as time passes.
    """

    __tablename__ = "inbox_entries"
    # Most requests ask for what can still be applied for: this index finds those entries and
    # holds every column the inbox reads, so the table itself is not visited.
    __table_args__ = (
        Index(
            "ix_inbox_entries_applicable",
            "active_until",
            "state",
            "best_band",
            "best_score",
            "first_deadline_at",
            "last_deadline_at",
            "opens_at",
            "is_continuous",
            "is_announced",
            "office_id",
            "programme_code",
            "area_key",
        ),
        # In order of relevance: a page of the most relevant calls is read from the start of
        # this index, whatever the status asked for, without sorting every entry.
        Index(
            "ix_inbox_entries_rank",
            "best_band",
            "best_score",
            "first_deadline_at",
            "last_deadline_at",
            "opens_at",
            "is_continuous",
            "is_announced",
            "state",
            "active_until",
            "office_id",
            "programme_code",
            "call_id",
        ),
        # In order of area key: the counts per area are one pass, without sorting.
        Index(
            "ix_inbox_entries_areas",
            "area_key",
            "state",
            "active_until",
            "last_deadline_at",
            "opens_at",
            "is_continuous",
            "is_announced",
            "office_id",
            "programme_code",
        ),
    )

    call_id: Mapped[int] = mapped_column(
        ForeignKey("funding_calls.id", ondelete="CASCADE"), primary_key=True
    )
    best_score: Mapped[float]
    # The best score in steps of ten: calls about equally relevant are ordered by deadline.
    best_band: Mapped[int]
    opens_at: Mapped[datetime | None]
    first_deadline_at: Mapped[datetime | None]
    last_deadline_at: Mapped[datetime | None]
    # The call may be open or forthcoming until then (far in the future for continuous calls
    # and calls without a deadline): "still applicable" is one range on an index.
    active_until: Mapped[datetime]
    is_continuous: Mapped[bool] = mapped_column(default=False)
    is_announced: Mapped[bool] = mapped_column(default=False)
    programme_code: Mapped[str | None] = mapped_column(String(100), index=True)
    # The ids of the matched areas, sorted, as ",3,5,": counting per area is one GROUP BY.
    area_key: Mapped[str] = mapped_column(String(500))
    state: Mapped[TriageState] = mapped_column(_enum(TriageState), default=TriageState.NEW)
    office_id: Mapped[int | None] = mapped_column(
        ForeignKey("offices.id", ondelete="SET NULL"), index=True
    )
    refreshed_at: Mapped[datetime]

    call: Mapped[FundingCall] = relationship()


# The inbox's ways into the matches: from a call to its matched areas (counts per area, the
# areas shown on each row) and from an area to its calls (the area filter). Both cover every
# column they need, so the matches' evidence is never read for the inbox.
Index(
    "ix_call_matches_call_match_area",
    CallMatch.call_id,
    CallMatch.is_match,
    CallMatch.focus_area_id,
    CallMatch.score,
)
Index(
    "ix_call_matches_area_match_score",
    CallMatch.focus_area_id,
    CallMatch.is_match,
    CallMatch.score,
    CallMatch.call_id,
)
# Earlier calls of the same programme, for the call page, without reading the calls' texts.
Index(
    "ix_funding_calls_programme_dates",
    FundingCall.programme_code,
    FundingCall.opens_at,
    FundingCall.first_seen_at,
)

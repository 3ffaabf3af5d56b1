"""Funding calls: one row per call whatever the number of sources that list it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base


class FundingCall(Base):
    __tablename__ = "funding_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str | None] = mapped_column(String(300), index=True)
    call_identifier: Mapped[str | None] = mapped_column(String(300))
    call_title: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    title_sv: Mapped[str | None] = mapped_column(Text)
    programme_code: Mapped[str | None] = mapped_column(String(100), index=True)
    programme_label: Mapped[str | None] = mapped_column(String(300))
    type_of_action: Mapped[str | None] = mapped_column(String(300))
    summary: Mapped[str | None] = mapped_column(Text)
    description_html: Mapped[str | None] = mapped_column(Text)
    description_text: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))
    opens_at: Mapped[datetime | None]
    deadline_model: Mapped[str | None] = mapped_column(String(32))
    budget_total_eur: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    budget_min_eur: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    budget_max_eur: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    expected_grants: Mapped[int | None]
    currency: Mapped[str | None] = mapped_column(String(3))
    cofinancing_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    keywords: Mapped[list[str]] = mapped_column(default=list)
    tags: Mapped[list[str]] = mapped_column(default=list)
    raw: Mapped[dict[str, Any] | None]
    is_withdrawn: Mapped[bool] = mapped_column(default=False)
    first_seen_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(index=True)
    # Set by the matching engine: the gate that excluded the call, if any.
    gate_code: Mapped[str | None] = mapped_column(String(64))
    gate_reason: Mapped[str | None] = mapped_column(Text)
    matched_at: Mapped[datetime | None]

    deadlines: Mapped[list[CallDeadline]] = relationship(
        back_populates="call",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="CallDeadline.deadline_at",
    )

    def status(self, now: datetime) -> str:
        """forthcoming, open or closed, derived from the dates (never from a source's code)."""
        if self.opens_at is not None and now < self.opens_at:
            return "forthcoming"
        if self.deadline_model == "continuous":
            return "open"
        upcoming = [d.deadline_at for d in self.deadlines if d.deadline_at >= now]
        if self.deadlines and not upcoming:
            return "closed"
        return "open"

    def next_deadline(self, now: datetime) -> datetime | None:
        upcoming = [d.deadline_at for d in self.deadlines if d.deadline_at >= now]
        return min(upcoming) if upcoming else None


class CallDeadline(Base):
    __tablename__ = "call_deadlines"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(
        ForeignKey("funding_calls.id", ondelete="CASCADE"), index=True
    )
    deadline_at: Mapped[datetime] = mapped_column(index=True)
    stage: Mapped[str | None] = mapped_column(String(100))

    call: Mapped[FundingCall] = relationship(back_populates="deadlines")


class CallMatch(Base):
    """The engine's verdict for one call and one focus area, with the evidence behind it."""

    __tablename__ = "call_matches"
    __table_args__ = (UniqueConstraint("call_id", "focus_area_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(
        ForeignKey("funding_calls.id", ondelete="CASCADE"), index=True
    )
    focus_area_id: Mapped[int] = mapped_column(
        ForeignKey("focus_areas.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[float]
    is_match: Mapped[bool] = mapped_column(index=True)
    evidence: Mapped[list[Any]] = mapped_column(default=list)
    matched_at: Mapped[datetime]

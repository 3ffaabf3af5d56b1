"""Funding calls: one row per call whatever the number of sources that list it.

Each source that lists a call has a `CallSourceLink` holding what that source said last
(the normalised record and a digest of it); the call's own columns are merged from its
links by `tracker.services.ingest`. Changes to the fields people act on (title, dates,
budget, status) are kept in `CallChange`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.calltime import CallDates, CallStatus, status_at
from tracker.models.base import Base, JSONType
from tracker.models.sources import Source


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
    # Normalised identifier and canonical URL: how a call from another source is recognised.
    identifier_key: Mapped[str | None] = mapped_column(String(300), index=True)
    url_key: Mapped[str | None] = mapped_column(String(1000), index=True)
    # For cascade calls (funding passed on by an EU project): the EU topic and the project.
    parent_identifier: Mapped[str | None] = mapped_column(String(300))
    organiser: Mapped[str | None] = mapped_column(String(300))
    other_titles: Mapped[dict[str, Any]] = mapped_column(default=dict)
    programme_divisions: Mapped[list[Any]] = mapped_column(default=list)
    published_at: Mapped[datetime | None]
    opening_note: Mapped[str | None] = mapped_column(String(200))
    # Amounts in `currency` as the source gave them; the *_eur columns hold them in euros.
    budget_total: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    budget_min: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    budget_max: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    region: Mapped[str | None] = mapped_column(Text)
    eligible_applicants: Mapped[str | None] = mapped_column(Text)
    # Eligible area as data: {"countries": [NUTS-0], "country_names": [...], "nuts": [...]}.
    eligible_area: Mapped[dict[str, Any]] = mapped_column(default=dict)
    cross_cutting_priorities: Mapped[list[str]] = mapped_column(default=list)
    links: Mapped[list[Any]] = mapped_column(default=list)
    warnings: Mapped[list[str]] = mapped_column(default=list)
    withdrawn_at: Mapped[datetime | None]
    # Set by the matching engine: the gate that excluded the call, if any.
    gate_code: Mapped[str | None] = mapped_column(String(64))
    gate_reason: Mapped[str | None] = mapped_column(Text)
    # The parameters of the gate's sentence, so that it can be shown in any language.
    gate_params: Mapped[dict[str, Any] | None]
    matched_at: Mapped[datetime | None]

    deadlines: Mapped[list[CallDeadline]] = relationship(
        back_populates="call",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="CallDeadline.deadline_at",
    )
    source_links: Mapped[list[CallSourceLink]] = relationship(
        back_populates="call",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="CallSourceLink.id",
    )
    changes: Mapped[list[CallChange]] = relationship(
        back_populates="call",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="CallChange.id",
    )

    @property
    def dates(self) -> CallDates:
        """The dates the call's status follows from (its deadlines are closing moments)."""
        return CallDates.of(
            opens_at=self.opens_at,
            deadlines=(d.deadline_at for d in self.deadlines),
            deadline_model=self.deadline_model,
            opening_note=self.opening_note,
            withdrawn=self.is_withdrawn,
        )

    def status(self, now: datetime) -> CallStatus:
        """Forthcoming, open, closed or withdrawn at ``now``, by ``tracker.calltime.status_at``
        (from the dates, never from a source's code)."""
        return status_at(self.dates, now)

    def next_deadline_row(self, now: datetime) -> CallDeadline | None:
        """The first deadline not yet passed."""
        return next((d for d in self.deadlines if d.deadline_at >= now), None)

    def next_deadline(self, now: datetime) -> datetime | None:
        row = self.next_deadline_row(now)
        return row.deadline_at if row is not None else None


class CallDeadline(Base):
    __tablename__ = "call_deadlines"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(
        ForeignKey("funding_calls.id", ondelete="CASCADE"), index=True
    )
    # The moment the deadline closes; for one given as a day, the moment by
    # tracker.calltime.closing_moment (shown as a date when is_date_only).
    deadline_at: Mapped[datetime] = mapped_column(index=True)
    stage: Mapped[str | None] = mapped_column(String(100))
    is_date_only: Mapped[bool] = mapped_column(default=False)

    call: Mapped[FundingCall] = relationship(back_populates="deadlines")


class CallSourceLink(Base):
    """One source listing one call: its id there and what it said last."""

    __tablename__ = "call_sources"
    __table_args__ = (UniqueConstraint("source_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(
        ForeignKey("funding_calls.id", ondelete="CASCADE"), index=True
    )
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(500))
    content_hash: Mapped[str] = mapped_column(String(64))
    record: Mapped[dict[str, Any]] = mapped_column(default=dict)
    first_seen_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Set when a complete listing of the source no longer contains the call.
    withdrawn_at: Mapped[datetime | None]

    call: Mapped[FundingCall] = relationship(back_populates="source_links")
    source: Mapped[Source] = relationship(back_populates="call_links")


class CallChange(Base):
    """A change to a field people act on: old and new value, when, and from which source."""

    __tablename__ = "call_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(
        ForeignKey("funding_calls.id", ondelete="CASCADE"), index=True
    )
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[Any] = mapped_column(JSONType, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSONType, nullable=True)
    changed_at: Mapped[datetime] = mapped_column(index=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))

    call: Mapped[FundingCall] = relationship(back_populates="changes")


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

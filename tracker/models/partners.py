"""Consortium building: staff corrections of a call's partner rules, the members of the
networks the municipality belongs to, and consortium drafts for calls being prepared."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, JSONType, str_enum
from tracker.models.calls import FundingCall
from tracker.models.organisations import Organisation
from tracker.models.projects import Project, ProjectRole
from tracker.models.users import User


class PartnerRuleOverride(Base):
    """A staff member's value for one partner rule of a call. It wins over what the reader
    finds in the call's text, and is kept when the source changes the call. A null value
    says "not stated" on purpose (the reader's number was wrong)."""

    __tablename__ = "partner_rule_overrides"
    __table_args__ = (UniqueConstraint("call_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(
        ForeignKey("funding_calls.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[Any] = mapped_column(JSONType, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    set_at: Mapped[datetime]

    call: Mapped[FundingCall] = relationship()
    set_by: Mapped[User | None] = relationship()


class NetworkMember(Base):
    """A member of one of our networks (a city, university or agency we may go with), with
    the person we know there and when we last spoke."""

    __tablename__ = "network_members"
    __table_args__ = (UniqueConstraint("network_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(300), default="")
    last_contact_on: Mapped[date | None]
    notes: Mapped[str] = mapped_column(Text, default="")

    network: Mapped[Organisation] = relationship(foreign_keys=[network_id])
    organisation: Mapped[Organisation] = relationship(foreign_keys=[organisation_id])


class ConsortiumDraft(Base):
    """The consortium we plan for a call: our idea, our role and the partners we picked."""

    __tablename__ = "consortium_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(
        ForeignKey("funding_calls.id", ondelete="CASCADE"), unique=True
    )
    idea: Mapped[str] = mapped_column(Text, default="")
    our_role: Mapped[ProjectRole] = mapped_column(str_enum(ProjectRole))
    # Percent of the project's total budget the municipality plans to take.
    our_budget_share: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    # Set once the partners were handed over to the project that applied.
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    call: Mapped[FundingCall] = relationship()
    project: Mapped[Project | None] = relationship()
    members: Mapped[list[ConsortiumMember]] = relationship(
        back_populates="draft",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ConsortiumMember.id",
    )


class ConsortiumMember(Base):
    __tablename__ = "consortium_members"
    __table_args__ = (UniqueConstraint("draft_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(
        ForeignKey("consortium_drafts.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[ProjectRole] = mapped_column(str_enum(ProjectRole))
    task: Mapped[str] = mapped_column(Text, default="")
    # Percent of the project's total budget planned for this partner.
    budget_share: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))

    draft: Mapped[ConsortiumDraft] = relationship(back_populates="members")
    organisation: Mapped[Organisation] = relationship()

"""The participation log: projects, their partners and co-financing plans, the funders that
co-finance them, and the log of official delegations and visits."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, str_enum
from tracker.models.calls import FundingCall
from tracker.models.organisations import Organisation
from tracker.models.sources import Source
from tracker.models.users import Office, User

Money = Numeric(16, 2)


class Currency(enum.StrEnum):
    EUR = "EUR"
    SEK = "SEK"


class ProjectRole(enum.StrEnum):
    LEAD = "lead"
    PARTNER = "partner"
    ASSOCIATED = "associated"


class ProjectStatus(enum.StrEnum):
    IDEA = "idea"
    PREPARING = "preparing"
    SUBMITTED = "submitted"
    AWARDED = "awarded"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    RUNNING = "running"
    CLOSED = "closed"


# Statuses of an application that has been sent in (withdrawn may be either side of that).
NOT_YET_SUBMITTED = frozenset({ProjectStatus.IDEA, ProjectStatus.PREPARING})
DECIDED = frozenset(
    {ProjectStatus.AWARDED, ProjectStatus.REJECTED, ProjectStatus.RUNNING, ProjectStatus.CLOSED}
)
AWARDED = frozenset({ProjectStatus.AWARDED, ProjectStatus.RUNNING, ProjectStatus.CLOSED})


class FunderKind(enum.StrEnum):
    EU_DIRECT = "eu_direct"
    EU_SHARED = "eu_shared"
    INTERREG = "interreg"
    NATIONAL_AGENCY = "national_agency"
    REGION = "region"
    FOUNDATION = "foundation"
    NORDIC = "nordic"
    PRIVATE = "private"
    OWN_BUDGET = "own_budget"


EU_FUNDER_KINDS = frozenset({FunderKind.EU_DIRECT, FunderKind.EU_SHARED, FunderKind.INTERREG})


class Contribution(enum.StrEnum):
    CASH = "cash"
    IN_KIND = "in_kind"


class LineStatus(enum.StrEnum):
    ASKED = "asked"
    LETTER_OF_INTENT = "letter_of_intent"
    DECIDED = "decided"
    PAID = "paid"


UNDECIDED_LINE_STATUSES = frozenset({LineStatus.ASKED, LineStatus.LETTER_OF_INTENT})


class DelegationKind(enum.StrEnum):
    DELEGATION = "delegation"
    VISIT = "visit"


class Funder(Base):
    """A co-financing source with the rules a plan is checked against."""

    __tablename__ = "funders"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[FunderKind] = mapped_column(str_enum(FunderKind))
    programmes: Mapped[list[str]] = mapped_column(default=list)
    # Percent of eligible costs the funder usually covers at most.
    typical_max_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    municipalities_may_apply: Mapped[bool] = mapped_column(default=True)
    requires_civil_society_partner: Mapped[bool] = mapped_column(default=False)
    excludes_ordinary_municipal_tasks: Mapped[bool] = mapped_column(default=False)
    forbids_double_eu_funding: Mapped[bool] = mapped_column(default=False)
    rules_text: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(Text)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    source: Mapped[Source | None] = relationship()
    lines: Mapped[list[CoFinancingLine]] = relationship(back_populates="funder")

    @property
    def is_eu(self) -> bool:
        """Whether the money comes from the EU budget (directly, shared or Interreg)."""
        return self.kind in EU_FUNDER_KINDS


class Project(Base):
    """One application or project the municipality takes part in."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    acronym: Mapped[str | None] = mapped_column(String(64))
    programme: Mapped[str | None] = mapped_column(String(200), index=True)
    call_id: Mapped[int | None] = mapped_column(
        ForeignKey("funding_calls.id", ondelete="SET NULL"), index=True
    )
    role: Mapped[ProjectRole] = mapped_column(str_enum(ProjectRole))
    status: Mapped[ProjectStatus] = mapped_column(str_enum(ProjectStatus), index=True)
    lead_office_id: Mapped[int] = mapped_column(
        ForeignKey("offices.id", ondelete="RESTRICT"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    focus_areas: Mapped[list[str]] = mapped_column(default=list)
    submitted_on: Mapped[date | None] = mapped_column(index=True)
    decision_on: Mapped[date | None]
    start_on: Mapped[date | None]
    end_on: Mapped[date | None]
    registry_number: Mapped[str | None] = mapped_column(String(64))
    currency: Mapped[Currency] = mapped_column(str_enum(Currency, length=3))
    total_budget: Mapped[Decimal | None] = mapped_column(Money)
    municipality_budget: Mapped[Decimal | None] = mapped_column(Money)
    eu_grant: Mapped[Decimal | None] = mapped_column(Money)
    eu_grant_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    own_contribution_cash: Mapped[Decimal | None] = mapped_column(Money)
    own_contribution_in_kind: Mapped[Decimal | None] = mapped_column(Money)
    # Savings-bank foundations and others do not fund what the municipality must do anyway.
    covers_ordinary_municipal_tasks: Mapped[bool] = mapped_column(default=False)
    outcome: Mapped[str] = mapped_column(Text, default="")
    results: Mapped[str] = mapped_column(Text, default="")
    # [{"label": "Application", "url": "https://..."}]
    documents: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    call: Mapped[FundingCall | None] = relationship()
    lead_office: Mapped[Office] = relationship()
    contact: Mapped[User | None] = relationship()
    partners: Mapped[list[ProjectPartner]] = relationship(
        back_populates="project",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ProjectPartner.id",
    )
    lines: Mapped[list[CoFinancingLine]] = relationship(
        back_populates="project",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="CoFinancingLine.id",
    )

    @property
    def own_contribution(self) -> Decimal:
        return (self.own_contribution_cash or Decimal(0)) + (
            self.own_contribution_in_kind or Decimal(0)
        )

    @property
    def is_application(self) -> bool:
        """Sent in to a funder: counted among the applications of its submission year."""
        return self.submitted_on is not None and self.status not in NOT_YET_SUBMITTED

    @property
    def is_decided(self) -> bool:
        return self.status in DECIDED

    @property
    def is_awarded(self) -> bool:
        return self.status in AWARDED


class ProjectPartner(Base):
    __tablename__ = "project_partners"
    __table_args__ = (UniqueConstraint("project_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    role: Mapped[ProjectRole] = mapped_column(str_enum(ProjectRole))

    project: Mapped[Project] = relationship(back_populates="partners")
    organisation: Mapped[Organisation] = relationship(back_populates="project_links")


class CoFinancingLine(Base):
    """One source of money (or in-kind work) in a project's co-financing plan."""

    __tablename__ = "cofinancing_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    funder_id: Mapped[int] = mapped_column(
        ForeignKey("funders.id", ondelete="RESTRICT"), index=True
    )
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[Currency] = mapped_column(str_enum(Currency, length=3))
    contribution: Mapped[Contribution] = mapped_column(str_enum(Contribution))
    status: Mapped[LineStatus] = mapped_column(str_enum(LineStatus))
    decision_body: Mapped[str] = mapped_column(String(300), default="")
    # When the decision body meets (or met) to decide on the line.
    meeting_on: Mapped[date | None]
    # The partner that applies to the funder when it is not the municipality itself.
    applicant_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    project: Mapped[Project] = relationship(back_populates="lines")
    funder: Mapped[Funder] = relationship(back_populates="lines")
    applicant: Mapped[Organisation | None] = relationship()

    @property
    def is_undecided(self) -> bool:
        return self.status in UNDECIDED_LINE_STATUSES

    @property
    def is_secured(self) -> bool:
        return not self.is_undecided


class Delegation(Base):
    """An official delegation or international visit received by the municipality."""

    __tablename__ = "delegations"

    id: Mapped[int] = mapped_column(primary_key=True)
    visited_on: Mapped[date] = mapped_column(index=True)
    kind: Mapped[DelegationKind] = mapped_column(str_enum(DelegationKind))
    origin: Mapped[str] = mapped_column(String(300))
    country_code: Mapped[str | None] = mapped_column(String(2))
    topic: Mapped[str] = mapped_column(Text)
    host_office_id: Mapped[int | None] = mapped_column(
        ForeignKey("offices.id", ondelete="SET NULL"), index=True
    )
    participants: Mapped[int | None]
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    host_office: Mapped[Office | None] = relationship()

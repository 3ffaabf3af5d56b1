"""Partner organisations, the networks the municipality belongs to, and its sister cities."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, str_enum
from tracker.models.users import Office, User

if TYPE_CHECKING:
    # Only for the annotation of the back-reference: projects imports this module, not the
    # other way round.
    from tracker.models.projects import ProjectPartner


class OrganisationKind(enum.StrEnum):
    MUNICIPALITY = "municipality"
    REGION = "region"
    UNIVERSITY = "university"
    COMPANY = "company"
    NGO = "ngo"
    AGENCY = "agency"
    NETWORK = "network"
    # Partners imported from a spreadsheet arrive with a name and a country only.
    OTHER = "other"


class SisterCityRelation(enum.StrEnum):
    TWIN_TOWN = "twin_town"
    COOPERATION = "cooperation"
    PLANNED = "planned"


class Organisation(Base):
    """A partner: a municipality, region, university, company, NGO, agency or network."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), index=True)
    # ISO 3166-1 alpha-2; international networks may have none.
    country_code: Mapped[str | None] = mapped_column(String(2))
    city: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[OrganisationKind] = mapped_column(str_enum(OrganisationKind))
    url: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    project_links: Mapped[list[ProjectPartner]] = relationship(back_populates="organisation")
    membership: Mapped[NetworkMembership | None] = relationship(
        back_populates="network", cascade="all, delete-orphan", passive_deletes=True
    )
    sister_city: Mapped[SisterCity | None] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def label(self) -> str:
        """``Name (CC)``, the form the import and export use."""
        return f"{self.name} ({self.country_code})" if self.country_code else self.name


class NetworkMembership(Base):
    """The municipality's membership of a network (an organisation of kind network)."""

    __tablename__ = "network_memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), unique=True
    )
    since_year: Mapped[int | None]
    ended_year: Mapped[int | None]
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id", ondelete="SET NULL"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    focus_areas: Mapped[list[str]] = mapped_column(default=list)
    # The network's own themes, each with the focus areas it serves:
    # [{"theme": "Services for the growing elderly population", "areas": ["health-welfare"]}]
    themes: Mapped[list[Any]] = mapped_column(default=list)
    description: Mapped[str] = mapped_column(Text, default="")

    network: Mapped[Organisation] = relationship(back_populates="membership")
    office: Mapped[Office | None] = relationship()
    contact: Mapped[User | None] = relationship()

    @property
    def is_active(self) -> bool:
        return self.ended_year is None


class SisterCity(Base):
    """A twin town or another standing city relation (an organisation of kind municipality)."""

    __tablename__ = "sister_cities"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), unique=True
    )
    relation: Mapped[SisterCityRelation] = mapped_column(str_enum(SisterCityRelation))
    since_year: Mapped[int | None]
    topics: Mapped[str] = mapped_column(Text, default="")
    focus_areas: Mapped[list[str]] = mapped_column(default=list)
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    last_contact_on: Mapped[date | None]

    organisation: Mapped[Organisation] = relationship(back_populates="sister_city")

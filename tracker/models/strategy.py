"""Strategy profiles: versioned sets of focus areas that calls are matched against; staff
decisions on matches, and the models the matching engine learns from them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base

SHIPPED_DEFAULT = "default"


class StrategyProfile(Base):
    __tablename__ = "strategy_profiles"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int]
    is_active: Mapped[bool] = mapped_column(default=False, index=True)
    gates: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Profile-wide matching context: who may apply, industrial/research signals, neutral
    # programme names, priors for every area (tracker.matching.profile.Context).
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # "default" for a version stored from the profile shipped with tracker (tracker/data), on
    # first run or by an upgrade to a newer shipped default; None for a version someone saved.
    # Only an active version of origin "default" is ever replaced by a newer shipped default.
    origin: Mapped[str | None] = mapped_column(String(16))

    areas: Mapped[list[FocusArea]] = relationship(
        back_populates="profile",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="FocusArea.position",
    )


class FocusArea(Base):
    __tablename__ = "focus_areas"
    __table_args__ = (UniqueConstraint("profile_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("strategy_profiles.id", ondelete="CASCADE"), index=True
    )
    slug: Mapped[str] = mapped_column(String(64))
    name_sv: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_sv: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    vocabulary: Mapped[list[Any]] = mapped_column(default=list)
    negative_terms: Mapped[list[Any]] = mapped_column(default=list)
    programme_priors: Mapped[list[Any]] = mapped_column(default=list)
    threshold: Mapped[float] = mapped_column(default=50.0)
    position: Mapped[int] = mapped_column(default=0)
    is_retired: Mapped[bool] = mapped_column(default=False)

    profile: Mapped[StrategyProfile] = relationship(back_populates="areas")

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_sv


class DecisionSource(enum.StrEnum):
    REVIEW = "review"
    IMPORT = "import"
    # A subscriber's "not relevant to me" link in a weekly digest.
    DIGEST = "digest"


class MatchDecision(Base):
    """A staff decision: is this call relevant to this focus area? One row per call and
    area slug (the latest decision); slugs outlive profile versions, ids do not.

    ``call_key`` is the call's identifier (``FundingCall.identifier``, or the id of an
    imported labelled call); imported calls not in the database keep their text in
    ``call_snapshot`` so that the model can still learn from them.
    """

    __tablename__ = "match_decisions"
    __table_args__ = (UniqueConstraint("call_key", "area_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int | None] = mapped_column(
        ForeignKey("funding_calls.id", ondelete="CASCADE"), index=True
    )
    call_key: Mapped[str] = mapped_column(String(300))
    call_snapshot: Mapped[dict[str, Any] | None]
    area_slug: Mapped[str] = mapped_column(String(64), index=True)
    relevant: Mapped[bool]
    reason: Mapped[str] = mapped_column(String(64))
    source: Mapped[DecisionSource] = mapped_column(
        Enum(
            DecisionSource,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(index=True)


class MatchModel(Base):
    """A model trained on the decisions (tracker.matching.learning.LearnedModel as JSON)."""

    __tablename__ = "match_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int | None] = mapped_column(
        ForeignKey("strategy_profiles.id", ondelete="SET NULL")
    )
    trained_at: Mapped[datetime] = mapped_column(index=True)
    decision_count: Mapped[int]
    model: Mapped[dict[str, Any]] = mapped_column(default=dict)

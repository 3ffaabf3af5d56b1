"""Strategy profiles: versioned sets of focus areas that calls are matched against."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base


class StrategyProfile(Base):
    __tablename__ = "strategy_profiles"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int]
    is_active: Mapped[bool] = mapped_column(default=False, index=True)
    gates: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

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
    programme_priors: Mapped[dict[str, Any]] = mapped_column(default=dict)
    threshold: Mapped[float] = mapped_column(default=50.0)
    position: Mapped[int] = mapped_column(default=0)
    is_retired: Mapped[bool] = mapped_column(default=False)

    profile: Mapped[StrategyProfile] = relationship(back_populates="areas")

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_sv

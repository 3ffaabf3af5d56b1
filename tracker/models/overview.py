"""The start page's memory: when each person last looked at it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from tracker.models.base import Base


class UserVisit(Base):
    """A person's visits to "My work": the latest, and the one before the current sitting,
    from which "new since your last visit" counts."""

    __tablename__ = "user_visits"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    last_visit_at: Mapped[datetime]
    previous_visit_at: Mapped[datetime | None]

"""Where calls come from: configured sources and the record of each fetch."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.calltime import SourceKind as SourceKind
from tracker.models.base import Base

if TYPE_CHECKING:
    # Only for the annotation of the back-reference: calls imports this module, not the
    # other way round.
    from tracker.models.calls import CallSourceLink


class FetchStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    NOT_MODIFIED = "not_modified"


def _enum(cls: type[enum.StrEnum]) -> Enum:
    return Enum(cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])


class Source(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[SourceKind] = mapped_column(_enum(SourceKind))
    url: Mapped[str] = mapped_column(Text, default="")
    every: Mapped[str] = mapped_column(String(16), default="24h")
    is_enabled: Mapped[bool] = mapped_column(default=True)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]
    # An admin asked for a fetch now; the fetch job runs it on its next tick.
    fetch_requested_at: Mapped[datetime | None]

    runs: Mapped[list[FetchRun]] = relationship(
        back_populates="source", cascade="all, delete-orphan", passive_deletes=True
    )
    call_links: Mapped[list[CallSourceLink]] = relationship(
        back_populates="source", cascade="all, delete-orphan", passive_deletes=True
    )
    quarantined: Mapped[list[QuarantinedItem]] = relationship(
        back_populates="source", cascade="all, delete-orphan", passive_deletes=True
    )


class FetchRun(Base):
    __tablename__ = "fetch_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[FetchStatus] = mapped_column(_enum(FetchStatus))
    new_count: Mapped[int] = mapped_column(default=0)
    updated_count: Mapped[int] = mapped_column(default=0)
    unchanged_count: Mapped[int] = mapped_column(default=0)
    quarantined_count: Mapped[int] = mapped_column(default=0)
    withdrawn_count: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    # Things an admin should know that did not fail the run (labels unavailable, ...).
    warnings: Mapped[list[str]] = mapped_column(default=list)

    source: Mapped[Source] = relationship(back_populates="runs")


class QuarantinedItem(Base):
    """An item of a source's latest fetch that could not be read, kept for admins to see."""

    __tablename__ = "quarantined_items"
    __table_args__ = (UniqueConstraint("source_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(500))
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[dict[str, Any] | None]
    first_seen_at: Mapped[datetime] = mapped_column(index=True)

    source: Mapped[Source] = relationship(back_populates="quarantined")

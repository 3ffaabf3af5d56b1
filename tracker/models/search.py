"""What search reads: each call's texts as normalised stems.

``CallSearchTerms`` holds, per call, the stems of its title-like fields (titles, identifier,
programme) and of its description, in English or Swedish as the text is written, Swedish
compounds split. ``tracker.services.search.refresh_search_terms`` rebuilds a call's row
whenever ingestion stores the call. The migration ``officer_01`` indexes these rows with the
database's own full-text search (an FTS5 table on SQLite, a weighted ``tsvector`` column on
PostgreSQL), both named ``call_search*`` so that autogenerate leaves them alone.

``CatalogueEntry`` is what the catalogue of all calls filters, counts and sorts on.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.models.base import Base
from tracker.models.calls import CallSourceLink, FundingCall


class CallSearchTerms(Base):
    __tablename__ = "call_terms"

    call_id: Mapped[int] = mapped_column(
        ForeignKey("funding_calls.id", ondelete="CASCADE"), primary_key=True
    )
    # Stems separated by spaces, in the order of the text, so that phrases can be found.
    title_terms: Mapped[str] = mapped_column(Text, default="")
    body_terms: Mapped[str] = mapped_column(Text, default="")
    refreshed_at: Mapped[datetime]


# The catalogue of all calls: gated calls by gate, newest first; a source's calls by call.
Index("ix_funding_calls_gate_code", FundingCall.gate_code, FundingCall.id)
Index("ix_call_sources_source_call", CallSourceLink.source_id, CallSourceLink.call_id)
# "New since your last visit" on the start page.
Index("ix_funding_calls_first_seen_at", FundingCall.first_seen_at)


class CatalogueEntry(Base):
    """What the catalogue of all calls filters, counts and sorts on, for every stored call: a
    narrow copy of the call's dates, whether it was withdrawn, its gate and its programme.

    Derived data, like the inbox's entries: ``tracker.services.catalogue_entries`` rebuilds a
    call's entry when the session flushes a change of the call or its deadlines, and for the
    calls matching stored verdicts on (it sets the gates with bulk statements). It exists so
    that a catalogue page with 100,000 calls reads one narrow table instead of the calls' long
    texts and their deadlines. Nothing here depends on the current time."""

    __tablename__ = "catalogue_entries"
    __table_args__ = (
        # "Open" and "forthcoming" are a range of active_until; the index holds every column
        # the status test and the other filters read, so the table is not visited.
        Index(
            "ix_catalogue_entries_active",
            "active_until",
            "is_withdrawn",
            "opens_at",
            "last_deadline_at",
            "is_continuous",
            "is_announced",
            "gate_code",
            "programme_code",
        ),
        Index("ix_catalogue_entries_gate", "gate_code", "call_id"),
        # The programme filter, and the programmes it offers in one pass over the index.
        Index("ix_catalogue_entries_programme", "programme_code", "programme_label", "call_id"),
    )

    call_id: Mapped[int] = mapped_column(
        ForeignKey("funding_calls.id", ondelete="CASCADE"), primary_key=True
    )
    opens_at: Mapped[datetime | None]
    last_deadline_at: Mapped[datetime | None]
    # The call may be open or forthcoming until then (see ``CallDates.active_until``).
    active_until: Mapped[datetime]
    is_continuous: Mapped[bool] = mapped_column(default=False)
    is_announced: Mapped[bool] = mapped_column(default=False)
    is_withdrawn: Mapped[bool] = mapped_column(default=False)
    gate_code: Mapped[str | None] = mapped_column(String(64))
    programme_code: Mapped[str | None] = mapped_column(String(100))
    programme_label: Mapped[str | None] = mapped_column(String(300))

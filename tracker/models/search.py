"""What search reads: each call's texts as normalised stems.

``CallSearchTerms`` holds, per call, the stems of its title-like fields (titles, identifier,
programme) and of its description, in English or Swedish as the text is written, Swedish
compounds split. ``tracker.services.search.refresh_search_terms`` rebuilds a call's row
whenever ingestion stores the call. The migration ``officer_01`` indexes these rows with the
database's own full-text search (an FTS5 table on SQLite, a weighted ``tsvector`` column on
PostgreSQL), both named ``call_search*`` so that autogenerate leaves them alone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text
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

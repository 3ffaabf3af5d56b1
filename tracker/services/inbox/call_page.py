"""What the call page shows to decide on a call: one description (the sources merged), the
earlier editions of the same call series, who issues the call, and the match in brief.

Plain reading functions: they neither add nor flush.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tracker.feeds.text import html_to_text
from tracker.models import CallSourceLink, FundingCall, Source

# Editions of one call series differ in their year: CERV-2024-CITIZENS-TOWN-TT and
# CERV-2025-CITIZENS-TOWN-TT. The years go; what is left names the series.
_YEAR = re.compile(r"(?<![0-9])(?:19|20)[0-9]{2}(?![0-9])")
_SPACE = re.compile(r"\s+")
# How many calls sharing the stem's prefix are read to find the series' editions.
SERIES_SCAN_LIMIT = 500


@dataclass(frozen=True)
class DescriptionText:
    source: str | None  # the source that gave it; None for the call's merged fields
    text: str
    html: str | None = None


@dataclass(frozen=True)
class Descriptions:
    """The longest description first (shown), the others that say something else after."""

    main: DescriptionText | None
    others: list[DescriptionText] = field(default_factory=list)


def _normal(text: str) -> str:
    return _SPACE.sub(" ", text).strip().casefold()


def call_descriptions(session: Session, call: FundingCall) -> Descriptions:
    """Every description the call's sources gave, each once: the longest is the main one;
    a text contained in a longer one (a summary, the same text from a second source) is
    dropped, and the rest are kept to be folded away."""
    candidates: list[DescriptionText] = []
    if call.description_html or call.description_text:
        text = call.description_text or html_to_text(call.description_html)
        candidates.append(DescriptionText(None, text, call.description_html))
    if call.summary:
        candidates.append(DescriptionText(None, call.summary))
    rows = session.execute(
        select(Source.name, CallSourceLink.record)
        .join(Source, Source.id == CallSourceLink.source_id)
        .where(CallSourceLink.call_id == call.id)
        .order_by(CallSourceLink.first_seen_at, Source.name)
    )
    for name, record in rows:
        record = record or {}
        for key in ("description_html", "summary_html"):
            raw = record.get(key)
            if isinstance(raw, str) and raw.strip():
                candidates.append(DescriptionText(name, html_to_text(raw), raw))
    candidates = [c for c in candidates if c.text.strip()]
    if not candidates:
        return Descriptions(None)
    ordered = sorted(candidates, key=lambda c: len(_normal(c.text)), reverse=True)
    kept: list[DescriptionText] = []
    for candidate in ordered:
        normal = _normal(candidate.text)
        if not any(normal in _normal(k.text) for k in kept):
            kept.append(candidate)
    return Descriptions(kept[0], kept[1:])


def series_key(identifier: str | None) -> str | None:
    """The call series an identifier belongs to, or None when it names no edition (no year)."""
    if not identifier or not _YEAR.search(identifier):
        return None
    return _YEAR.sub("*", identifier.strip().upper())


def earlier_editions(
    session: Session, call: FundingCall, *, now: datetime, limit: int = 10
) -> list[FundingCall]:
    """Earlier editions of the call's series: calls whose identifier differs from this one's
    only in the year, whose deadlines have all passed, latest first."""
    identifier = (call.identifier or "").strip()
    key = series_key(identifier)
    year = _YEAR.search(identifier)
    if key is None or year is None:
        return []
    prefix = identifier[: year.start()]
    statement = (
        select(FundingCall)
        .where(FundingCall.id != call.id, FundingCall.identifier.is_not(None))
        .options(selectinload(FundingCall.deadlines))
        .limit(SERIES_SCAN_LIMIT)
    )
    if prefix:
        statement = statement.where(FundingCall.identifier.istartswith(prefix, autoescape=True))
    found = []
    for other in session.scalars(statement):
        if series_key(other.identifier) != key or not other.deadlines:
            continue
        last = max(d.deadline_at for d in other.deadlines)
        if last < now:
            found.append((last, other))
    found.sort(key=lambda pair: pair[0], reverse=True)
    return [other for _, other in found[:limit]]


@dataclass(frozen=True)
class Issuer:
    """Who issues the call: a named body, or an EU project that passes on its grant
    (cascade funding), with the topic that funds the project."""

    name: str
    is_project: bool
    topic: str | None = None


def call_issuer(call: FundingCall) -> Issuer | None:
    if call.organiser and call.parent_identifier:
        return Issuer(call.organiser, True, call.parent_identifier)
    if call.organiser:
        return Issuer(call.organiser, False)
    return None

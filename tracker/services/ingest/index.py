"""Which stored call a record is: by normalised identifier, then canonical URL, then (logged)
a fuzzy match of title and deadline day.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.calltime import local_day, zone
from tracker.models import (
    CallDeadline,
    CallSourceLink,
    FundingCall,
)
from tracker.services.ingest.values import _Deadline

log = logging.getLogger(__name__)


FUZZY_TITLE_RATIO = 0.88


_WORDS = re.compile(r"[^\w]+", re.UNICODE)


def _title_key(title: str) -> str:
    return " ".join(w for w in _WORDS.split(title.casefold()) if w)


@dataclass
class _CallIndex:
    by_identifier: dict[str, int] = field(default_factory=dict)
    by_url: dict[str, int] = field(default_factory=dict)
    by_day: dict[date, list[tuple[int, str, str | None, str | None]]] | None = None
    # Deadline days are compared in this zone.
    day_zone: ZoneInfo = field(default_factory=zone)

    @classmethod
    def load(cls, session: Session, in_zone: ZoneInfo) -> _CallIndex:
        index = cls(day_zone=in_zone)
        rows = session.execute(
            select(FundingCall.id, FundingCall.identifier_key, FundingCall.url_key).order_by(
                FundingCall.is_withdrawn.desc(), FundingCall.id.desc()
            )
        )
        for call_id, identifier_key, url_key in rows:
            # Active and older calls come last in this order, so they win.
            if identifier_key:
                index.by_identifier[identifier_key] = call_id
            if url_key:
                index.by_url[url_key] = call_id
        return index

    def fuzzy(self, session: Session, source_id: int, values: Mapping[str, Any]) -> int | None:
        """A call of another source with a near-identical title and the same first deadline day."""
        deadlines: list[_Deadline] = values["deadlines"]
        if not deadlines:
            return None
        if self.by_day is None:
            self.by_day = self._load_days(session, source_id, self.day_zone)
        day = local_day(deadlines[0].at, self.day_zone)
        wanted = _title_key(values["title"])
        best: tuple[float, int] | None = None
        for call_id, title_key, identifier_key, url_key in self.by_day.get(day, []):
            if (
                identifier_key
                and values["identifier_key"]
                and identifier_key != values["identifier_key"]
            ):
                continue  # different identifiers are different calls, however alike the titles
            if url_key and values["url_key"] and url_key != values["url_key"]:
                continue  # so are calls with pages of their own
            ratio = difflib.SequenceMatcher(None, wanted, title_key).ratio()
            if ratio >= FUZZY_TITLE_RATIO and (best is None or ratio > best[0]):
                best = (ratio, call_id)
        if best is None:
            return None
        log.info(
            "matched %r to call %d by title and deadline day %s (similarity %.2f)",
            values["title"],
            best[1],
            day,
            best[0],
        )
        return best[1]

    @staticmethod
    def _load_days(
        session: Session, source_id: int, in_zone: ZoneInfo
    ) -> dict[date, list[tuple[int, str, str | None, str | None]]]:
        first_deadline = (
            select(CallDeadline.call_id, func.min(CallDeadline.deadline_at).label("first"))
            .group_by(CallDeadline.call_id)
            .subquery()
        )
        own = select(CallSourceLink.call_id).where(CallSourceLink.source_id == source_id)
        rows = session.execute(
            select(
                FundingCall.id,
                FundingCall.title,
                FundingCall.identifier_key,
                FundingCall.url_key,
                first_deadline.c.first,
            )
            .join(first_deadline, first_deadline.c.call_id == FundingCall.id)
            .where(FundingCall.id.not_in(own))
        )
        days: dict[date, list[tuple[int, str, str | None, str | None]]] = {}
        for call_id, title, identifier_key, url_key, first in rows:
            if first.tzinfo is None:  # pragma: no cover - aggregates bypass the column type
                first = first.replace(tzinfo=UTC)
            day = local_day(first, in_zone)
            days.setdefault(day, []).append((call_id, _title_key(title), identifier_key, url_key))
        return days

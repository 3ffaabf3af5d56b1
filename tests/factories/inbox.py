"""Factories for the review workspace: a strategy profile with focus areas, matches with
evidence, and calls that are in the inbox (their inbox entries refreshed)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import NOW, make_call
from tracker.models import CallMatch, FocusArea, FundingCall, StrategyProfile
from tracker.services.inbox import refresh_inbox_entries
from tracker.services.search import refresh_search_terms

_counter = itertools.count(1)


def area(session: Session, slug: str) -> FocusArea:
    found = session.scalar(
        select(FocusArea)
        .join(StrategyProfile)
        .where(FocusArea.slug == slug, StrategyProfile.is_active)
    )
    assert found is not None, f"no active area {slug}"
    return found


def evidence_for(term: str, snippet: str | None = None) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [
        {"kind": "term", "text": term, "weight": 2.4, "field": "title", "count": 1},
        {"kind": "applicant", "text": "local authorities", "weight": 1.1},
    ]
    if snippet is not None:
        items[0]["snippet"] = snippet
        items[0]["field"] = "description"
    return items


def make_matched_call(
    session: Session,
    scores: Mapping[str, float],
    *,
    deadlines: list[datetime] | None = None,
    threshold: float = 50.0,
    evidence: Mapping[str, list[dict[str, Any]]] | None = None,
    now: datetime = NOW,
    **call_fields: Any,
) -> FundingCall:
    """A call with a match per area slug (a match when the score reaches ``threshold``),
    its inbox entry refreshed."""
    call = make_call(session, deadlines=deadlines, **call_fields)
    for slug, score in scores.items():
        session.add(
            CallMatch(
                call_id=call.id,
                focus_area_id=area(session, slug).id,
                score=score,
                is_match=score >= threshold,
                evidence=(evidence or {}).get(slug, evidence_for(slug.split("-")[0])),
                matched_at=now,
            )
        )
    session.flush()
    refresh_inbox_entries(session, [call.id], now=now)
    refresh_search_terms(session, [call.id], now=now)
    return call


def in_days(days: float, hour: int = 17) -> datetime:
    """A moment ``days`` after NOW at ``hour`` o'clock UTC."""
    return (NOW + timedelta(days=days)).replace(hour=hour, minute=0)

"""The one way calls travel from a source to the inbox: fetch -> store -> match -> inbox.

Whatever brings or changes calls ends here, so that no page shows counts from a half-updated
state. The scheduled fetch job, ``tracker fetch`` and "fetch now" (which the fetch job runs)
call ``run_pipeline``. Calls entered on the sources page and ``tracker calls import`` store
their change and call ``match_and_refresh`` in the same transaction; profile edits call
``rematch_everything``. Matching stores the verdicts and rebuilds the inbox entries of the
calls it matched (``match_calls`` ends with ``refresh_inbox_entries``), so the inbox and the
digest preview show the change at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import and_, func, insert, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from tracker.calltime import CallDates, CallStatus, status_at
from tracker.feeds.sedia import FacetCache
from tracker.models import CallDeadline, CallMatch, FocusArea, FundingCall, StrategyProfile
from tracker.services.inbox import refresh_inbox_entries
from tracker.services.ingest import SourceOutcome, run_fetches
from tracker.services.strategy import MatchRun, get_active_profile, match_calls

__all__ = ["PipelineRun", "match_and_refresh", "rematch_everything", "run_pipeline"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PipelineRun:
    """What one run did: a line per source fetched, and the matching that followed (None
    when no source brought a new, changed or withdrawn call)."""

    outcomes: tuple[SourceOutcome, ...]
    matching: MatchRun | None

    @property
    def failed(self) -> bool:
        return any(outcome.failed for outcome in self.outcomes)


def match_and_refresh(
    session: Session, call_ids: Sequence[int] | None = None, *, now: datetime
) -> MatchRun:
    """Match the calls stored or changed in this session (``call_ids``; None: every call
    that needs it, all of them after a profile change) and rebuild their inbox entries.
    Adds and flushes; the caller commits with the change that made it necessary."""
    return match_calls(session, call_ids, now=now)


def rematch_everything(session: Session, *, now: datetime) -> MatchRun:
    """After a change of the strategy profile (a focus area edited, added or retired, the
    gates changed), before the page that saved it returns: the whole inbox is rebuilt
    against the new version, so no page counts from the old version's areas.

    Every call that can still be applied for (not closed, not withdrawn) is matched against
    the new version now. Closed calls first keep the verdicts they had for an area of the
    same name in the previous version (so the inbox's "closed" and "all" views still count
    them), and the ``match-calls`` job matches them again (they were matched before the new
    version existed). A full re-match of every call takes about a minute per 10,000 calls,
    too long for a page. Adds and flushes; the caller commits."""
    _carry_matches_over(session)
    live = [
        call_id
        for call_id, dates in _call_dates(session)
        if status_at(dates, now) not in (CallStatus.CLOSED, CallStatus.WITHDRAWN)
    ]
    run = match_calls(session, live, now=now)
    refresh_inbox_entries(session, None, now=now)
    return run


def _carry_matches_over(session: Session) -> None:
    """Copy the previous version's verdicts to the areas of the same name in the active one
    (a new version's areas are new rows, with no verdicts of their own yet)."""
    active = get_active_profile(session)
    previous = session.scalar(
        select(StrategyProfile.id)
        .where(StrategyProfile.name == active.name, StrategyProfile.version < active.version)
        .order_by(StrategyProfile.version.desc())
        .limit(1)
    )
    if previous is None:
        return
    old, new = aliased(FocusArea), aliased(FocusArea)
    copied = (
        select(
            CallMatch.call_id,
            new.id,
            CallMatch.score,
            CallMatch.is_match,
            CallMatch.evidence,
            CallMatch.matched_at,
        )
        .join(old, old.id == CallMatch.focus_area_id)
        .join(new, and_(new.slug == old.slug, new.profile_id == active.id))
        .where(old.profile_id == previous, new.is_retired.is_(False))
    )
    session.execute(
        insert(CallMatch).from_select(
            ["call_id", "focus_area_id", "score", "is_match", "evidence", "matched_at"], copied
        )
    )


def _call_dates(session: Session) -> list[tuple[int, CallDates]]:
    last = (
        select(CallDeadline.call_id, func.max(CallDeadline.deadline_at).label("last"))
        .group_by(CallDeadline.call_id)
        .subquery()
    )
    rows = session.execute(
        select(
            FundingCall.id,
            FundingCall.opens_at,
            last.c.last,
            FundingCall.deadline_model,
            FundingCall.opening_note,
            FundingCall.is_withdrawn,
        ).outerjoin(last, last.c.call_id == FundingCall.id)
    )
    return [
        (
            call_id,
            CallDates.of(
                opens_at=opens_at,
                deadlines=() if last_at is None else (last_at,),
                deadline_model=model,
                opening_note=note,
                withdrawn=withdrawn,
            ),
        )
        for call_id, opens_at, last_at, model, note, withdrawn in rows
    ]


def run_pipeline(
    session_factory: sessionmaker[Session],
    source_ids: Sequence[int],
    *,
    http: requests.Session,
    clock: Callable[[], datetime],
    in_zone: ZoneInfo,
    sek_per_eur: Decimal | None = None,
    facet_cache: FacetCache | None = None,
    on_done: Callable[[SourceOutcome], None] | None = None,
    parallel: int = 1,
) -> PipelineRun:
    """Fetch and store each source (each in its own transaction, as ``run_fetches`` does),
    then match what changed and refresh the inbox, and commit.

    A failed source is recorded and skipped; the calls the others brought are matched all
    the same."""
    outcomes = run_fetches(
        session_factory,
        source_ids,
        http=http,
        clock=clock,
        facet_cache=facet_cache,
        sek_per_eur=sek_per_eur,
        in_zone=in_zone,
        on_done=on_done,
        parallel=parallel,
    )
    matching = None
    if any(o.new or o.updated or o.withdrawn for o in outcomes):
        with session_factory() as session:
            matching = match_and_refresh(session, now=clock())
            session.commit()
    log.info("pipeline: %d source(s) fetched, matching %s", len(outcomes), matching)
    return PipelineRun(outcomes=tuple(outcomes), matching=matching)

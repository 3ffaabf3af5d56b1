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
from sqlalchemy.orm import Session, sessionmaker

from tracker.feeds.sedia import FacetCache
from tracker.services.ingest import SourceOutcome, run_fetches
from tracker.services.matching import MatchRun, match_calls

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
    gates changed): every call is matched against the new version and the whole inbox is
    rebuilt before the page that saved it returns, so no page counts from the old areas.
    Adds and flushes; the caller commits."""
    return match_calls(session, None, now=now, everything=True)


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
    )
    matching = None
    if any(o.new or o.updated or o.withdrawn for o in outcomes):
        with session_factory() as session:
            matching = match_and_refresh(session, now=clock())
            session.commit()
    log.info("pipeline: %d source(s) fetched, matching %s", len(outcomes), matching)
    return PipelineRun(outcomes=tuple(outcomes), matching=matching)

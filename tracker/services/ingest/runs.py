"""Fetch runs.

`run_fetches` is the unit of work around it: fetch each source over HTTP
outside any transaction, then ingest it and record the run in one
transaction of its own, so a failing source only records a failed run.

Ingest neither matches calls nor touches the inbox: callers go through
``tracker.services.pipeline``, which matches what ingest stored and so
refreshes the inbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tracker.calltime import zone
from tracker.feeds.adapter import KnownCall
from tracker.feeds.errors import FetchError
from tracker.feeds.records import (
    FetchResult,
)
from tracker.feeds.registry import SourceSpec, adapter_for, fetch_source
from tracker.feeds.sedia import FacetCache
from tracker.models import (
    CallSourceLink,
    FetchRun,
    FetchStatus,
    Source,
)
from tracker.services.ingest.upsert import IngestStats, upsert_calls

log = logging.getLogger(__name__)

__all__ = [
    "SourceOutcome",
    "ingest_fetch_result",
    "record_failed_run",
    "run_fetches",
    "source_spec",
]


def source_spec(session: Session, source: Source) -> SourceSpec:
    """What the adapters need to know about `source` (read only)."""
    last_success = session.scalar(
        select(func.max(FetchRun.started_at)).where(
            FetchRun.source_id == source.id,
            FetchRun.status.in_([FetchStatus.SUCCEEDED, FetchStatus.NOT_MODIFIED]),
        )
    )
    return SourceSpec(
        kind=source.kind,
        url=source.url,
        settings=dict(source.settings or {}),
        etag=source.etag,
        last_modified=source.last_modified,
        last_success_at=last_success,
        known=_known_calls(session, source) if adapter_for(source.kind).remembers_calls else {},
    )


def _known_calls(session: Session, source: Source) -> dict[str, KnownCall]:
    """What `source` stored per entry: its page, change stamp and description."""
    known: dict[str, KnownCall] = {}
    for external_id, record in session.execute(
        select(CallSourceLink.external_id, CallSourceLink.record).where(
            CallSourceLink.source_id == source.id
        )
    ):
        record = record or {}
        known[external_id] = KnownCall(
            url=record.get("url"),
            source_version=record.get("source_version"),
            description_html=record.get("description_html"),
        )
    return known


def _run(
    session: Session,
    source: Source,
    *,
    started_at: datetime,
    finished_at: datetime,
    status: FetchStatus,
    stats: IngestStats | None = None,
    error: str | None = None,
    warnings: Sequence[str] = (),
) -> FetchRun:
    run = FetchRun(
        source_id=source.id,
        started_at=started_at,
        finished_at=finished_at,
        status=status,
        new_count=stats.new if stats else 0,
        updated_count=stats.updated if stats else 0,
        unchanged_count=stats.unchanged if stats else 0,
        quarantined_count=stats.quarantined if stats else 0,
        withdrawn_count=stats.withdrawn if stats else 0,
        error=error,
        warnings=list(warnings),
    )
    session.add(run)
    source.fetch_requested_at = None
    session.flush()
    return run


def record_failed_run(
    session: Session,
    source: Source,
    error: str,
    *,
    started_at: datetime,
    finished_at: datetime,
) -> FetchRun:
    """Record that fetching `source` failed, and why."""
    log.warning("source %s failed: %s", source.name, error)
    return _run(
        session,
        source,
        started_at=started_at,
        finished_at=finished_at,
        status=FetchStatus.FAILED,
        error=error,
    )


def ingest_fetch_result(
    session: Session,
    source: Source,
    result: FetchResult,
    *,
    started_at: datetime,
    clock: Callable[[], datetime],
    sek_per_eur: Decimal | None = None,
    in_zone: ZoneInfo | None = None,
) -> FetchRun:
    """Store a fetch result and record the run (succeeded, not modified, or failed).

    A payload that turns out broken while it is read (a bulk file cut off)
    fails the run and leaves the calls as they were. Adds and flushes.
    """
    if result.not_modified:
        return _run(
            session,
            source,
            started_at=started_at,
            finished_at=clock(),
            status=FetchStatus.NOT_MODIFIED,
        )
    try:
        with session.begin_nested():
            stats = upsert_calls(
                session,
                source,
                result.items,
                now=started_at,
                # Asked after the items were read: the item cap may have cut them.
                complete=lambda: result.complete,
                sek_per_eur=sek_per_eur,
                in_zone=in_zone,
            )
    except FetchError as exc:
        return record_failed_run(
            session, source, str(exc), started_at=started_at, finished_at=clock()
        )
    source.etag = result.etag
    source.last_modified = result.last_modified
    warnings = [*result.warnings, *stats.warnings]
    if result.skipped:
        log.info(
            "source %s: %d item(s) skipped (not calls, or repeated)", source.name, result.skipped
        )
    return _run(
        session,
        source,
        started_at=started_at,
        finished_at=clock(),
        status=FetchStatus.SUCCEEDED,
        stats=stats,
        warnings=warnings,
    )


@dataclass(frozen=True, slots=True)
class SourceOutcome:
    """How one source's fetch went (for progress output)."""

    source: str
    status: FetchStatus
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    withdrawn: int = 0
    error: str | None = None
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0

    @classmethod
    def of(cls, name: str, run: FetchRun) -> SourceOutcome:
        seconds = 0.0
        if run.finished_at is not None:
            seconds = (run.finished_at - run.started_at).total_seconds()
        return cls(
            source=name,
            status=run.status,
            new=run.new_count,
            updated=run.updated_count,
            unchanged=run.unchanged_count,
            quarantined=run.quarantined_count,
            withdrawn=run.withdrawn_count,
            error=run.error,
            warnings=tuple(run.warnings or ()),
            seconds=seconds,
        )

    @property
    def failed(self) -> bool:
        return self.status is FetchStatus.FAILED


def run_fetches(
    session_factory: sessionmaker[Session],
    source_ids: Sequence[int],
    *,
    http: requests.Session,
    clock: Callable[[], datetime],
    facet_cache: FacetCache | None = None,
    sek_per_eur: Decimal | None = None,
    in_zone: ZoneInfo | None = None,
    on_done: Callable[[SourceOutcome], None] | None = None,
    parallel: int = 1,
) -> list[SourceOutcome]:
    """Fetch and ingest each source in its own transaction (this function commits).

    The download happens outside any transaction; the ingest and the run
    record are committed together. Whatever goes wrong with one source is
    recorded as its failed run and the next source is fetched. With
    `parallel` above 1, that many sources download at once, each within its
    own run limits, so one slow source does not hold up the others; the
    results are stored one at a time, by this thread, as each download ends.
    """
    zone_in = in_zone or zone()
    with session_factory() as session:
        jobs = []
        for source_id in source_ids:
            source = session.get(Source, source_id)
            if source is not None:
                jobs.append(_Download(source_id, source.name, source_spec(session, source)))
    outcomes: list[SourceOutcome] = []

    def store(job: _Download) -> None:
        outcome = _store_one(
            session_factory, job, clock=clock, sek_per_eur=sek_per_eur, in_zone=zone_in
        )
        outcomes.append(outcome)
        if on_done is not None:
            on_done(outcome)

    if parallel <= 1 or len(jobs) <= 1:
        for job in jobs:
            job.run(http, clock, facet_cache, zone_in)
            store(job)
        return outcomes
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="fetch") as pool:
        running = {pool.submit(job.run, http, clock, facet_cache, zone_in): job for job in jobs}
        for done in as_completed(running):
            store(running[done])
    return outcomes


@dataclass(slots=True)
class _Download:
    """One source's download: done on a worker thread, no database access."""

    source_id: int
    name: str
    spec: SourceSpec
    started: datetime | None = None
    result: FetchResult | None = None
    error: str | None = None

    def run(
        self,
        http: requests.Session,
        clock: Callable[[], datetime],
        facet_cache: FacetCache | None,
        in_zone: ZoneInfo,
    ) -> None:
        self.started = clock()
        try:
            self.result = fetch_source(
                http, self.spec, now=self.started, facet_cache=facet_cache, in_zone=in_zone
            )
        except (FetchError, ValueError) as exc:
            self.error = str(exc)
        except Exception as exc:  # an adapter bug must not stop the other sources
            log.exception("source %s: unexpected error while fetching", self.name)
            self.error = f"unexpected error: {type(exc).__name__}: {exc}"


def _store_one(
    session_factory: sessionmaker[Session],
    job: _Download,
    *,
    clock: Callable[[], datetime],
    sek_per_eur: Decimal | None,
    in_zone: ZoneInfo,
) -> SourceOutcome:
    started, result, name = job.started or clock(), job.result, job.name
    try:
        with session_factory() as session:
            source = session.get(Source, job.source_id)
            assert source is not None
            if result is None:
                run = record_failed_run(
                    session, source, job.error or "failed", started_at=started, finished_at=clock()
                )
            else:
                run = ingest_fetch_result(
                    session,
                    source,
                    result,
                    started_at=started,
                    clock=clock,
                    sek_per_eur=sek_per_eur,
                    in_zone=in_zone,
                )
            session.commit()
            return SourceOutcome.of(name, run)
    except Exception as exc:
        log.exception("source %s: ingest failed", name)
        message = f"ingest failed: {type(exc).__name__}: {exc}"
        with session_factory() as session:
            source = session.get(Source, job.source_id)
            assert source is not None
            run = record_failed_run(
                session, source, message, started_at=started, finished_at=clock()
            )
            session.commit()
            return SourceOutcome.of(name, run)
    finally:
        if result is not None:
            result.close()

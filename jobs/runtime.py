"""The scheduler process: APScheduler 3 running the jobs declared in ``jobs.JOBS``.

Every run takes a lease in the database, so two scheduler processes never run the same job at
once, and records its fire time under a unique key, so each fire time runs once even when a
second process picks it up after the first has finished. A crashed holder's lease expires.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from jobs import JobContext, JobSpec
from tracker.clock import Clock, system_clock
from tracker.config import Settings
from tracker.db import retry_when_busy, writing_sessions
from tracker.models import JobRun
from tracker.services.leases import acquire_lease, finish_job_run, release_lease, start_job_run

log = logging.getLogger(__name__)

# Interval triggers count from a fixed origin so that every process computes the same fire times.
INTERVAL_ORIGIN = datetime(2020, 1, 1, tzinfo=UTC)


def make_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def make_trigger(spec: JobSpec, settings: Settings) -> BaseTrigger:
    args = spec.resolved_trigger_args(settings)
    if spec.trigger == "cron":
        return CronTrigger(timezone=settings.tz, **args)
    if spec.trigger == "interval":
        return IntervalTrigger(start_date=INTERVAL_ORIGIN, timezone=UTC, **args)
    raise ValueError(f"job {spec.name}: unknown trigger {spec.trigger!r}")


def scheduled_fire_time(trigger: BaseTrigger, now: datetime, grace: timedelta) -> datetime | None:
    """The latest fire time of ``trigger`` at or before ``now`` (looking back at most
    ``grace``): the fire time that the current invocation belongs to."""
    window = timedelta(seconds=60)
    while True:
        start = now - min(window, grace)
        last = None
        fire = trigger.get_next_fire_time(None, start)
        while fire is not None and fire <= now:
            last = fire
            fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
        if last is not None or window >= grace:
            return last.astimezone(UTC) if last is not None else None
        window *= 60


def run_job_once(
    spec: JobSpec,
    trigger: BaseTrigger,
    settings: Settings,
    session_factory: sessionmaker[Session],
    holder: str,
    clock: Clock = system_clock,
) -> str:
    """Run one invocation of ``spec`` under the lease; returns what happened (for logs/tests).

    Every write takes the database's write lock when it begins and is tried again while the
    database is busy, so jobs that fire in the same second wait for each other instead of
    failing; nothing here raises into APScheduler, and a job's own failure is recorded."""
    now = clock()
    grace = timedelta(seconds=settings.scheduler.misfire_grace_seconds)
    scheduled_for = scheduled_fire_time(trigger, now, grace) or now
    ttl = timedelta(seconds=settings.scheduler.lease_seconds)
    writing = writing_sessions(session_factory)

    def claim() -> bool:
        with writing() as session:
            acquired = acquire_lease(session, spec.name, holder, now=now, ttl=ttl)
            session.commit()
            return acquired

    def start() -> int | None:
        with writing() as session:
            run = start_job_run(session, spec.name, scheduled_for, holder, now=now)
            session.commit()
            return run.id if run is not None else None

    try:
        if not retry_when_busy(claim, what=f"job {spec.name}: lease"):
            log.info("job %s: another process holds the lease, skipping", spec.name)
            return "lease-held"
    except DBAPIError:
        log.exception("job %s: the database stayed busy; this fire time is skipped", spec.name)
        return "busy"
    try:
        run_id = retry_when_busy(start, what=f"job {spec.name}: start")
        if run_id is None:
            log.info("job %s: fire time %s already ran", spec.name, scheduled_for.isoformat())
            return "already-ran"
        error = None
        try:
            spec.run(JobContext(settings, writing, scheduled_for, clock))
        except Exception as exc:
            log.exception("job %s failed", spec.name)
            error = f"{type(exc).__name__}: {exc}"

        def finish() -> None:
            with writing() as session:
                run = session.get(JobRun, run_id)
                if run is not None:
                    finish_job_run(run, now=clock(), error=error)
                session.commit()

        retry_when_busy(finish, what=f"job {spec.name}: finish")
        return "failed" if error else "ran"
    except DBAPIError:
        log.exception("job %s: could not record its run", spec.name)
        return "busy"
    finally:

        def release() -> None:
            with writing() as session:
                release_lease(session, spec.name, holder)
                session.commit()

        try:
            retry_when_busy(release, what=f"job {spec.name}: release")
        except DBAPIError:
            log.exception("job %s: lease not released; it expires by itself", spec.name)


def load_jobs(reference: str) -> list[JobSpec]:
    """Load a job list from ``module:attribute`` (default ``jobs:JOBS``)."""
    module_name, _, attribute = reference.partition(":")
    jobs = getattr(importlib.import_module(module_name), attribute or "JOBS")
    return list(jobs)


def build_scheduler(
    settings: Settings,
    session_factory: sessionmaker[Session],
    specs: Sequence[JobSpec],
    *,
    holder: str | None = None,
    scheduler: BaseScheduler | None = None,
) -> BaseScheduler:
    holder = holder or make_holder()
    scheduler = scheduler or BlockingScheduler(timezone=settings.tz)
    for spec in specs:
        trigger = make_trigger(spec, settings)
        scheduler.add_job(
            run_job_once,
            trigger=trigger,
            args=(spec, trigger, settings, session_factory, holder),
            id=spec.name,
            name=spec.name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=settings.scheduler.misfire_grace_seconds,
        )
    log.info("scheduler %s: %d jobs", holder, len(specs))
    return scheduler

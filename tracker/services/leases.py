"""Database leases and job-run records so that several scheduler processes can run side by
side: a job runs in one process at a time, and each scheduled fire time runs once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.models import JobLease, JobRun


def acquire_lease(
    session: Session, name: str, holder: str, *, now: datetime, ttl: timedelta
) -> bool:
    """Take the lease ``name`` for ``holder`` until ``now + ttl``; False if another holder has
    an unexpired lease. The caller commits right away so others see it."""
    if session.get(JobLease, name) is None:
        try:
            with session.begin_nested():
                session.add(JobLease(name=name, holder=None, expires_at=None))
        except IntegrityError:
            pass  # another process created the row first; the update below decides
    result = session.execute(
        update(JobLease)
        .where(
            JobLease.name == name,
            or_(
                JobLease.holder.is_(None),
                JobLease.holder == holder,
                JobLease.expires_at < now,
            ),
        )
        .values(holder=holder, expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def release_lease(session: Session, name: str, holder: str) -> None:
    session.execute(
        update(JobLease)
        .where(JobLease.name == name, JobLease.holder == holder)
        .values(holder=None, expires_at=None)
        .execution_options(synchronize_session=False)
    )


def start_job_run(
    session: Session, job_name: str, scheduled_for: datetime, holder: str, *, now: datetime
) -> JobRun | None:
    """Record that ``holder`` runs ``job_name`` for the fire time ``scheduled_for``; None when
    that fire time has already been run (by this or another process)."""
    run = JobRun(
        job_name=job_name,
        scheduled_for=scheduled_for,
        holder=holder,
        started_at=now,
        status="running",
    )
    try:
        with session.begin_nested():
            session.add(run)
    except IntegrityError:
        return None
    return run


def finish_job_run(run: JobRun, *, now: datetime, error: str | None = None) -> None:
    run.finished_at = now
    run.status = "failed" if error else "succeeded"
    run.error = error


def last_runs(session: Session, limit: int = 50) -> list[JobRun]:
    return list(session.scalars(select(JobRun).order_by(JobRun.started_at.desc()).limit(limit)))

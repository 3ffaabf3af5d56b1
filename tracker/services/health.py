"""What admins and monitors must be told: sources that fail or stopped succeeding, and
scheduled jobs whose last run failed. The banner on every admin page, the sources page and
``/healthz`` all read :func:`system_problems`, so they never disagree."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.config import parse_interval
from tracker.feeds.records import is_capped_warning
from tracker.feeds.registry import adapter_for
from tracker.models import JobRun
from tracker.services.account_mail import last_mail_failure, public_reason
from tracker.services.sources import source_health

# A source is stale once it has gone this many of its own intervals without a success.
STALE_INTERVALS = 3
# Job runs older than this are history, not a current problem (the weekly digest runs weekly).
JOB_MEMORY = timedelta(days=8)
# The scheduled job that fetches the sources (jobs.JOBS names it so; tracker never imports jobs).
FETCH_JOB = "fetch-sources"


class ProblemKind(enum.StrEnum):
    SOURCE_FAILING = "source-failing"  # its latest fetch failed
    SOURCE_STALE = "source-stale"  # no success for STALE_INTERVALS of its intervals
    SOURCE_CAPPED = "source-capped"  # its latest run kept only the first max_items_per_run
    JOB_FAILED = "job-failed"  # a scheduled job's latest run failed
    MAIL_FAILED = "mail-failed"  # the latest invitation or password-reset mail was not sent


@dataclass(frozen=True, slots=True)
class Problem:
    kind: ProblemKind
    name: str
    since: datetime | None
    error: str | None

    @property
    def for_banner(self) -> bool:
        """A single failed fetch is shown on the sources page and to monitors; the banner on
        every page waits until a source has been down for a while or a job failed."""
        return self.kind not in (ProblemKind.SOURCE_FAILING, ProblemKind.SOURCE_CAPPED)

    def describe(self) -> str:
        """One English line for logs and monitors."""
        if self.kind is ProblemKind.JOB_FAILED:
            text = f"job {self.name}: last run failed"
        elif self.kind is ProblemKind.MAIL_FAILED:
            text = f"{self.name}: the last one could not be sent"
        elif self.kind is ProblemKind.SOURCE_STALE:
            text = f"source {self.name}: no successful fetch for {STALE_INTERVALS} intervals"
        elif self.kind is ProblemKind.SOURCE_CAPPED:
            text = f"source {self.name}: last fetch was cut at the item cap"
        else:
            text = f"source {self.name}: last fetch failed"
        return f"{text}: {self.error}" if self.error else text


def job_failures(session: Session, *, now: datetime) -> list[Problem]:
    """Jobs whose latest run (within ``JOB_MEMORY``) failed."""
    latest = (
        select(func.max(JobRun.id))
        .where(JobRun.started_at >= now - JOB_MEMORY)
        .group_by(JobRun.job_name)
    )
    runs = session.scalars(select(JobRun).where(JobRun.id.in_(latest)).order_by(JobRun.job_name))
    return [
        Problem(ProblemKind.JOB_FAILED, run.job_name, run.started_at, run.error)
        for run in runs
        if run.status == "failed"
    ]


def last_job_error(session: Session, job_name: str) -> JobRun | None:
    """The latest failed run of ``job_name``, for the sources page (the fetch job's error)."""
    return session.scalars(
        select(JobRun)
        .where(JobRun.job_name == job_name, JobRun.status == "failed")
        .order_by(JobRun.id.desc())
        .limit(1)
    ).first()


def mail_failures(session: Session, *, now: datetime) -> list[Problem]:
    """The account mails (invitations, password resets) when the latest one failed."""
    failed = last_mail_failure(session, now=now)
    if failed is None:
        return []
    reason = public_reason(str(failed.details.get("error", "")))
    return [Problem(ProblemKind.MAIL_FAILED, "account mail", failed.at, reason or None)]


def system_problems(session: Session, *, now: datetime) -> list[Problem]:
    """Every current problem: failing and stale sources, failed jobs, then mail that could
    not be sent."""
    problems: list[Problem] = []
    for health in source_health(session, now=now):
        source = health.source
        if not source.is_enabled or not adapter_for(source.kind).scheduled:
            continue
        if health.is_failing:
            problems.append(
                Problem(
                    ProblemKind.SOURCE_FAILING, source.name, health.last_error_at, health.last_error
                )
            )
        capped = [w for w in health.last_warnings if is_capped_warning(w)]
        if capped and health.last_run is not None:
            problems.append(
                Problem(
                    ProblemKind.SOURCE_CAPPED, source.name, health.last_run.started_at, capped[0]
                )
            )
        reference = health.last_success_at or source.created_at
        if now - reference >= STALE_INTERVALS * timedelta(seconds=parse_interval(source.every)):
            problems.append(
                Problem(ProblemKind.SOURCE_STALE, source.name, health.last_success_at, None)
            )
    return problems + job_failures(session, now=now) + mail_failures(session, now=now)

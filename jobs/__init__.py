"""Every periodic job, declared as data. Each job is a thin wrapper: it opens a session
through the context it is given, calls services and commits.

Later areas add their jobs to ``JOBS``; the runtime in ``jobs.runtime`` schedules them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tracker.config import Settings, cron_trigger_args, parse_interval
from tracker.services.health import FETCH_JOB


@dataclass(frozen=True)
class JobContext:
    settings: Settings
    session_factory: sessionmaker[Session]
    scheduled_for: datetime
    now: Callable[[], datetime]


@dataclass(frozen=True)
class JobSpec:
    """A periodic job: ``trigger`` is ``"cron"`` or ``"interval"`` with APScheduler keyword
    arguments, or a function of the settings returning them (for configurable schedules)."""

    name: str
    run: Callable[[JobContext], None]
    trigger: str
    trigger_args: dict[str, Any] | Callable[[Settings], dict[str, Any]]
    description: str = ""

    def resolved_trigger_args(self, settings: Settings) -> dict[str, Any]:
        args = self.trigger_args
        return dict(args(settings) if callable(args) else args)


def _prune_login_attempts(ctx: JobContext) -> None:
    from tracker.db import session_scope
    from tracker.services.maintenance import prune_login_attempts, prune_password_links

    with session_scope(ctx.session_factory) as session:
        prune_login_attempts(session, now=ctx.now())
        prune_password_links(session, now=ctx.now())


def _match_calls(ctx: JobContext) -> None:
    from tracker.db import session_scope
    from tracker.services.strategy import match_calls

    with session_scope(ctx.session_factory) as session:
        match_calls(session, None, now=ctx.now())


def _retrain_matching(ctx: JobContext) -> None:
    from tracker.db import session_scope
    from tracker.services.strategy import retrain

    with session_scope(ctx.session_factory) as session:
        retrain(session, now=ctx.now())


# Facet labels of the search API, kept for the life of the scheduler process.
_FACET_CACHE: Any = None


def _fetch_sources(ctx: JobContext) -> None:
    """Fetch every source whose schedule says it is due, or that an admin asked for ("fetch
    now"), and carry what they bring through matching to the inbox."""
    from decimal import Decimal

    from tracker.feeds.sedia import FacetCache
    from tracker.services.pipeline import run_pipeline
    from tracker.services.sources import due_sources, http_session

    global _FACET_CACHE
    if _FACET_CACHE is None:
        _FACET_CACHE = FacetCache()
    with ctx.session_factory() as session:
        due = [source.id for source in due_sources(session, now=ctx.now())]
    if not due:
        return
    with http_session(ctx.settings) as http:
        run_pipeline(
            ctx.session_factory,
            due,
            http=http,
            clock=ctx.now,
            in_zone=ctx.settings.tz,
            facet_cache=_FACET_CACHE,
            sek_per_eur=Decimal(str(ctx.settings.reports.sek_per_eur)),
            parallel=ctx.settings.fetch.parallel_sources,
        )


def _weekly_digest(ctx: JobContext) -> None:
    from tracker.services.digests import iso_week, send_weekly_digests
    from tracker.services.mailer import SmtpMailer

    if not ctx.settings.digest.enabled:
        return
    with SmtpMailer(ctx.settings.mail) as mailer:
        send_weekly_digests(
            ctx.session_factory,
            ctx.settings,
            mailer,
            now=ctx.now(),
            week=iso_week(ctx.scheduled_for, ctx.settings.tz),
        )


def _digest_retry(ctx: JobContext) -> None:
    from tracker.services.digests import retry_due_digests
    from tracker.services.mailer import SmtpMailer

    if not ctx.settings.digest.enabled:
        return
    with SmtpMailer(ctx.settings.mail) as mailer:
        retry_due_digests(ctx.session_factory, ctx.settings, mailer, now=ctx.now())


JOBS: list[JobSpec] = [
    JobSpec(
        name="prune-login-attempts",
        run=_prune_login_attempts,
        trigger="cron",
        trigger_args={"hour": 3, "minute": 17},
        description="Forget failed logins older than a day and password links a month "
        "after they were used or expired.",
    ),
    JobSpec(
        name="match-calls",
        run=_match_calls,
        trigger="interval",
        trigger_args={"minutes": 15},
        description="Match calls left to match (after retraining); fetches, imports and "
        "profile edits match their calls themselves.",
    ),
    JobSpec(
        name="retrain-matching",
        run=_retrain_matching,
        trigger="cron",
        trigger_args={"hour": 2, "minute": 40},
        description="Retrain the matching model on staff decisions made since the last one.",
    ),
    JobSpec(
        name=FETCH_JOB,
        run=_fetch_sources,
        trigger="interval",
        trigger_args={"minutes": 5},
        description="Fetch the sources that are due (each has its own schedule) or requested.",
    ),
    JobSpec(
        name="weekly-digest",
        run=_weekly_digest,
        trigger="cron",
        trigger_args=lambda settings: cron_trigger_args(settings.digest.cron),
        description="Send each subscriber this week's digest ([digest] cron).",
    ),
    JobSpec(
        name="digest-retry",
        run=_digest_retry,
        trigger="interval",
        trigger_args=lambda settings: {"seconds": parse_interval(settings.digest.retry_every)},
        description="Retry digests that met a temporary SMTP failure.",
    ),
]

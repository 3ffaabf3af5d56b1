"""Sources of calls: adding, editing, disabling, asking for a fetch, and their health."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.config import Settings, parse_interval
from tracker.errors import NotFound, ValidationFailed
from tracker.feeds.http import FetchPolicy, TrackerSession, build_session
from tracker.feeds.registry import adapter_for, settings_errors, unmasked_settings
from tracker.i18n import Message, msg
from tracker.models import (
    CallSourceLink,
    FetchRun,
    FetchStatus,
    QuarantinedItem,
    Source,
    SourceKind,
    User,
)
from tracker.services.audit import record_event

__all__ = [
    "SourceHealth",
    "add_source",
    "due_sources",
    "get_source",
    "get_source_by_name",
    "http_session",
    "list_sources",
    "note_fetch_now",
    "request_fetch",
    "set_source_enabled",
    "source_health",
    "update_source",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,99}$")


def http_session(settings: Settings) -> TrackerSession:
    """The one HTTP session for fetching, with the limits from ``[fetch]``."""
    return build_session(
        FetchPolicy(
            connect_timeout=settings.fetch.connect_timeout_seconds,
            read_timeout=settings.fetch.read_timeout_seconds,
            max_bytes=settings.fetch.max_response_bytes,
            max_retries=settings.fetch.max_retries,
            user_agent=settings.fetch.user_agent,
            total_timeout=settings.fetch.total_timeout_seconds,
            min_bytes_per_read_timeout=settings.fetch.min_bytes_per_read_timeout,
            run_timeout=settings.fetch.run_timeout_seconds,
            max_requests_per_run=settings.fetch.max_requests_per_run,
            max_bytes_per_run=settings.fetch.max_bytes_per_run,
            max_items_per_run=settings.fetch.max_items_per_run,
            allow_private_addresses=settings.fetch.allow_private_addresses,
            allow_local_folders=settings.fetch.allow_local_folders,
        )
    )


def list_sources(session: Session) -> list[Source]:
    return list(session.scalars(select(Source).order_by(Source.name)))


def get_source(session: Session, source_id: int) -> Source:
    source = session.get(Source, source_id)
    if source is None:
        raise NotFound(msg("no source with id %(id)s", id=source_id))
    return source


def get_source_by_name(session: Session, name: str) -> Source:
    source = session.scalar(select(Source).where(Source.name == name))
    if source is None:
        raise NotFound(msg("no source named %(name)s", name=name))
    return source


def _validate(
    session: Session,
    *,
    name: str,
    kind: str,
    url: str,
    every: str,
    settings: Mapping[str, Any],
    source_id: int | None = None,
) -> tuple[SourceKind, dict[str, Message]]:
    errors: dict[str, Message] = {}
    if not _NAME.match(name):
        errors["name"] = msg(
            "A name is 1 to 100 letters, digits, dots, dashes, underscores or spaces."
        )
    else:
        clash = session.scalar(select(Source.id).where(Source.name == name))
        if clash is not None and clash != source_id:
            errors["name"] = msg("A source named %(name)s already exists.", name=name)
    try:
        source_kind = SourceKind(kind)
    except ValueError:
        errors["kind"] = msg("Choose a kind of source.")
        source_kind = SourceKind.MANUAL
    needs_url = adapter_for(source_kind).needs_url or url
    if needs_url and not url.startswith(("http://", "https://", "file://")):
        errors["url"] = msg("The address must start with http://, https:// or file://.")
    try:
        parse_interval(every)
    except ValueError:
        errors["every"] = msg("Give an interval such as 30m, 6h or 1d.")
    if "kind" not in errors:
        problems = settings_errors(source_kind, settings)
        if problems:
            errors["settings"] = msg("Settings: %(problems)s", problems="; ".join(problems))
    return source_kind, errors


def add_source(
    session: Session,
    name: str,
    *,
    kind: str,
    url: str,
    every: str = "24h",
    settings: Mapping[str, Any] | None = None,
    enabled: bool = True,
    actor: User | None,
    now: datetime,
) -> Source:
    """Create a source; raises ValidationFailed naming each bad field."""
    name, url, every = name.strip(), url.strip(), every.strip().lower()
    settings = dict(settings or {})
    source_kind, errors = _validate(
        session, name=name, kind=kind, url=url, every=every, settings=settings
    )
    if errors:
        raise ValidationFailed(msg("The source was not saved."), errors)
    source = Source(
        name=name,
        kind=source_kind,
        url=url,
        every=every,
        is_enabled=enabled,
        settings=settings,
        created_at=now,
    )
    session.add(source)
    session.flush()
    record_event(
        session,
        "source.add",
        "source",
        source.id,
        actor=actor,
        now=now,
        details={"name": name, "kind": source_kind.value, "url": url, "every": every},
    )
    return source


def update_source(
    session: Session,
    source: Source,
    *,
    name: str,
    url: str,
    every: str,
    settings: Mapping[str, Any],
    enabled: bool,
    actor: User | None,
    now: datetime,
) -> Source:
    """Change a source's name, address, schedule, settings or state.

    A secret setting given as the mask the forms show (``SECRET_MASK``) keeps its value.
    """
    name, url, every = name.strip(), url.strip(), every.strip().lower()
    settings = unmasked_settings(settings, source.settings or {}, source.kind)
    _, errors = _validate(
        session,
        name=name,
        kind=source.kind.value,
        url=url,
        every=every,
        settings=settings,
        source_id=source.id,
    )
    if errors:
        raise ValidationFailed(msg("The source was not saved."), errors)
    before = {"name": source.name, "url": source.url, "every": source.every}
    if url != source.url:
        # A new address is a new conversation: forget the old validators.
        source.etag = source.last_modified = None
    source.name, source.url, source.every = name, url, every
    source.settings = dict(settings)
    source.is_enabled = enabled
    session.flush()
    record_event(
        session,
        "source.edit",
        "source",
        source.id,
        actor=actor,
        now=now,
        details={"before": before, "after": {"name": name, "url": url, "every": every}},
    )
    return source


def set_source_enabled(
    session: Session, source: Source, enabled: bool, *, actor: User | None, now: datetime
) -> Source:
    """Disable (or enable again) a source; its calls stay."""
    if source.is_enabled != enabled:
        source.is_enabled = enabled
        if not enabled:
            source.fetch_requested_at = None
        session.flush()
        record_event(
            session,
            "source.enable" if enabled else "source.disable",
            "source",
            source.id,
            actor=actor,
            now=now,
        )
    return source


def note_fetch_now(session: Session, source: Source, *, actor: User | None, now: datetime) -> None:
    """Check that ``source`` may be fetched now and record who asked (the caller starts it)."""
    if not source.is_enabled:
        raise ValidationFailed(msg("A disabled source is not fetched."))
    record_event(session, "source.fetch", "source", source.id, actor=actor, now=now)
    session.flush()


def request_fetch(session: Session, source: Source, *, actor: User | None, now: datetime) -> None:
    """Ask the fetch job to fetch `source` on its next tick."""
    if not source.is_enabled:
        raise ValidationFailed(msg("A disabled source is not fetched."))
    source.fetch_requested_at = now
    session.flush()
    record_event(session, "source.fetch", "source", source.id, actor=actor, now=now)


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """How a source is doing, for the sources page and ``tracker sources list``."""

    source: Source
    last_run: FetchRun | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    next_run_at: datetime | None
    call_count: int
    quarantined_count: int

    @property
    def is_failing(self) -> bool:
        return self.last_run is not None and self.last_run.status is FetchStatus.FAILED

    @property
    def last_warnings(self) -> tuple[str, ...]:
        """What the latest run warned about (items left out past the cap, a listing cut
        short): it succeeded, but the admin should know."""
        return tuple(self.last_run.warnings or ()) if self.last_run is not None else ()


def _next_run(source: Source, last_started: datetime | None) -> datetime | None:
    if not source.is_enabled:
        return None
    if source.fetch_requested_at is not None:
        return source.fetch_requested_at
    if last_started is None:
        return source.created_at
    return last_started + timedelta(seconds=parse_interval(source.every))


def source_health(session: Session, *, now: datetime) -> list[SourceHealth]:
    """Every source with its last run, last success, last error and next run."""
    sources = list_sources(session)
    latest = {
        run.source_id: run
        for run in session.scalars(
            select(FetchRun).where(
                FetchRun.id.in_(select(func.max(FetchRun.id)).group_by(FetchRun.source_id))
            )
        )
    }
    success = {
        source_id: at
        for source_id, at in session.execute(
            select(FetchRun.source_id, func.max(FetchRun.started_at))
            .where(FetchRun.status.in_([FetchStatus.SUCCEEDED, FetchStatus.NOT_MODIFIED]))
            .group_by(FetchRun.source_id)
        )
    }
    failures = {
        run.source_id: run
        for run in session.scalars(
            select(FetchRun).where(
                FetchRun.id.in_(
                    select(func.max(FetchRun.id))
                    .where(FetchRun.status == FetchStatus.FAILED)
                    .group_by(FetchRun.source_id)
                )
            )
        )
    }
    calls = {
        source_id: count
        for source_id, count in session.execute(
            select(CallSourceLink.source_id, func.count())
            .where(CallSourceLink.withdrawn_at.is_(None))
            .group_by(CallSourceLink.source_id)
        )
    }
    quarantined = {
        source_id: count
        for source_id, count in session.execute(
            select(QuarantinedItem.source_id, func.count()).group_by(QuarantinedItem.source_id)
        )
    }
    health = []
    for source in sources:
        last = latest.get(source.id)
        failure = failures.get(source.id)
        health.append(
            SourceHealth(
                source=source,
                last_run=last,
                last_success_at=success.get(source.id),
                last_error=failure.error if failure else None,
                last_error_at=failure.started_at if failure else None,
                next_run_at=_next_run(source, last.started_at if last else None),
                call_count=calls.get(source.id, 0),
                quarantined_count=quarantined.get(source.id, 0),
            )
        )
    return health


def due_sources(session: Session, *, now: datetime) -> list[Source]:
    """Enabled sources whose next run is due (or that an admin asked to fetch)."""
    return [
        h.source
        for h in source_health(session, now=now)
        if h.next_run_at is not None and h.next_run_at <= now
    ]

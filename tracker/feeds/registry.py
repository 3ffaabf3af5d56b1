"""Pick the adapter for a source and call it with the source's settings.

The ingest service knows sources as database rows; here a source is a plain
`SourceSpec`, so this module (like every adapter) needs no database.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import requests

from tracker.feeds.http import FetchPolicy, TrackerSession, source_run
from tracker.feeds.records import FeedItem, FetchResult, Quarantined, SourceKind, capped_warning

if TYPE_CHECKING:
    from tracker.feeds.interreg import KnownCall
    from tracker.feeds.sedia import FacetCache

log = logging.getLogger(__name__)

__all__ = [
    "REQUIRED_SETTINGS",
    "SECRET_MASK",
    "SECRET_SETTINGS",
    "SETTINGS",
    "SourceSpec",
    "fetch_source",
    "masked_settings",
    "settings_errors",
    "unmasked_settings",
]

# Settings each kind understands (stored as JSON on the source).
SETTINGS: dict[SourceKind, dict[str, type | tuple[type, ...]]] = {
    SourceKind.FT_SEARCH: {
        "page_size": int,
        "languages": list,
        "facet_url": str,
        "types": list,
        "statuses": list,
    },
    SourceKind.FT_BULK: {"max_bytes": int},
    SourceKind.RSS: {"programme": str, "complete": bool},
    SourceKind.VINNOVA: {"since": str, "overlap_days": int},
    SourceKind.MANUAL: {},
    SourceKind.INTERREG: {
        "app_id": str,
        "index": str,
        "api_key": str,
        "hits_per_page": int,
        "pause_seconds": (int, float),
        "read_pages": bool,
        "page_max_bytes": int,
    },
}
REQUIRED_SETTINGS: dict[SourceKind, tuple[str, ...]] = {
    SourceKind.INTERREG: ("app_id", "index", "api_key"),
}
# Settings that are credentials: never shown in the UI or the CLI, never logged.
SECRET_SETTINGS = frozenset({"api_key"})
SECRET_MASK = "********"
# Re-read a little before the last success: a round changed during that run
# could otherwise be missed.
VINNOVA_OVERLAP = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """What the adapters need to know about a configured source."""

    kind: SourceKind
    url: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    last_success_at: datetime | None = None
    # What earlier runs stored per external id (interreg: to skip unchanged pages).
    known: Mapping[str, KnownCall] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"SourceSpec(kind={self.kind.value!r}, url={self.url!r}, "
            f"settings={masked_settings(self.settings)!r})"
        )


def masked_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """`settings` with every secret value replaced by a mask, for showing."""
    return {k: (SECRET_MASK if k in SECRET_SETTINGS and v else v) for k, v in settings.items()}


def unmasked_settings(new: Mapping[str, Any], stored: Mapping[str, Any]) -> dict[str, Any]:
    """Settings from a form that showed masked values: a mask left as is keeps the secret."""
    return {
        k: (stored.get(k) if k in SECRET_SETTINGS and v == SECRET_MASK else v)
        for k, v in new.items()
    }


def settings_errors(kind: SourceKind, settings: Mapping[str, Any]) -> list[str]:
    """Problems with a source's settings (unknown keys, wrong types); empty if fine."""
    known = SETTINGS[kind]
    problems: list[str] = []
    for key, value in settings.items():
        expected = known.get(key)
        if expected is None:
            problems.append(f"unknown setting {key!r} for a {kind.value} source")
        elif not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            problems.append(f"setting {key!r} has the wrong type")
    for key in REQUIRED_SETTINGS.get(kind, ()):
        if not settings.get(key):
            problems.append(f"setting {key!r} is required for a {kind.value} source")
    since = settings.get("since")
    if isinstance(since, str):
        try:
            date.fromisoformat(since)
        except ValueError:
            problems.append("setting 'since' must be a date (YYYY-MM-DD)")
    return problems


def fetch_source(
    session: requests.Session,
    spec: SourceSpec,
    *,
    now: datetime,
    facet_cache: FacetCache | None = None,
    in_zone: ZoneInfo | None = None,
) -> FetchResult:
    """Fetch one source with its adapter. Raises `FetchError` if the source fails.

    `in_zone` is the configured zone: sheets typed by staff give times in it. The whole
    run shares one budget of requests, bytes and time (`source_run`), and yields at most
    the policy's ``max_items_per_run`` items: of a source that sends more, the first
    ones are kept, the result is marked incomplete (so nothing is withdrawn because of
    the calls left out) and a warning says so.
    """
    problems = settings_errors(spec.kind, spec.settings)
    if problems:
        raise ValueError("; ".join(problems))
    policy = session.policy if isinstance(session, TrackerSession) else FetchPolicy()
    with source_run(session):
        result = _fetch_with_adapter(
            session, spec, now=now, facet_cache=facet_cache, in_zone=in_zone
        )
    result.items = _capped(result, result.items, policy.max_items_per_run, spec.url)
    return result


def _capped(
    result: FetchResult, items: Iterable[FeedItem], limit: int, url: str
) -> Iterator[FeedItem]:
    """The first `limit` of `items`; past them, `result` is marked incomplete."""
    for count, item in enumerate(items, start=1):
        if count > limit:
            result.complete = False
            warning = capped_warning(limit)
            if warning not in result.warnings:
                result.warnings.append(warning)
            log.warning("%s: more than %d items; the first %d were kept", url, limit, limit)
            return
        yield _storable(item)


_MAX_DEPTH = 64


class _TooDeep(Exception):
    pass


def _storable(item: FeedItem) -> FeedItem:
    """The item with NUL characters removed (no database stores them in text), or, when
    it nests deeper than any call does, the item quarantined: one odd item never fails
    the run that brought it."""
    try:
        return _scrub(item, 0)  # type: ignore[no-any-return]
    except (_TooDeep, RecursionError):
        external_id = getattr(item, "external_id", None)
        return Quarantined(
            raw={"unreadable": f"nested deeper than {_MAX_DEPTH} levels"},
            reason=f"item nested deeper than {_MAX_DEPTH} levels",
            external_id=_scrub(external_id, 0) if isinstance(external_id, str) else None,
        )


def _scrub(value: Any, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        raise _TooDeep
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        return {_scrub(k, depth + 1): _scrub(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        scrubbed = [_scrub(v, depth + 1) for v in value]
        return tuple(scrubbed) if isinstance(value, tuple) else scrubbed
    if is_dataclass(value) and not isinstance(value, type):
        changed = {}
        for spec in fields(value):
            if not spec.init:
                continue
            old = getattr(value, spec.name)
            new = _scrub(old, depth + 1)
            if new is not old:
                changed[spec.name] = new
        return replace(value, **changed) if changed else value
    return value


def _fetch_with_adapter(
    session: requests.Session,
    spec: SourceSpec,
    *,
    now: datetime,
    facet_cache: FacetCache | None,
    in_zone: ZoneInfo | None,
) -> FetchResult:
    # Adapters are imported when used, so that reading settings stays cheap.
    settings = spec.settings
    if spec.kind is SourceKind.FT_SEARCH:
        from tracker.feeds.sedia import CALL_TYPES, CURRENT_STATUSES, SearchQuery, fetch_sedia

        query = SearchQuery(
            types=tuple(str(t) for t in settings.get("types", CALL_TYPES)),
            statuses=tuple(str(s) for s in settings.get("statuses", CURRENT_STATUSES)),
            languages=tuple(str(x) for x in settings.get("languages", ("en",))),
        )
        return fetch_sedia(
            session,
            spec.url,
            now=now,
            query=query,
            page_size=int(settings.get("page_size", 100)),
            facet_url=settings.get("facet_url"),
            facet_cache=facet_cache,
        )
    if spec.kind is SourceKind.FT_BULK:
        from tracker.feeds.bulk import fetch_bulk

        kwargs: dict[str, Any] = {}
        if "max_bytes" in settings:
            kwargs["max_bytes"] = int(settings["max_bytes"])
        return fetch_bulk(
            session, spec.url, etag=spec.etag, last_modified=spec.last_modified, **kwargs
        )
    if spec.kind is SourceKind.RSS:
        from tracker.feeds.rss import fetch_rss

        return fetch_rss(
            session,
            spec.url,
            etag=spec.etag,
            last_modified=spec.last_modified,
            programme=settings.get("programme"),
            complete=bool(settings.get("complete", False)),
        )
    if spec.kind is SourceKind.VINNOVA:
        from tracker.feeds.vinnova import fetch_vinnova

        since: date | None = None
        if settings.get("since"):
            since = date.fromisoformat(str(settings["since"]))
        elif spec.last_success_at is not None:
            overlap = timedelta(days=int(settings.get("overlap_days", VINNOVA_OVERLAP.days)))
            since = (spec.last_success_at - overlap).date()
        return fetch_vinnova(session, spec.url, now=now, since=since)
    if spec.kind is SourceKind.INTERREG:
        from tracker.feeds.interreg import DEFAULT_PAUSE_SECONDS, fetch_interreg

        options: dict[str, Any] = {}
        for key in ("hits_per_page", "page_max_bytes"):
            if key in settings:
                options[key] = int(settings[key])
        return fetch_interreg(
            session,
            spec.url,
            app_id=str(settings["app_id"]),
            index=str(settings["index"]),
            api_key=str(settings["api_key"]),
            pause_seconds=float(settings.get("pause_seconds", DEFAULT_PAUSE_SECONDS)),
            read_pages=bool(settings.get("read_pages", True)),
            etag=spec.etag,
            known=spec.known,
            **options,
        )
    if spec.kind is SourceKind.MANUAL:
        from tracker.feeds.manual import fetch_manual

        return fetch_manual(
            session,
            spec.url,
            etag=spec.etag,
            last_modified=spec.last_modified,
            in_zone=in_zone,
        )
    raise ValueError(f"no adapter for source kind {spec.kind!r}")  # pragma: no cover

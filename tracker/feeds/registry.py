"""The table of feed adapters, one per source kind, and the calls that go through it.

The ingest service knows sources as database rows; here a source is a plain
`SourceSpec`, so this module (like every adapter) needs no database. Each adapter
(``tracker.feeds.adapter.FeedAdapter``) lives in its own module; ``ADAPTERS`` is the one
place that names them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import fields, is_dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import requests

from tracker.feeds import bulk, interreg, manual, rss, sedia, vinnova
from tracker.feeds.adapter import FeedAdapter, FetchContext, SourceSpec
from tracker.feeds.http import FetchPolicy, TrackerSession, source_run
from tracker.feeds.records import FeedItem, FetchResult, Quarantined, SourceKind, capped_warning
from tracker.feeds.sedia import FacetCache

log = logging.getLogger(__name__)

__all__ = [
    "ADAPTERS",
    "SECRET_MASK",
    "SourceSpec",
    "adapter_for",
    "fetch_source",
    "masked_settings",
    "settings_errors",
    "unmasked_settings",
]

# One row per kind of source. The order is the one the sources form offers them in.
ADAPTERS: dict[SourceKind, FeedAdapter] = {
    adapter.kind: adapter
    for adapter in (
        sedia.ADAPTER,
        bulk.ADAPTER,
        rss.ADAPTER,
        vinnova.ADAPTER,
        interreg.ADAPTER,
        manual.ADAPTER,
    )
}

# What the forms and the CLI show instead of a secret setting's value.
SECRET_MASK = "********"


def adapter_for(kind: SourceKind | str) -> FeedAdapter:
    """The adapter of a source kind (``ValueError`` for a kind no adapter reads)."""
    adapter = ADAPTERS.get(SourceKind(kind))
    if adapter is None:  # pragma: no cover - every kind has its row (tests/feeds/test_registry)
        raise ValueError(f"no adapter for source kind {kind!r}")
    return adapter


def masked_settings(settings: Mapping[str, Any], kind: SourceKind | str) -> dict[str, Any]:
    """`settings` of a `kind` source with every secret value masked, for showing."""
    secrets = adapter_for(kind).secrets
    return {k: (SECRET_MASK if k in secrets and v else v) for k, v in settings.items()}


def unmasked_settings(
    new: Mapping[str, Any], stored: Mapping[str, Any], kind: SourceKind | str
) -> dict[str, Any]:
    """Settings from a form that showed masked values: a mask left as is keeps the secret."""
    secrets = adapter_for(kind).secrets
    return {k: (stored.get(k) if k in secrets and v == SECRET_MASK else v) for k, v in new.items()}


def settings_errors(kind: SourceKind, settings: Mapping[str, Any]) -> list[str]:
    """Problems with a source's settings (unknown keys, wrong types); empty if fine."""
    adapter = adapter_for(kind)
    problems: list[str] = []
    for key, value in settings.items():
        expected = adapter.settings.get(key)
        if expected is None:
            problems.append(f"unknown setting {key!r} for a {kind.value} source")
        elif not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            problems.append(f"setting {key!r} has the wrong type")
    for key in adapter.required:
        if not settings.get(key):
            problems.append(f"setting {key!r} is required for a {kind.value} source")
    return problems + adapter.check(settings)


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
    context = FetchContext(now=now, policy=policy, in_zone=in_zone, facet_cache=facet_cache)
    with source_run(session):
        result = adapter_for(spec.kind).fetch(session, spec, context)
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

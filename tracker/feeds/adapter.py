"""The one shape every feed adapter has (indico/newdle's providers are the model).

An adapter is a small object in its own module (``tracker.feeds.rss.ADAPTER``): the source
kind it reads, the settings it understands (which are required, which are secrets), its
rank when sources disagree, and one ``fetch(session, spec, context)``. The table
``tracker.feeds.registry.ADAPTERS`` picks one by kind, so adding a kind of source is one
module and one row there (and the kind in ``tracker.calltime.SourceKind``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import requests

from tracker.calltime import SourceKind
from tracker.feeds.http import FetchPolicy
from tracker.feeds.records import FetchResult
from tracker.i18n import Message

__all__ = [
    "FeedAdapter",
    "FetchContext",
    "KnownCall",
    "SettingTypes",
    "SourceAdapter",
    "SourceSpec",
]

# Setting name -> the type(s) its JSON value must have.
SettingTypes = Mapping[str, type | tuple[type, ...]]


@dataclass(frozen=True, slots=True)
class KnownCall:
    """What an earlier run stored for an entry: enough to skip re-reading its page."""

    url: str | None
    source_version: str | None
    description_html: str | None


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """What the adapters need to know about a configured source (no database row)."""

    kind: SourceKind
    url: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    last_success_at: datetime | None = None
    # What earlier runs stored per external id (for adapters with `remembers_calls`).
    known: Mapping[str, KnownCall] = field(default_factory=dict)

    def __repr__(self) -> str:
        # Setting names only: a value may be a credential (the interreg key).
        return (
            f"SourceSpec(kind={self.kind.value!r}, url={self.url!r}, "
            f"settings=<{', '.join(sorted(self.settings))}>)"
        )


@dataclass(frozen=True, slots=True)
class FetchContext:
    """What one run gives every adapter besides the source: the moment it started, the
    fetch limits, the configured zone (sheets typed by staff give times in it) and the
    search API's cache of programme labels, shared between runs (a
    ``tracker.feeds.sedia.FacetCache``; typed loosely so that this module, which every
    adapter imports, imports none of them)."""

    now: datetime
    policy: FetchPolicy
    in_zone: ZoneInfo | None = None
    facet_cache: object | None = None


class FeedAdapter(Protocol):
    """A kind of source: what it is called, what it needs, how it is fetched."""

    @property
    def kind(self) -> SourceKind: ...

    @property
    def label(self) -> Message:
        """Its name in the sources form (``msg``, shown in the reader's language)."""
        ...

    @property
    def settings(self) -> SettingTypes:
        """The settings it understands; any other key is an error."""
        ...

    @property
    def required(self) -> tuple[str, ...]: ...

    @property
    def secrets(self) -> frozenset[str]:
        """Settings that are credentials: masked in the UI and the CLI, never logged."""
        ...

    @property
    def priority(self) -> int:
        """Whose word counts when sources describe one call differently (lower first)."""
        ...

    @property
    def needs_url(self) -> bool: ...

    @property
    def scheduled(self) -> bool:
        """Whether it is fetched on a schedule (and so can go stale)."""
        ...

    @property
    def remembers_calls(self) -> bool:
        """Whether it wants `SourceSpec.known`, what earlier runs stored per entry."""
        ...

    def check(self, settings: Mapping[str, Any]) -> list[str]:
        """Problems with setting values beyond their types; empty if fine."""
        ...

    def fetch(
        self, session: requests.Session, spec: SourceSpec, context: FetchContext
    ) -> FetchResult:
        """Download and parse the source. Raises `FetchError` if it cannot be read."""
        ...


def _no_problems(settings: Mapping[str, Any]) -> list[str]:
    return []


@dataclass(frozen=True, slots=True)
class SourceAdapter:
    """The usual `FeedAdapter`: its facts as data and its fetch as a function."""

    kind: SourceKind
    label: Message
    fetcher: Callable[[requests.Session, SourceSpec, FetchContext], FetchResult]
    settings: SettingTypes = field(default_factory=dict)
    required: tuple[str, ...] = ()
    secrets: frozenset[str] = frozenset()
    priority: int = 9
    needs_url: bool = True
    scheduled: bool = True
    remembers_calls: bool = False
    checker: Callable[[Mapping[str, Any]], list[str]] = _no_problems

    def check(self, settings: Mapping[str, Any]) -> list[str]:
        return self.checker(settings)

    def fetch(
        self, session: requests.Session, spec: SourceSpec, context: FetchContext
    ) -> FetchResult:
        return self.fetcher(session, spec, context)

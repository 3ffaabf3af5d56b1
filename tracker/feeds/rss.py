"""`rss`: any RSS 2.0 or Atom feed (Interreg programmes, agencies, WordPress sites).

The feed is downloaded with the shared session (timeouts, size cap,
conditional request) and the bytes are handed to ``feedparser.parse``;
``feedparser.parse(url)`` is never used because it has neither.

Items are keyed on their guid, else their link. A guid is meant to be unique
within a feed; when a feed repeats one guid for different links (it happens
when a feed uses a parent identifier as guid), those items are keyed on their
link instead. Feeds show a window of recent items, so an item that drops out
is not a withdrawn call: results are incomplete unless the source says
otherwise (``complete=True``).

Feeds rarely carry structured deadlines; a date labelled as a deadline in the
item text ("Deadline: 30 September 2026", "Sista ansökningsdag 2026-09-30")
is used, with a warning saying where it came from.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import feedparser
import requests

from tracker.calltime import day_moment
from tracker.feeds.adapter import FetchContext, SourceAdapter, SourceSpec
from tracker.feeds.errors import BadPayload
from tracker.feeds.http import fetch
from tracker.feeds.records import (
    CallRecord,
    Deadline,
    DeadlineModel,
    FeedItem,
    FetchResult,
    Quarantined,
    SourceKind,
    html_to_text,
    identifier_from_url,
)
from tracker.i18n import msg

__all__ = ["fetch_rss", "find_deadline", "parse_feed"]

log = logging.getLogger(__name__)

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "januari", "jan"),
            ("february", "februari", "feb"),
            ("march", "mars", "mar"),
            ("april", "apr"),
            ("may", "maj"),
            ("june", "juni", "jun"),
            ("july", "juli", "jul"),
            ("august", "augusti", "aug"),
            ("september", "sep", "sept"),
            ("october", "oktober", "oct", "okt"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_DEADLINE_LABEL = (
    r"(?:deadline|closing date|closes|submission deadline|apply by|"
    r"sista ansökningsdag(?:en)?|sista dag att ansöka|ansök senast|stänger|stängningsdatum)"
)
_ISO_AFTER_LABEL = re.compile(
    _DEADLINE_LABEL + r"\W{0,5}(?:\w+\W+){0,3}?(\d{4})-(\d{2})-(\d{2})", re.IGNORECASE
)
_WORDS_AFTER_LABEL = re.compile(
    _DEADLINE_LABEL
    + r"\W{0,5}(?:\w+\W+){0,3}?(\d{1,2})(?:st|nd|rd|th)?\.?\s+([A-Za-zåäö]+)\.?,?\s+(\d{4})",
    re.IGNORECASE,
)


def find_deadline(text: str) -> date | None:
    """A date the text labels as the deadline (English or Swedish), if any."""
    match = _ISO_AFTER_LABEL.search(text)
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            return None
    match = _WORDS_AFTER_LABEL.search(text)
    if match:
        month = _MONTHS.get(match[2].lower())
        if month:
            try:
                return date(int(match[3]), month, int(match[1]))
            except ValueError:
                return None
    return None


def fetch_rss(
    session: requests.Session,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    programme: str | None = None,
    complete: bool = False,
) -> FetchResult:
    """Download a feed (conditionally) and parse it; see `parse_feed`."""
    response = fetch(session, url, etag=etag, last_modified=last_modified)
    if response.not_modified:
        return FetchResult(not_modified=True, etag=etag, last_modified=last_modified)
    result = parse_feed(
        response.content,
        feed_url=response.url,
        content_type=response.headers.get("content-type"),
        programme=programme,
        complete=complete,
    )
    result.etag = response.etag
    result.last_modified = response.last_modified
    return result


def parse_feed(
    content: bytes,
    *,
    feed_url: str | None = None,
    content_type: str | None = None,
    programme: str | None = None,
    complete: bool = False,
) -> FetchResult:
    """Parse RSS/Atom bytes into records. Raises `BadPayload` if it is not a feed."""
    # Without a content type feedparser flags every feed as malformed; the XML
    # declaration still decides the encoding.
    headers = {
        "content-location": feed_url or "",
        "content-type": content_type or "application/xml",
    }
    parsed = feedparser.parse(
        content, response_headers=headers, sanitize_html=False, resolve_relative_uris=True
    )
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception") or "no RSS or Atom root element"
        raise BadPayload(f"not an RSS or Atom feed: {reason}", url=feed_url)
    warnings: list[str] = []
    if parsed.get("bozo"):
        warnings.append(f"feed is not well-formed, read leniently: {parsed.get('bozo_exception')}")

    feed_language = _language(parsed.feed.get("language"))
    keys = _item_keys(parsed.entries)
    rekeyed = sum(
        1
        for entry, key in zip(parsed.entries, keys, strict=True)
        if _text(entry.get("id")) not in (None, key)
    )
    if rekeyed:
        warnings.append(
            f"{rekeyed} item(s) share their guid with a different item and are keyed on "
            "their link (or their title where the link is shared too)"
        )

    items: list[FeedItem] = []
    seen: set[str] = set()
    skipped = 0
    for entry, key in zip(parsed.entries, keys, strict=True):
        item = _entry_record(entry, key, feed_language, programme)
        if isinstance(item, CallRecord):
            if item.external_id in seen:
                skipped += 1
                continue
            seen.add(item.external_id)
        items.append(item)
    counts = Counter(type(i).__name__ for i in items)
    log.debug("feed %s: %s", feed_url, dict(counts))
    return FetchResult(items=items, complete=complete, warnings=warnings, skipped=skipped)


def _item_keys(entries: list[Any]) -> list[str | None]:
    """The key of each item: guid, else link, else guid/link plus title.

    A candidate is used when no *different* item (other title or link) has
    the same value; exact repeats share a key and are dropped later.
    """

    def candidates(entry: Mapping[str, Any]) -> list[str | None]:
        guid, link = _text(entry.get("id")), _text(entry.get("link"))
        title = html_to_text(_text(entry.get("title")))
        base = guid or link
        return [guid, link, f"{base} | {title}" if base and title else None]

    identities = [(_text(e.get("title")), _text(e.get("link"))) for e in entries]
    options = [candidates(e) for e in entries]
    owners: list[dict[str, set[tuple[str | None, str | None]]]] = [{}, {}, {}]
    for identity, values in zip(identities, options, strict=True):
        for level, value in enumerate(values):
            if value:
                owners[level].setdefault(value, set()).add(identity)
    keys: list[str | None] = []
    for values in options:
        chosen = next(
            (v for level, v in enumerate(values) if v and len(owners[level][v]) == 1),
            values[2] or values[1] or values[0],
        )
        keys.append(chosen)
    return keys


def _entry_record(
    entry: dict[str, Any], key: str | None, feed_language: str | None, programme: str | None
) -> FeedItem:
    raw = _raw(entry)
    link = _text(entry.get("link"))
    if not key:
        return Quarantined(raw=raw, reason="feed item has neither guid nor link")
    title = html_to_text(_text(entry.get("title")))
    if not title:
        return Quarantined(raw=raw, reason="feed item has no title", external_id=key)
    summary = _text(entry.get("summary"))
    content = entry.get("content")
    description = None
    if isinstance(content, list) and content and isinstance(content[0], Mapping):
        description = _text(content[0].get("value"))
    warnings: list[str] = []
    deadlines: tuple[Deadline, ...] = ()
    found = find_deadline(" ".join(html_to_text(t) for t in (summary, description) if t))
    if found:
        deadlines = (Deadline(at=day_moment(found), stage="deadline", date_only=True),)
        warnings.append("deadline read from the item text")
    tags = tuple(
        dict.fromkeys(
            " ".join(str(t.get("term")).split())
            for t in entry.get("tags") or []
            if isinstance(t, Mapping) and t.get("term")
        )
    )
    return CallRecord(
        source_kind=SourceKind.RSS,
        external_id=key,
        title=title,
        identifier=identifier_from_url(link),
        programme_label=programme,
        summary_html=summary,
        description_html=description,
        url=link,
        language=_language(entry.get("language")) or feed_language,
        # dict.get: feedparser's own get() maps "updated" to "published" with a warning
        published_at=_when(
            dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
        ),
        deadlines=deadlines,
        deadline_model=DeadlineModel.SINGLE_STAGE if deadlines else None,
        tags=tags,
        warnings=tuple(warnings),
        raw=raw,
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _language(value: Any) -> str | None:
    text = _text(value)
    return text.split("-")[0].split("_")[0].lower() if text else None


def _when(value: Any) -> datetime | None:
    """feedparser's parsed dates are UTC struct_times."""
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _raw(entry: dict[str, Any]) -> dict[str, Any]:
    """The item as JSON-ready data (feedparser objects hold struct_times)."""
    keep = ("id", "title", "link", "summary", "published", "updated", "author")
    raw: dict[str, Any] = {k: str(dict.get(entry, k)) for k in keep if dict.get(entry, k)}
    content = entry.get("content")
    if isinstance(content, list) and content:
        raw["content"] = [str(c.get("value", "")) for c in content if isinstance(c, Mapping)]
    if entry.get("tags"):
        raw["tags"] = [str(t.get("term")) for t in entry["tags"] if isinstance(t, Mapping)]
    return raw


def _fetch_spec(session: requests.Session, spec: SourceSpec, context: FetchContext) -> FetchResult:
    return fetch_rss(
        session,
        spec.url,
        etag=spec.etag,
        last_modified=spec.last_modified,
        programme=spec.settings.get("programme"),
        complete=bool(spec.settings.get("complete", False)),
    )


ADAPTER = SourceAdapter(
    kind=SourceKind.RSS,
    label=msg("RSS or Atom feed"),
    fetcher=_fetch_spec,
    settings={"programme": str, "complete": bool},
    priority=5,  # a feed says least about a call
)

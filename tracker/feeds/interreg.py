"""`interreg`: the calls of every Interreg programme, from interreg.eu's search index.

interreg.eu lists the open and coming calls of all Interreg programmes (fed by
keep.eu) through a public Algolia index. Its search page sends, from the
browser, ``POST https://<APP_ID>-dsn.algolia.net/1/indexes/<INDEX>/query``
(or the multi-index ``.../1/indexes/*/queries``) with the headers
``X-Algolia-Application-Id`` and ``X-Algolia-API-Key``. The source's URL is
that query endpoint (``{app_id}`` and ``{index}`` in it are filled in), so a
local copy can stand in; the application id, index name and public search key
are source settings. The key goes in a header, never in the URL, so it is in
no log line and no error message.

A response is either one result (``{"hits", "nbHits", "page", "nbPages"}``)
or the multi-query envelope ``{"results": [{...}]}``. Pages are requested
(``page=0..nbPages-1``) with a pause between them. Per hit:

* ``objectID`` ("callForProjectsPage_3129") keys the call; ``title``,
  ``associatedProgrammes`` (the programme), ``themes``/``callThemes``,
  ``targetAudience`` (who may apply), ``callStatus``, ``callOpenDate`` and
  ``callDeadlineDate`` (days written as midnight UTC);
* ``callExternalUrl`` is the programme's own call page: the official link, and
  how a call that also arrives through another source is recognised. Two
  calls of one programme may share that page;
* ``callEligibleCountryNuts`` / ``callEligibleRegionNuts`` list the eligible
  area as NUTS codes of mixed levels (the names beside them repeat, with
  stray spaces);
* there is no description: the programme's call page is read (bounded in
  size and time, sanitised, text only) when the call is new or its entry
  changed, and its main text becomes the description. When that fails the
  call is kept without one, with a warning saying it is matched on title,
  themes and programme only.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urljoin
from zoneinfo import ZoneInfo

import requests

from tracker.feeds.adapter import FetchContext, KnownCall, SourceAdapter, SourceSpec
from tracker.feeds.dates import given_as_day, parse_iso_utc
from tracker.feeds.errors import BadPayload, FetchError, HTTPStatusError
from tracker.feeds.http import TrackerSession, fetch
from tracker.feeds.records import (
    CallLink,
    CallRecord,
    DeadlineModel,
    EligibleArea,
    FeedItem,
    FetchResult,
    Quarantined,
    SourceKind,
    html_to_text,
    make_deadlines,
    sanitize_html,
    text_to_html,
)
from tracker.i18n import msg

__all__ = [
    "DEFAULT_PAUSE_SECONDS",
    "KeyRefused",
    "KnownCall",
    "fetch_interreg",
    "main_text",
    "parse_interreg",
    "query_url",
]

log = logging.getLogger(__name__)

SITE = "https://interreg.eu"
DEFAULT_HITS_PER_PAGE = 100
DEFAULT_PAUSE_SECONDS = 1.0
MAX_PAGES = 50
PAGE_MAX_BYTES = 1024 * 1024
PAGE_TIMEOUT_SECONDS = 20.0
DESCRIPTION_MAX_CHARS = 20_000
NO_PAGE_TEXT = "matched on title, themes and programme only"
# The index writes its dates in UTC.
INDEX_ZONE = ZoneInfo("UTC")
KEY_HELP = (
    "the public search key has probably been rotated. Open interreg.eu's calls search "
    "in a browser, find the request to *.algolia.net in the developer tools' Network tab, "
    "and copy its x-algolia-api-key (and application id and index, if they changed) "
    "into this source's settings"
)
_NUTS = re.compile(r"^[A-Z]{2}[A-Z0-9]{0,3}$")
_MAIN = re.compile(r"<(main|article)\b[^>]*>(.*)</\1\s*>", re.IGNORECASE | re.DOTALL)
_BODY = re.compile(r"<body\b[^>]*>(.*)</body\s*>", re.IGNORECASE | re.DOTALL)
_CHROME = re.compile(
    r"<(nav|header|footer|aside|form|script|style|noscript)\b[^>]*>.*?</\1\s*>",
    re.IGNORECASE | re.DOTALL,
)


class KeyRefused(FetchError):
    """The index refused the application id or search key (HTTP 401/403)."""


def query_url(url: str, *, app_id: str, index: str) -> str:
    """The configured URL with ``{app_id}`` and ``{index}`` filled in."""
    return url.replace("{app_id}", app_id.lower()).replace("{index}", index)


def fetch_interreg(
    session: requests.Session,
    url: str,
    *,
    app_id: str,
    index: str,
    api_key: str,
    hits_per_page: int = DEFAULT_HITS_PER_PAGE,
    pause_seconds: float = DEFAULT_PAUSE_SECONDS,
    etag: str | None = None,
    known: Mapping[str, KnownCall] | None = None,
    read_pages: bool = True,
    page_max_bytes: int = PAGE_MAX_BYTES,
) -> FetchResult:
    """Page through the calls index, then read the programmes' call pages.

    Raises `KeyRefused` when the index refuses the key, another `FetchError`
    when it cannot be read. `known` (by external id) lets unchanged calls keep
    the description read before instead of fetching their page again.
    """
    endpoint = query_url(url, app_id=app_id, index=index)
    headers = {
        "X-Algolia-Application-Id": app_id,
        "X-Algolia-API-Key": api_key,
        "Accept": "application/json",
        "Content-Type": "application/json",
    }
    pages: list[Any] = []
    first_etag: str | None = None
    number, total = 0, 1
    while number < min(total, MAX_PAGES):
        if number:
            _pause(session, pause_seconds)
        try:
            response = fetch(
                session,
                endpoint,
                method="POST",
                headers=headers,
                data=_query_body(endpoint, index, number, hits_per_page),
                etag=etag if number == 0 else None,
            )
        except HTTPStatusError as exc:
            if exc.status in (401, 403):
                raise KeyRefused(
                    f"interreg.eu's search index refused the key (HTTP {exc.status}): {KEY_HELP}",
                    url=endpoint,
                ) from None
            raise
        if response.not_modified:
            return FetchResult(not_modified=True, etag=etag)
        if number == 0:
            first_etag = response.etag
        page = _load(response.content, url=endpoint)
        pages.append(page)
        total = _int(_result(page).get("nbPages"), default=1)
        number += 1
    result = parse_interreg(pages)
    result.etag = first_etag
    if total > MAX_PAGES:
        result.complete = False
        result.warnings.append(f"the index has {total} pages; only the first {MAX_PAGES} were read")
    if read_pages:
        result.items = _with_page_texts(
            session,
            list(result.items),
            known or {},
            pause_seconds=pause_seconds,
            max_bytes=page_max_bytes,
        )
    return result


def _query_body(endpoint: str, index: str, page: int, hits_per_page: int) -> bytes:
    params = urlencode({"hitsPerPage": hits_per_page, "page": page, "query": ""})
    if endpoint.rstrip("/").endswith("/queries"):
        return json.dumps({"requests": [{"indexName": index, "params": params}]}).encode()
    return json.dumps({"params": params}).encode()


def _pause(session: requests.Session, seconds: float) -> None:
    if seconds <= 0:
        return
    sleep = session.sleep if isinstance(session, TrackerSession) else time.sleep
    sleep(seconds)


def _load(payload: bytes | Mapping[str, Any], *, url: str | None = None) -> Any:
    if isinstance(payload, Mapping):
        return payload
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadPayload(f"interreg.eu search response is not valid JSON: {exc}", url=url) from exc


def _result(page: Any) -> Mapping[str, Any]:
    """The one result of a page, whether it came alone or in a multi-query envelope."""
    if isinstance(page, Mapping):
        results = page.get("results")
        if isinstance(results, list) and results and isinstance(results[0], Mapping):
            return results[0]
        if isinstance(page.get("hits"), list):
            return page
    raise BadPayload("interreg.eu search response has no 'hits' list")


def _int(value: Any, *, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


# --- parsing -------------------------------------------------------------------------


def parse_interreg(pages: Iterable[bytes | Mapping[str, Any]]) -> FetchResult:
    """Turn search responses (bytes or decoded) into records; unreadable hits are quarantined.

    Pure: no network. The listing is the index's whole current list, so the
    result is complete.
    """
    items: list[FeedItem] = []
    seen: set[str] = set()
    skipped = 0
    for page in pages:
        hits = _result(_load(page)).get("hits")
        if not isinstance(hits, list):
            raise BadPayload("interreg.eu search response has no 'hits' list")
        for hit in hits:
            item = _hit(hit)
            if isinstance(item, CallRecord):
                if item.external_id in seen:
                    skipped += 1
                    continue
                seen.add(item.external_id)
            items.append(item)
    return FetchResult(items=items, complete=True, skipped=skipped)


def _hit(hit: Any) -> FeedItem:
    if not isinstance(hit, Mapping):
        return Quarantined(raw=hit, reason="hit is not a JSON object")
    external_id = _text(hit.get("objectID"))
    if not external_id and _text(hit.get("pageId")):
        external_id = f"callForProjectsPage_{_text(hit.get('pageId'))}"
    raw = {k: v for k, v in hit.items() if k != "_highlightResult"}
    if not external_id:
        return Quarantined(raw=raw, reason="hit without objectID or pageId")
    title = _one_line(_text(hit.get("title")) or _text(hit.get("nodeName")))
    if not title:
        return Quarantined(raw=raw, reason="hit without a title", external_id=external_id)
    warnings: list[str] = []
    programmes = _strings(hit.get("associatedProgrammes"))
    opens = _day_or_moment(hit.get("callOpenDate"), "callOpenDate", warnings)
    closes = _day_or_moment(hit.get("callDeadlineDate"), "callDeadlineDate", warnings)
    status = _text(hit.get("callStatus"))
    model = DeadlineModel.SINGLE_STAGE if closes else None
    opening_note = None
    if status and status.lower() in ("coming", "upcoming", "forthcoming") and not opens:
        opening_note = "announced as coming on interreg.eu"
    if not closes:
        warnings.append("no deadline given on interreg.eu")

    country_codes = _unique(c.upper() for c in _strings(hit.get("callEligibleCountryNuts")))
    region_codes = _unique(c.upper() for c in _strings(hit.get("callEligibleRegionNuts")))
    country_names = tuple(
        _unique(_strings(hit.get("callEligibleCountryNames")) or _strings(hit.get("countries")))
    )
    area = EligibleArea(
        countries=tuple(c for c in country_codes if _NUTS.match(c)),
        country_names=country_names,
        nuts=tuple(c for c in region_codes if _NUTS.match(c)),
    )
    audiences = _unique(_strings(hit.get("targetAudience")))
    themes = _unique([*_strings(hit.get("themes")), *_strings(hit.get("callThemes"))])

    page_url = _text(hit.get("callExternalUrl"))
    content_url = _text(hit.get("contentUrl"))
    site_url = urljoin(SITE, content_url) if content_url else None
    links = [
        CallLink(url=u, label=label)
        for u, label in ((page_url, "Programme call page"), (site_url, "interreg.eu"))
        if u
    ]
    return CallRecord(
        source_kind=SourceKind.INTERREG,
        external_id=external_id,
        title=title,
        language="en",
        programme_label=programmes[0] if programmes else None,
        url=page_url or site_url,
        published_at=_moment(hit.get("createdDate"), "createdDate", warnings),
        opens_at=opens[0] if opens else None,
        opening_note=opening_note,
        deadlines=make_deadlines([closes] if closes else [], model),
        deadline_model=model,
        region=", ".join(country_names) or None,
        eligible_area=None if area.is_empty else area,
        eligible_applicants="; ".join(audiences) or None,
        keywords=tuple(themes),
        tags=tuple(programmes[1:]),
        links=tuple(links),
        warnings=tuple(warnings),
        source_version=_text(hit.get("updatedDate")),
        raw=raw,
    )


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


def _one_line(value: str | None) -> str:
    return " ".join((value or "").split())


def _strings(value: Any) -> list[str]:
    """A list of texts, trimmed (region lists hold 100+ codes: strings take a short path)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    out: list[str] = []
    for v in value:
        if isinstance(v, str):
            text = v.strip()
            if "  " in text or "\n" in text or "\t" in text:
                text = " ".join(text.split())
        else:
            text = _one_line(_text(v))
        if text:
            out.append(text)
    return out


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _moment(value: Any, name: str, warnings: list[str]) -> datetime | None:
    text = _text(value)
    if not text:
        return None
    try:
        return parse_iso_utc(text, naive_zone=INDEX_ZONE)
    except ValueError:
        warnings.append(f"{name}: unreadable date {text!r} ignored")
        return None


def _day_or_moment(value: Any, name: str, warnings: list[str]) -> tuple[datetime, bool] | None:
    """The index writes days as midnight UTC ("2026-09-30T00:00:00Z"): those are dates."""
    moment = _moment(value, name, warnings)
    return given_as_day(moment) if moment is not None else None


# --- the programmes' call pages -------------------------------------------------------


def main_text(page: bytes | str) -> str:
    """The readable main text of an HTML page: sanitised, navigation left out, plain text."""
    html = page.decode("utf-8", "replace") if isinstance(page, bytes) else page
    found = _MAIN.search(html) or _BODY.search(html)
    body = found.group(found.lastindex or 0) if found else html
    body = _CHROME.sub(" ", body)
    text = html_to_text(sanitize_html(body))
    if len(text) > DESCRIPTION_MAX_CHARS:
        text = text[:DESCRIPTION_MAX_CHARS].rsplit(" ", 1)[0] + " …"
    return text


def _with_page_texts(
    session: requests.Session,
    records: list[FeedItem],
    known: Mapping[str, KnownCall],
    *,
    pause_seconds: float,
    max_bytes: int,
) -> list[FeedItem]:
    """Records with their programme page's text as description (read once per page)."""
    texts: dict[str, str | FetchError] = {}
    out: list[FeedItem] = []
    for item in records:
        if not isinstance(item, CallRecord) or not item.url:
            out.append(item)
            continue
        before = known.get(item.external_id)
        if (
            before is not None
            and before.description_html
            and before.url == item.url
            and before.source_version == item.source_version
        ):
            out.append(replace(item, description_html=before.description_html))
            continue
        if item.url not in texts:
            if texts:
                _pause(session, pause_seconds)
            texts[item.url] = _page_text(session, item.url, max_bytes)
        text = texts[item.url]
        if isinstance(text, str) and text:
            out.append(replace(item, description_html=text_to_html(text)))
            continue
        why = str(text) if isinstance(text, FetchError) else "the page has no readable text"
        if before is not None and before.description_html and before.url == item.url:
            # The page could not be read again: the text read before still describes it.
            note = f"programme call page not read again ({why}); its earlier text is kept"
            out.append(
                replace(
                    item,
                    description_html=before.description_html,
                    warnings=(*item.warnings, note),
                )
            )
            continue
        note = f"programme call page not read ({why}); {NO_PAGE_TEXT}"
        out.append(replace(item, warnings=(*item.warnings, note)))
    return out


def _page_text(session: requests.Session, url: str, max_bytes: int) -> str | FetchError:
    try:
        response = fetch(
            session,
            url,
            headers={"Accept": "text/html"},
            max_bytes=max_bytes,
            timeout=PAGE_TIMEOUT_SECONDS,
        )
    except FetchError as exc:
        log.info("programme call page %s not read: %s", url, exc)
        return exc
    return main_text(response.content)


def _fetch_spec(session: requests.Session, spec: SourceSpec, context: FetchContext) -> FetchResult:
    settings = spec.settings
    options: dict[str, int] = {}
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


ADAPTER = SourceAdapter(
    kind=SourceKind.INTERREG,
    label=msg("Interreg calls (interreg.eu search)"),
    fetcher=_fetch_spec,
    settings={
        "app_id": str,
        "index": str,
        "api_key": str,
        "hits_per_page": int,
        "pause_seconds": (int, float),
        "read_pages": bool,
        "page_max_bytes": int,
    },
    required=("app_id", "index", "api_key"),
    secrets=frozenset({"api_key"}),
    priority=3,
    # Unchanged entries keep the description read before instead of fetching their page.
    remembers_calls=True,
)

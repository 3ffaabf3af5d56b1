"""`vinnova`: Vinnova's open data API for calls (ansökningsomgångar).

``GET https://data.vinnova.se/api/ansokningsomgangar/<YYYY-MM-DD>`` returns a
JSON list of every call round changed since that date, without paging
(API v2.1). Field meanings follow the API's own help page:

* ``Diarienummer`` identifies the round, ``DiarienummerUtlysning`` the call;
* ``Titel`` / ``Beskrivning`` are Swedish; ``TitelEngelska`` /
  ``BeskrivningEngelska`` are English, and ``"x"`` means there is none;
* ``Oppningsdatum`` / ``Stangningsdatum`` are Swedish local times without a
  zone; ``AvlasningstillfalleLista`` lists extra read-out dates (cut-offs);
  ``DagligAvlasning`` 1 means applications are read every day (continuous);
* ``AnnonseringslägeÅr`` / ``AnnonseringslägePeriod`` announce a round that is
  not yet definite (most other fields are then empty);
* ``Publik`` 0 means invitation only; ``Extern`` 1 means applications go to
  another organisation, Vinnova only announces;
* ``WebTextLista`` holds short texts: 1 what, 2 who may apply, 3 how
  (budget), 4 why.

Because the API returns changes since a date, a round missing from one
response is not withdrawn: results are incomplete.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import ijson
import requests

from tracker.feeds.adapter import FetchContext, SourceAdapter, SourceSpec
from tracker.feeds.amounts import budget_from_text
from tracker.feeds.dates import read_moment
from tracker.feeds.errors import BadPayload
from tracker.feeds.http import fetch
from tracker.feeds.jsonstream import MAX_DEPTH, TOO_DEEP, stream_array
from tracker.feeds.records import (
    Budget,
    CallLink,
    CallRecord,
    DeadlineModel,
    FeedItem,
    FetchResult,
    Quarantined,
    SourceKind,
    make_deadlines,
    text_to_html,
)
from tracker.i18n import msg

__all__ = ["DOCUMENTED_FIELDS", "fetch_vinnova", "parse_vinnova", "vinnova_url"]

log = logging.getLogger(__name__)

PROGRAMME_LABEL = "Vinnova"
# Vinnova writes its dates in Swedish time without a zone: a fact of the source, whatever
# zone the tracker shows times in.
VINNOVA_ZONE = ZoneInfo("Europe/Stockholm")
NO_TEXT = frozenset({"x", "-", ""})
DEFAULT_LOOKBACK = timedelta(days=730)
DOCUMENTED_FIELDS = frozenset(
    {
        "Diarienummer", "DiarienummerUtlysning", "Titel", "Beskrivning", "TitelEngelska",
        "BeskrivningEngelska", "Oppningsdatum", "Stangningsdatum", "DagligAvlasning",
        "AvlasningstillfalleLista", "UppskattatBeslutsdatum", "TidigastProjektstart",
        "SenastProjektstart", "SenastProjektslut", "DokumentLista", "LankLista", "KontaktLista",
        "Publik", "Webbsida", "AnnonseringslägeÅr", "AnnonseringslägePeriod", "Extern",
        "WebTextLista",
    }
)  # fmt: skip
_DATE_SEGMENT = re.compile(r"/\d{4}-\d{2}-\d{2}/?$")


def vinnova_url(base_url: str, since: date) -> str:
    """The request URL for rounds changed since `since` (kept if it already has a date)."""
    if _DATE_SEGMENT.search(urlsplit(base_url).path) or urlsplit(base_url).scheme == "file":
        return base_url
    return base_url.rstrip("/") + "/" + since.isoformat()


def fetch_vinnova(
    session: requests.Session,
    url: str,
    *,
    now: datetime,
    since: date | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
) -> FetchResult:
    """Fetch rounds changed since `since` (default: two years before `now`)."""
    since = since or (now - DEFAULT_LOOKBACK).date()
    response = fetch(
        session,
        vinnova_url(url, since),
        headers={"Accept": "application/json"},
        etag=etag,
        last_modified=last_modified,
    )
    if response.not_modified:
        return FetchResult(
            not_modified=True, complete=False, etag=etag, last_modified=last_modified
        )
    result = parse_vinnova(response.content)
    result.etag = response.etag
    result.last_modified = response.last_modified
    return result


def parse_vinnova(payload: bytes | list[Any]) -> FetchResult:
    """Turn the API's JSON list into records; malformed rounds are quarantined."""
    if isinstance(payload, bytes | bytearray):
        payload = bytes(payload).removeprefix(b"\xef\xbb\xbf")
        if not payload.lstrip().startswith(b"["):
            raise BadPayload("Vinnova response is not a JSON list of rounds")
        try:
            # Row by row, so one round nested absurdly deep is quarantined, not the run.
            data: list[Any] = list(stream_array(io.BytesIO(payload), ()))
        except ijson.JSONError as exc:
            raise BadPayload(f"Vinnova response is not valid JSON: {exc}") from exc
    else:
        data = payload
    if not isinstance(data, list):
        raise BadPayload("Vinnova response is not a JSON list of rounds")
    items: list[FeedItem] = [_round(entry) for entry in data]
    return FetchResult(items=items, complete=False)


def _round(entry: Any) -> FeedItem:
    if entry is TOO_DEEP:
        return Quarantined(
            raw={"unreadable": f"nested deeper than {MAX_DEPTH} levels"},
            reason=f"round nested deeper than {MAX_DEPTH} levels",
        )
    if not isinstance(entry, Mapping):
        return Quarantined(raw=entry, reason="round is not a JSON object")
    number = _text(entry.get("Diarienummer"))
    if not number:
        return Quarantined(raw=entry, reason="round without Diarienummer")
    title_sv = _text(entry.get("Titel"))
    title_en = _optional(entry.get("TitelEngelska"))
    if not title_sv and not title_en:
        return Quarantined(raw=entry, reason="round without a title", external_id=number)
    warnings: list[str] = []
    unknown = sorted(set(entry) - DOCUMENTED_FIELDS)
    if unknown:
        log.debug("Vinnova round %s has undocumented fields %s", number, unknown)

    texts = _web_texts(entry.get("WebTextLista"))
    what, who, how = texts.get("1"), texts.get("2"), texts.get("3")
    description = _text(entry.get("Beskrivning")) if title_sv else None
    description = description or _optional(entry.get("BeskrivningEngelska"))

    opening = _local(entry.get("Oppningsdatum"), "Oppningsdatum", warnings)
    closing = _local(entry.get("Stangningsdatum"), "Stangningsdatum", warnings)
    read_outs = [
        moment
        for value in entry.get("AvlasningstillfalleLista") or []
        if (moment := _local(_first_date(value), "AvlasningstillfalleLista", warnings))
    ]
    if _flag(entry.get("DagligAvlasning")):
        model = DeadlineModel.CONTINUOUS
    elif read_outs:
        model = DeadlineModel.MULTIPLE_CUT_OFF
    elif closing:
        model = DeadlineModel.SINGLE_STAGE
    else:
        model = None
    moments = [*read_outs, *([closing] if closing else [])]

    year = _text(entry.get("AnnonseringslägeÅr"))
    period = _text(entry.get("AnnonseringslägePeriod"))
    note = " ".join(p for p in (period, year) if p) or None

    tags: list[str] = []
    if entry.get("Publik") is not None and not _flag(entry.get("Publik")):
        tags.append("invitation only")
    if _flag(entry.get("Extern")):
        tags.append("applications go to another organisation")

    budget = None
    found = budget_from_text(how)
    if found:
        budget = Budget(currency=found[1], total=found[0])

    links = _links(entry)
    info = [link for link in links if not _is_application(link)]
    return CallRecord(
        source_kind=SourceKind.VINNOVA,
        external_id=number,
        identifier=number,
        call_identifier=_text(entry.get("DiarienummerUtlysning")),
        title=" ".join((title_sv or title_en or "").split()),
        language="sv" if title_sv else "en",
        other_titles=(("en", title_en),) if title_sv and title_en and title_en != title_sv else (),
        programme_label=PROGRAMME_LABEL,
        summary_html=_html(what),
        description_html=_html(description),
        url=(info or links)[0].url if (info or links) else None,
        opens_at=opening[0] if opening else None,
        opening_note=note if not opening and not closing else None,
        deadlines=make_deadlines(moments, model),
        deadline_model=model,
        budget=budget,
        eligible_applicants=who,
        tags=tuple(tags),
        links=tuple(links),
        warnings=tuple(warnings),
        raw=dict(entry),
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _optional(value: Any) -> str | None:
    """English fields use "x" for "none"."""
    text = _text(value)
    return None if text is None or text.lower() in NO_TEXT else text


def _flag(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true")


def _first_date(value: Any) -> str | None:
    """Read-out entries may be plain strings or small objects holding a date."""
    if isinstance(value, Mapping):
        for item in value.values():
            if isinstance(item, str) and re.match(r"\d{4}-\d{2}-\d{2}", item):
                return item
        return None
    return _text(value)


def _local(value: Any, name: str, warnings: list[str]) -> tuple[datetime, bool] | None:
    """A Swedish local time without zone as (UTC moment, date_only)."""
    return read_moment(_text(value), naive_zone=VINNOVA_ZONE, name=name, warnings=warnings)


def _web_texts(value: Any) -> dict[str, str]:
    texts: dict[str, str] = {}
    if not isinstance(value, list):
        return texts
    for item in value:
        if not isinstance(item, Mapping):
            continue
        number = _text(item.get("TextID"))
        text = _text(item.get("TextSv")) or _optional(item.get("TextEn"))
        if number and text:
            texts[number] = text
    return texts


def _html(text: str | None) -> str | None:
    if not text:
        return None
    return text if re.search(r"<[a-zA-Z][^>]*>", text) else (text_to_html(text) or None)


def _links(entry: Mapping[str, Any]) -> list[CallLink]:
    links: list[CallLink] = []
    for item in entry.get("LankLista") or []:
        if isinstance(item, Mapping) and _text(item.get("URL")):
            links.append(
                CallLink(url=str(item["URL"]).strip(), label=_text(item.get("Beskrivning")))
            )
    for item in entry.get("DokumentLista") or []:
        if isinstance(item, Mapping) and _text(item.get("fileURL")):
            links.append(CallLink(url=str(item["fileURL"]).strip(), label=_text(item.get("Titel"))))
    return list(dict.fromkeys(links))


def _is_application(link: CallLink) -> bool:
    label = (link.label or "").lower()
    return (
        "ansök" in label or "apply" in label or "etjanster." in link.url or "/api/file/" in link.url
    )


# Re-read a little before the last success: a round changed during that run
# could otherwise be missed.
OVERLAP = timedelta(days=7)


def _fetch_spec(session: requests.Session, spec: SourceSpec, context: FetchContext) -> FetchResult:
    settings = spec.settings
    since: date | None = None
    if settings.get("since"):
        since = date.fromisoformat(str(settings["since"]))
    elif spec.last_success_at is not None:
        overlap = timedelta(days=int(settings.get("overlap_days", OVERLAP.days)))
        since = (spec.last_success_at - overlap).date()
    return fetch_vinnova(session, spec.url, now=context.now, since=since)


def _check(settings: Mapping[str, Any]) -> list[str]:
    since = settings.get("since")
    if isinstance(since, str):
        try:
            date.fromisoformat(since)
        except ValueError:
            return ["setting 'since' must be a date (YYYY-MM-DD)"]
    return []


ADAPTER = SourceAdapter(
    kind=SourceKind.VINNOVA,
    label=msg("Vinnova open data"),
    fetcher=_fetch_spec,
    settings={"since": str, "overlap_days": int},
    priority=2,
    checker=_check,
)

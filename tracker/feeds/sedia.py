"""`ft-search`: the EU Funding & Tenders Portal search API (SEDIA).

Request shape (as the portal's own front end sends it):
``POST <search URL>?apiKey=SEDIA&text=***&pageSize=100&pageNumber=N`` with a
multipart body whose parts ``query``, ``languages`` and ``sort`` are JSON file
parts of type application/json (plain form fields get a 500; a query in the
URL is ignored). Pages are requested until one comes back short. One query
yields at most 10,000 results, so a larger result set is split by
``frameworkProgramme`` using the facet endpoint's counts.

What the payload does that the parser must undo:

* every metadata value is a list of strings, and ``actions``,
  ``budgetOverview``, ``latestInfos``, ``links`` and sometimes ``keywords``
  hold JSON inside that string, which may be cut off: the call is kept, that
  field left empty and a warning attached;
* ``budgetOverview`` covers the whole call; only this topic's entries count;
* cascade calls (type 8) carry the parent topic's ``identifier``: they are
  keyed on ``reference``;
* the same topic comes back several times: identical rows, rows from the
  legacy index (``DATASOURCE`` ``SEDIA_PRD_CENTRICITY``) and language copies.
  One record per topic is kept, preferring the current-index English row;
  titles of translated copies become other-language titles;
* the status code is ignored; status is derived from the dates when read;
* programme codes are labelled through the facet endpoint; its labels are
  URL-encoded in places and lost their "+" ("Erasmus  (ERASMUS )").
"""

from __future__ import annotations

import io
import json
import logging
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import IO, Any
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

import ijson
import requests

from tracker.calltime import PORTAL_ZONE
from tracker.feeds.adapter import FetchContext, SourceAdapter, SourceSpec
from tracker.feeds.dates import parse_iso_utc, read_moment
from tracker.feeds.errors import BadPayload, FetchError
from tracker.feeds.gcpause import gc_paused
from tracker.feeds.http import current_run, fetch
from tracker.feeds.jsonstream import MAX_DEPTH, TOO_DEEP, stream_object
from tracker.feeds.records import (
    Budget,
    CallLink,
    CallRecord,
    CallUpdate,
    Deadline,
    DeadlineModel,
    FeedItem,
    FetchResult,
    ProgrammeDivision,
    Quarantined,
    SourceKind,
    capped_warning,
    identifier_from_url,
    make_deadlines,
    normalise_identifier,
    topic_url,
)
from tracker.i18n import msg

__all__ = [
    "CALL_TYPES",
    "CURRENT_STATUSES",
    "FacetCache",
    "FacetLabels",
    "SearchQuery",
    "clean_facet_label",
    "facet_url_for",
    "fetch_facets",
    "fetch_sedia",
    "parse_facets",
    "parse_search_page",
    "parse_sedia",
    "search_parts",
]

log = logging.getLogger(__name__)

CALL_TYPES = ("1", "2", "8")  # grant topics, calls for proposals, cascade calls
CASCADE_TYPE = "8"
CURRENT_STATUSES = ("31094501", "31094502")  # forthcoming, open
CURRENT_INDEX = "SEDIA"
MAX_RESULTS_PER_QUERY = 10_000
DEFAULT_PAGE_SIZE = 100
SPLIT_FIELD = "frameworkProgramme"
JSON_FIELDS = ("actions", "budgetOverview", "latestInfos", "links")


# --- the request -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What to ask the search API for; `extra_terms` narrows (e.g. one programme)."""

    types: tuple[str, ...] = CALL_TYPES
    statuses: tuple[str, ...] = CURRENT_STATUSES
    languages: tuple[str, ...] = ("en",)
    extra_terms: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def body(self) -> dict[str, Any]:
        must: list[dict[str, Any]] = [
            {"terms": {"type": list(self.types)}},
            {"terms": {"status": list(self.statuses)}},
        ]
        must.extend({"terms": {name: list(values)}} for name, values in self.extra_terms)
        return {"bool": {"must": must}}

    def narrowed(self, name: str, value: str) -> SearchQuery:
        return replace(self, extra_terms=(*self.extra_terms, (name, (value,))))


def search_parts(query: SearchQuery) -> dict[str, tuple[str | None, bytes | str, str]]:
    """The multipart parts: JSON file parts, the way the API accepts them."""
    return {
        "query": ("blob", json.dumps(query.body()).encode(), "application/json"),
        "languages": ("blob", json.dumps(list(query.languages)).encode(), "application/json"),
        "sort": (
            "blob",
            json.dumps({"field": "sortStatus", "order": "ASC"}).encode(),
            "application/json",
        ),
    }


def _endpoint(url: str) -> tuple[str, dict[str, str]]:
    """Split a configured URL into the bare endpoint and the parameters to send."""
    parts = urlsplit(url)
    given = dict(parse_qsl(parts.query))
    params = {"apiKey": given.get("apiKey", "SEDIA"), "text": given.get("text", "***")}
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), params


def facet_url_for(search_url: str) -> str:
    """The facet endpoint next to a search endpoint (``.../rest/facet``)."""
    base, _ = _endpoint(search_url)
    if base.rstrip("/").endswith("/search"):
        return base.rstrip("/")[: -len("search")] + "facet"
    return base.rstrip("/") + "/facet"


# --- facets: code -> label tables ---------------------------------------------

_LOST_PLUS_PAIR = re.compile(r"^(.*\S)  \((.*\S) \)$")
_LOST_PLUS_ALONE = re.compile(r"(?<=\S) {3}(?=\S)")


def clean_facet_label(value: str | None, code: str | None = None) -> str | None:
    """A facet label made readable; None when the facet has no real label.

    The facet endpoint returns labels percent-encoded in places ("%26") and
    with "+" turned into a space: "Erasmus  (ERASMUS )" is "Erasmus+ (ERASMUS+)",
    and "Fund   (ESF)" is "Fund + (ESF)". Unlabelled codes come back as
    ``value == rawValue``.
    """
    if value is None:
        return None
    text = unquote(value)
    pair = _LOST_PLUS_PAIR.match(text.strip())
    if pair:
        text = f"{pair.group(1)}+ ({pair.group(2)}+)"
    text = _LOST_PLUS_ALONE.sub(" + ", text)
    text = " ".join(text.split())
    if not text or (code is not None and text == code.strip()):
        return None
    return text


@dataclass(frozen=True, slots=True)
class FacetLabels:
    """Labels per facet (``frameworkProgramme``, ``programmeDivision`` ...) and counts."""

    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    counts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    @property
    def programmes(self) -> Mapping[str, str]:
        return self.labels.get("frameworkProgramme", {})

    @property
    def divisions(self) -> Mapping[str, str]:
        return self.labels.get("programmeDivision", {})


def parse_facets(payload: bytes | Mapping[str, Any]) -> FacetLabels:
    """Read a facet endpoint response: ``{"facets": [{"name", "values": [...]}]}``."""
    data = _load_json(payload, what="facet response")
    facets = data.get("facets") if isinstance(data, Mapping) else None
    if not isinstance(facets, list):
        raise BadPayload("facet response has no 'facets' list")
    labels: dict[str, dict[str, str]] = {}
    counts: dict[str, dict[str, int]] = {}
    for facet in facets:
        if not isinstance(facet, Mapping) or not isinstance(facet.get("values"), list):
            continue
        name = str(facet.get("name") or facet.get("rawName") or "")
        table = labels.setdefault(name, {})
        tally = counts.setdefault(name, {})
        for entry in facet["values"]:
            if not isinstance(entry, Mapping) or entry.get("rawValue") in (None, ""):
                continue
            code = str(entry["rawValue"])
            label = clean_facet_label(
                str(entry["value"]) if entry.get("value") is not None else None, code
            )
            if label:
                table[code] = label
            count = entry.get("count")
            if isinstance(count, int):
                tally[code] = count
    return FacetLabels(labels=labels, counts=counts)


def fetch_facets(session: requests.Session, facet_url: str, query: SearchQuery) -> FacetLabels:
    """Ask the facet endpoint for labels and counts under `query`."""
    base, params = _endpoint(facet_url)
    response = fetch(session, base, method="POST", params=params, files=search_parts(query))
    return parse_facets(response.content)


class FacetCache:
    """Facet labels kept between fetches; a failing facet request never fails a fetch.

    Labels change rarely, so they are reused for `ttl`. When the endpoint
    fails, the last good labels (possibly stale) are used, or none: records
    then carry programme codes and are labelled by a later fetch.
    """

    def __init__(self, ttl: timedelta = timedelta(hours=24)) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[datetime, FacetLabels]] = {}

    def seed(self, facet_url: str, labels: FacetLabels, fetched_at: datetime) -> None:
        self._entries[facet_url] = (fetched_at, labels)

    def get(
        self,
        session: requests.Session,
        facet_url: str,
        query: SearchQuery,
        *,
        now: datetime,
    ) -> tuple[FacetLabels | None, str | None]:
        """Labels for `facet_url` and, when they could not be refreshed, why."""
        cached = self._entries.get(facet_url)
        if cached and now - cached[0] < self.ttl:
            return cached[1], None
        try:
            labels = fetch_facets(session, facet_url, query)
        except FetchError as exc:
            log.warning("facet labels unavailable from %s: %s", facet_url, exc)
            return (cached[1] if cached else None), f"programme labels unavailable: {exc}"
        self._entries[facet_url] = (now, labels)
        return labels, None


# --- fetching ------------------------------------------------------------------


def fetch_sedia(
    session: requests.Session,
    url: str,
    *,
    now: datetime,
    query: SearchQuery | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    facet_url: str | None = None,
    facet_cache: FacetCache | None = None,
    max_results: int = MAX_RESULTS_PER_QUERY,
) -> FetchResult:
    """Fetch every open and forthcoming call from the search API at `url`.

    Raises `FetchError` when the search itself fails (the run fails); a facet
    failure only adds a warning. A ``file://`` URL reads one recorded
    response instead (offline use). `now` decides whether cached labels are
    fresh. Each response goes to a temporary file and its rows are read one
    at a time, so memory holds the calls, never a whole response.
    """
    query = query or SearchQuery()
    facet_url = facet_url or facet_url_for(url)
    cache = facet_cache or FacetCache()
    missing: list[str] = []  # what could not be listed (the API's result limit)
    rows = _Rows(_max_items())

    if urlsplit(url).scheme == "file":
        with tempfile.TemporaryFile(prefix="tracker-search-") as spool:
            response = fetch(session, url, sink=spool)
            spool.seek(0)
            _read_page(spool, rows, url=response.url)
        labels, problem = cache.get(session, facet_url, query, now=now)
    else:
        first = _search_page(session, url, query, 1, page_size, rows)
        labels, problem = cache.get(session, facet_url, query, now=now)
        counts = labels.counts.get(SPLIT_FIELD, {}) if labels else {}
        if first[1] > max_results and counts:
            log.info("%d results exceed %d: splitting by %s", first[1], max_results, SPLIT_FIELD)
            rows.discard_first_page()
            for code in sorted(counts):
                if rows.capped:
                    break
                narrowed = query.narrowed(SPLIT_FIELD, code)
                _collect(session, url, narrowed, page_size, max_results, missing, rows)
        else:
            if first[1] > max_results:
                missing.append(
                    f"{first[1]} results exceed the {max_results} one query can return and "
                    "the split by programme was unavailable: the rest is missing"
                )
            _collect(session, url, query, page_size, max_results, missing, rows, first=first)
    result = rows.result(labels)
    result.warnings[:0] = [*missing, *([problem] if problem else [])]
    # A listing cut at the API's limit must not make the calls beyond it look withdrawn.
    result.complete = result.complete and not missing
    return result


def _max_items() -> int:
    run = current_run()
    return run.policy.max_items_per_run if run is not None else 1_000_000


def _search_page(
    session: requests.Session,
    url: str,
    query: SearchQuery,
    number: int,
    page_size: int,
    rows: _Rows,
) -> tuple[int, int]:
    """Fetch one page into `rows`: (rows on the page, the total the API claims)."""
    base, params = _endpoint(url)
    with tempfile.TemporaryFile(prefix="tracker-search-") as spool:
        response = fetch(
            session,
            base,
            method="POST",
            params={**params, "pageSize": page_size, "pageNumber": number},
            files=search_parts(query),
            sink=spool,
        )
        spool.seek(0)
        return _read_page(spool, rows, url=response.url)


def _read_page(stream: IO[bytes], rows: _Rows, *, url: str | None = None) -> tuple[int, int]:
    count, total, has_results = 0, 0, False
    try:
        with gc_paused():
            for kind, value in stream_object(stream, "results"):
                if kind == "row":
                    count += 1
                    rows.add(value)
                elif kind == "list":
                    has_results = True
                elif value[0] == "totalResults" and str(value[1]).isdigit():
                    total = int(value[1])
    except ValueError as exc:
        raise BadPayload(f"search response is not a JSON object: {exc}", url=url) from exc
    except ijson.JSONError as exc:
        raise BadPayload(f"search response is not valid JSON: {exc}", url=url) from exc
    if not has_results:
        raise BadPayload("search response has no 'results' list", url=url)
    return count, total


def _collect(
    session: requests.Session,
    url: str,
    query: SearchQuery,
    page_size: int,
    max_results: int,
    warnings: list[str],
    rows: _Rows,
    *,
    first: tuple[int, int] | None = None,
) -> None:
    """Every page of `query`: until a page comes back short, or the result cap."""
    count, total = first or _search_page(session, url, query, 1, page_size, rows)
    number = 1
    while count >= page_size and not rows.capped:
        if count > page_size:
            # More rows than asked for: the numbers of this source cannot be trusted.
            warnings.append(
                f"the search API sent {count} rows for a page of {page_size}: "
                "paging stopped, the rest may be missing"
            )
            break
        if (number + 1) * page_size > max_results:
            if total > max_results and first is None:
                warnings.append(
                    f"{total} results for {dict(query.extra_terms)} exceed the {max_results} "
                    "one query can return: the rest is missing"
                )
            break
        number += 1
        count, _ = _search_page(session, url, query, number, page_size, rows)


# --- parsing -------------------------------------------------------------------


def parse_search_page(payload: bytes | Mapping[str, Any]) -> list[Any]:
    """The result rows of one search response (raises `BadPayload` if it is not one)."""
    data = _load_json(payload, what="search response")
    if not isinstance(data, Mapping) or not isinstance(data.get("results"), list):
        raise BadPayload("search response has no 'results' list")
    return list(data["results"])


@dataclass(slots=True)
class _Candidate:
    rank: tuple[int, int, int, int]
    record: CallRecord
    language: str | None


def parse_sedia(
    pages: Iterable[bytes | Mapping[str, Any]],
    *,
    labels: FacetLabels | None = None,
) -> FetchResult:
    """Turn search responses into one record per call, plus quarantined rows.

    Pure: no network. Rows of other types (tenders, type 6) are skipped and
    counted; duplicates are merged as described in the module docstring.
    """
    rows = _Rows(_max_items())
    for page in pages:
        if isinstance(page, bytes):
            _read_page(io.BytesIO(page), rows)
        else:
            with gc_paused():
                for row in parse_search_page(page):
                    rows.add(row)
    return rows.result(labels)


class _Rows:
    """Search rows folded into one candidate per call as they are read.

    One row that cannot be read (no metadata, nested too deep, anything that
    raises) is quarantined; it never fails the run. Past `max_items` distinct
    calls the rest are left out (`capped`), before memory grows with them: the
    first `max_items` are kept and the listing is not complete.
    """

    def __init__(self, max_items: int) -> None:
        self.max_items = max_items
        self.capped = False
        self.best: dict[str, _Candidate] = {}
        self.titles: dict[str, dict[str, str]] = {}
        self.order: list[str] = []
        self.quarantined: list[Quarantined] = []
        self.skipped = 0
        self._first_page: list[str] | None = []

    def discard_first_page(self) -> None:
        """The unsplit first page is read again by the split queries: forget its rows."""
        for group in self._first_page or []:
            self.best.pop(group, None)
            self.titles.pop(group, None)
        self.order = [g for g in self.order if g in self.best]
        self._first_page = None

    def add(self, row: Any) -> None:
        if row is TOO_DEEP:
            self.quarantined.append(
                Quarantined(
                    raw={"unreadable": f"nested deeper than {MAX_DEPTH} levels"},
                    reason=f"result row is nested deeper than {MAX_DEPTH} levels",
                )
            )
            return
        try:
            parsed = _parse_row(row)
        except _RowError as exc:
            self.quarantined.append(Quarantined(raw=row, reason=str(exc), external_id=exc.key))
            return
        except (RecursionError, ValueError, TypeError, AttributeError, ArithmeticError) as exc:
            self.quarantined.append(
                Quarantined(raw=row, reason=f"result row cannot be read: {type(exc).__name__}")
            )
            return
        if parsed is None:
            self.skipped += 1
            return
        group, candidate = parsed
        if candidate.language and candidate.record.title:
            self.titles.setdefault(group, {}).setdefault(candidate.language, candidate.record.title)
        current = self.best.get(group)
        if current is None:
            if len(self.best) >= self.max_items:
                self.capped = True
                return
            self.best[group] = candidate
            self.order.append(group)
            if self._first_page is not None:
                self._first_page.append(group)
        elif candidate.rank > current.rank:
            self.best[group] = candidate

    def result(self, labels: FacetLabels | None) -> FetchResult:
        self._first_page = None
        items: list[FeedItem] = []
        for group in self.order:
            chosen = self.best[group]
            record = chosen.record
            others = tuple(
                sorted(
                    (lang, title)
                    for lang, title in self.titles.get(group, {}).items()
                    if lang != chosen.language and title != record.title
                )
            )
            if others:
                record = replace(record, other_titles=others)
            if labels is not None:
                record = record.with_programme_labels(labels.programmes, labels.divisions)
            items.append(record)
        items.extend(self.quarantined)
        warnings = []
        if self.capped:
            warnings.append(capped_warning(self.max_items))
        return FetchResult(
            items=items, complete=not self.capped, warnings=warnings, skipped=self.skipped
        )


class _RowError(Exception):
    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def _values(metadata: Mapping[str, Any], name: str) -> list[str]:
    raw = metadata.get(name)
    if raw is None:
        return []
    if not isinstance(raw, list):
        raw = [raw]
    return [str(v) for v in raw if v is not None and str(v).strip() != ""]


def _first(metadata: Mapping[str, Any], name: str) -> str | None:
    raw = metadata.get(name)
    for value in raw if isinstance(raw, list) else (raw,):
        if value is not None:
            text = str(value).strip()
            if text:
                return text
    return None


def _json_value(metadata: Mapping[str, Any], name: str, warnings: list[str]) -> Any:
    text = _first(metadata, name)
    if text is None:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        warnings.append(f"{name}: the JSON in this field is cut off or invalid; left empty")
        return None


def _string_list(metadata: Mapping[str, Any], name: str, warnings: list[str]) -> list[str]:
    values = _values(metadata, name)
    if len(values) == 1 and values[0].lstrip().startswith("["):
        try:
            decoded = json.loads(values[0])
        except (ValueError, RecursionError):
            warnings.append(f"{name}: the JSON in this field is cut off or invalid; left empty")
            return []
        values = [str(v) for v in decoded if v] if isinstance(decoded, list) else []
    return values


def _unique(values: Iterable[str], exclude: Iterable[str | None] = ()) -> tuple[str, ...]:
    seen = {e.casefold() for e in exclude if e}
    out: list[str] = []
    for value in values:
        text = " ".join(value.split())
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            out.append(text)
    return tuple(out)


def _moment(value: str | None, name: str, warnings: list[str]) -> tuple[datetime, bool] | None:
    """(moment, date_only): the portal writes a day as midnight, in UTC
    (``2026-09-15T00:00:00.000+0000``), with the offset of local midnight, or as a bare
    ``2027-02-17``; each means that day, whatever the offset."""
    return read_moment(value, naive_zone=PORTAL_ZONE, name=name, warnings=warnings)


def _parse_row(row: Any) -> tuple[str, _Candidate] | None:
    """One result row as (dedupe group, candidate); None for rows that are not calls."""
    if not isinstance(row, Mapping) or not isinstance(row.get("metadata"), Mapping):
        raise _RowError("result row has no metadata object")
    m: Mapping[str, Any] = row["metadata"]
    kind = _first(m, "type")
    if kind not in CALL_TYPES:
        return None
    cascade = kind == CASCADE_TYPE
    warnings: list[str] = []
    identifier = _first(m, "identifier")
    language = _first(m, "language") or _text(row.get("language"))
    language = language.lower() if language else None
    reference = _text(row.get("reference")) or _first(m, "REFERENCE")

    if cascade:
        if not reference:
            raise _RowError("cascade call without a reference", identifier)
        external_id = _strip_language(reference, language)
        group = "ref:" + external_id.upper()
    else:
        if not identifier:
            raise _RowError("call without an identifier", reference)
        external_id = identifier
        group = "id:" + (normalise_identifier(identifier) or identifier)

    own_title = _first(m, "title") or _text(row.get("summary")) or _text(row.get("content"))
    title = (_first(m, "caName") if cascade else None) or own_title
    if not title:
        raise _RowError("call without a title", external_id)

    actions = _json_value(m, "actions", warnings)
    actions = [a for a in actions if isinstance(a, Mapping)] if isinstance(actions, list) else []
    budget_overview = _json_value(m, "budgetOverview", warnings)
    latest = _json_value(m, "latestInfos", warnings)
    links = _json_value(m, "links", warnings)
    call_identifier = _first(m, "callIdentifier")
    model, deadlines = _deadlines(m, actions, warnings)
    opening = _opening(m, actions, warnings)
    programme_code = _first(m, "frameworkProgramme")
    type_of_action = _type_of_action(m, actions)

    url = _first(m, "url") or _text(row.get("url"))
    if not cascade and identifier and (url is None or identifier_from_url(url)):
        url = topic_url(identifier)  # legacy rows point at the topic's JSON, not its page

    is_current = (_first(m, "DATASOURCE") or "").upper() == CURRENT_INDEX
    if not is_current:
        warnings.append("row from the portal's legacy index")

    record = CallRecord(
        source_kind=SourceKind.FT_SEARCH,
        external_id=external_id,
        title=" ".join(title.split()),
        identifier=None if cascade else identifier,
        parent_identifier=identifier if cascade else None,
        call_identifier=call_identifier or (identifier if cascade else None),
        call_title=_first(m, "callTitle") or (own_title if cascade else None),
        organiser=_first(m, "projectAcronym") if cascade else None,
        programme_code=programme_code,
        programme_divisions=tuple(
            ProgrammeDivision(code=code)
            for code in dict.fromkeys(_values(m, "programmeDivision"))
            if code != programme_code
        ),
        type_of_action=type_of_action,
        description_html=_first(m, "descriptionByte") or _first(m, "description"),
        url=url,
        language=language,
        opens_at=opening,
        deadlines=deadlines,
        deadline_model=model,
        budget=_topic_budget(budget_overview, None if cascade else identifier),
        keywords=_unique(
            _string_list(m, "keywords", warnings), exclude=(identifier, call_identifier)
        ),
        tags=_unique(_string_list(m, "tags", warnings)),
        cross_cutting_priorities=_unique(_values(m, "crossCuttingPriorities")),
        links=_links(links),
        updates=_updates(latest),
        warnings=tuple(warnings),
        raw=row,
    )
    cut_off_fields = sum(1 for w in warnings if "cut off" in w)
    rank = (int(is_current), int(language == "en"), -cut_off_fields, len(m))
    return group, _Candidate(rank=rank, record=record, language=language)


def _deadlines(
    m: Mapping[str, Any], actions: list[Mapping[str, Any]], warnings: list[str]
) -> tuple[DeadlineModel | None, tuple[Deadline, ...]]:
    model = DeadlineModel.parse(_first(m, "deadlineModel"))
    for action in actions:
        if model is not None:
            break
        procedure = action.get("submissionProcedure")
        if isinstance(procedure, Mapping):
            model = DeadlineModel.parse(str(procedure.get("abbreviation") or ""))
    moments = [
        moment
        for value in _values(m, "deadlineDate")
        if (moment := _moment(value, "deadlineDate", warnings)) is not None
    ]
    if not moments:
        moments = [
            moment
            for action in actions
            for value in action.get("deadlineDates") or []
            if (moment := _moment(str(value), "actions.deadlineDates", warnings)) is not None
        ]
    if model is None and moments:
        single = len(set(moments)) == 1
        model = DeadlineModel.SINGLE_STAGE if single else DeadlineModel.MULTIPLE_CUT_OFF
    return model, make_deadlines(moments, model)


def _opening(
    m: Mapping[str, Any], actions: list[Mapping[str, Any]], warnings: list[str]
) -> datetime | None:
    opening = _moment(_first(m, "startDate"), "startDate", warnings)
    for action in actions:
        if opening is not None:
            break
        planned = _text(action.get("plannedOpeningDate"))
        opening = _moment(planned, "actions.plannedOpeningDate", warnings)
    return opening[0] if opening else None


def _type_of_action(m: Mapping[str, Any], actions: list[Mapping[str, Any]]) -> str | None:
    value = _first(m, "typesOfAction")
    if value is None:
        value = next(
            (
                str(t["typeOfAction"])
                for action in actions
                for t in action.get("types") or []
                if isinstance(t, Mapping) and t.get("typeOfAction")
            ),
            None,
        )
    return " ".join(value.split()) if value else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _strip_language(reference: str, language: str | None) -> str:
    """``15381COMPETITIVE_CALLen`` -> ``15381COMPETITIVE_CALL`` (language copies share it)."""
    if language and len(reference) > len(language) and reference.lower().endswith(language):
        return reference[: -len(language)]
    return reference


def _amount(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount > 0 else None


def _topic_budget(overview: Any, identifier: str | None) -> Budget | None:
    """This topic's share of a call-wide ``budgetOverview``."""
    if not isinstance(overview, Mapping):
        return None
    action_map = overview.get("budgetTopicActionMap")
    if not isinstance(action_map, Mapping):
        return None
    entries = [e for group in action_map.values() if isinstance(group, list) for e in group]
    entries = [e for e in entries if isinstance(e, Mapping)]
    mine: list[Mapping[str, Any]] = []
    if identifier:
        wanted = normalise_identifier(identifier)
        mine = [
            e
            for e in entries
            if normalise_identifier(str(e.get("action") or "").split(" - ", 1)[0]) == wanted
        ]
    if not mine and len(action_map) == 1:
        mine = entries
    if not mine:
        return None
    total = Decimal(0)
    any_total = False
    for entry in mine:
        years = entry.get("budgetYearMap")
        if isinstance(years, Mapping):
            for value in years.values():
                amount = _amount(value)
                if amount is not None:
                    total += amount
                    any_total = True
    minima = [a for e in mine if (a := _amount(e.get("minContribution"))) is not None]
    maxima = [a for e in mine if (a := _amount(e.get("maxContribution"))) is not None]
    grants = [
        int(g) for e in mine if isinstance(g := e.get("expectedGrants"), int | float) and g > 0
    ]
    budget = Budget(
        currency="EUR",
        total=total if any_total else None,
        min_grant=min(minima) if minima else None,
        max_grant=max(maxima) if maxima else None,
        expected_grants=sum(grants) if grants else None,
    )
    return None if budget.is_empty else budget


def _links(value: Any) -> tuple[CallLink, ...]:
    if not isinstance(value, list):
        return ()
    out: list[CallLink] = []
    for item in value:
        if isinstance(item, Mapping) and item.get("url"):
            label = item.get("criterionDescription") or item.get("title") or item.get("label")
            out.append(CallLink(url=str(item["url"]), label=str(label) if label else None))
    return tuple(dict.fromkeys(out))


def _updates(value: Any) -> tuple[CallUpdate, ...]:
    if not isinstance(value, list):
        return ()
    out: list[CallUpdate] = []
    for item in value:
        if not isinstance(item, Mapping) or not item.get("content"):
            continue
        published: datetime | None = None
        stamp = item.get("lastChangeDate") or item.get("approvalDate")
        if stamp:
            try:
                published = parse_iso_utc(str(stamp), naive_zone=PORTAL_ZONE)
            except ValueError:
                published = None
        out.append(CallUpdate(html=str(item["content"]), published_at=published))
    return tuple(out)


def _load_json(payload: bytes | Mapping[str, Any], *, what: str, url: str | None = None) -> Any:
    if isinstance(payload, Mapping):
        return payload
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadPayload(f"{what} is not valid JSON: {exc}", url=url) from exc


# --- the adapter ---------------------------------------------------------------


def _fetch_spec(session: requests.Session, spec: SourceSpec, context: FetchContext) -> FetchResult:
    settings = spec.settings
    query = SearchQuery(
        types=tuple(str(t) for t in settings.get("types", CALL_TYPES)),
        statuses=tuple(str(s) for s in settings.get("statuses", CURRENT_STATUSES)),
        languages=tuple(str(x) for x in settings.get("languages", ("en",))),
    )
    return fetch_sedia(
        session,
        spec.url,
        now=context.now,
        query=query,
        page_size=int(settings.get("page_size", DEFAULT_PAGE_SIZE)),
        facet_url=settings.get("facet_url"),
        facet_cache=context.facet_cache if isinstance(context.facet_cache, FacetCache) else None,
    )


ADAPTER = SourceAdapter(
    kind=SourceKind.FT_SEARCH,
    label=msg("EU Funding & Tenders search API"),
    fetcher=_fetch_spec,
    settings={
        "page_size": int,
        "languages": list,
        "facet_url": str,
        "types": list,
        "statuses": list,
    },
    priority=0,  # the portal's own API: its word counts most
)

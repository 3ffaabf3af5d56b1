"""`manual`: calls typed into a spreadsheet by staff (CSV or xlsx).

For funders without a feed (Tillväxtverket and ESF-rådet structural-fund
calls, foundations). The first row holds the column names below (any case;
spaces and hyphens count as underscores). Only `title` is required. Each
row becomes one call; a row with any error is reported and left out, the
other rows are imported.

====================  ====================================================
column                meaning
====================  ====================================================
id                    your stable id for the call (default: identifier,
                      else title + first deadline); keep it when editing
title                 the call's title (required)
identifier            the funder's reference (diarienummer, call code)
language              language of the title, ``sv`` (default) or ``en`` ...
title_en, title_sv    the title in English / Swedish, if there is one
programme             programme or funder ("Regionalfonden Östra Mellansverige")
programme_code        the programme's code, if any
call_identifier       identifier of the call the topic belongs to
call_title            title of that call
type_of_action        e.g. "Projektstöd"
url                   official web page (http or https)
opens                 opening date or date and time (in [app] timezone)
deadlines             one or more deadlines, separated by ``;``; a date
                      (2026-09-30) or date and time (2026-09-30 14:00),
                      in [app] timezone
deadline_model        single-stage, two-stage, multiple cut-off or
                      continuous (default: from the number of deadlines)
summary, description  text (or HTML)
region                where the call applies ("Östergötland", "Östra
                      Mellansverige")
eligible_applicants   who may apply ("Kommuner, regioner, företag")
max_eu_rate_pct       the most the funder pays, as % of eligible costs
cofinancing_pct       the share applicants must fund themselves, in %;
                      give one of the two (if both, they must add to 100)
budget_total          the call's total budget ("50 000 000", "50 Mkr")
min_grant, max_grant  smallest / largest grant per project
expected_grants       number of projects expected to be funded
currency              currency of the amounts (default SEK)
keywords, tags        words separated by ``;``
====================  ====================================================

Swedish column names are accepted too (titel, sista_ansökningsdag,
vem_kan_söka, stödnivå_pct, medfinansiering_pct, budget, valuta ...).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import requests

from tracker.calltime import day_moment, local_to_utc, zone
from tracker.feeds.adapter import FetchContext, SourceAdapter, SourceSpec
from tracker.feeds.amounts import parse_amount, parse_percent
from tracker.feeds.errors import BadPayload
from tracker.feeds.http import fetch
from tracker.feeds.records import (
    Budget,
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
from tracker.spreadsheets import UnreadableSpreadsheet, iter_csv_rows, iter_xlsx_rows

__all__ = [
    "COLUMNS",
    "MAX_ROWS",
    "ManualImport",
    "RowError",
    "fetch_manual",
    "parse_manual",
    "parse_manual_csv",
    "parse_manual_row",
    "parse_manual_xlsx",
]

MAX_ROWS = 5_000
DEFAULT_CURRENCY = "SEK"
COLUMNS = (
    "id", "title", "identifier", "language", "title_en", "title_sv", "programme",
    "programme_code", "call_identifier", "call_title", "type_of_action", "url", "opens",
    "deadlines", "deadline_model", "summary", "description", "region", "eligible_applicants",
    "max_eu_rate_pct", "cofinancing_pct", "budget_total", "min_grant", "max_grant",
    "expected_grants", "currency", "keywords", "tags",
)  # fmt: skip
ALIASES = {
    "titel": "title",
    "rubrik": "title",
    "name": "title",
    "diarienummer": "identifier",
    "reference": "identifier",
    "sprak": "language",
    "språk": "language",
    "program": "programme",
    "program_name": "programme",
    "programme_name": "programme",
    "funder": "programme",
    "finansiär": "programme",
    "link": "url",
    "lank": "url",
    "länk": "url",
    "webbsida": "url",
    "opening_date": "opens",
    "opens_at": "opens",
    "öppnar": "opens",
    "oppnar": "opens",
    "deadline": "deadlines",
    "closes": "deadlines",
    "closing_date": "deadlines",
    "stänger": "deadlines",
    "sista_ansökningsdag": "deadlines",
    "sista_ansokningsdag": "deadlines",
    "sammanfattning": "summary",
    "beskrivning": "description",
    "who_may_apply": "eligible_applicants",
    "eligible": "eligible_applicants",
    "applicants": "eligible_applicants",
    "vem_kan_söka": "eligible_applicants",
    "vem_kan_soka": "eligible_applicants",
    "max_eu_rate": "max_eu_rate_pct",
    "eu_rate_pct": "max_eu_rate_pct",
    "funding_rate_pct": "max_eu_rate_pct",
    "stödnivå_pct": "max_eu_rate_pct",
    "stodniva_pct": "max_eu_rate_pct",
    "stödnivå": "max_eu_rate_pct",
    "co_financing_pct": "cofinancing_pct",
    "cofinancing": "cofinancing_pct",
    "medfinansiering_pct": "cofinancing_pct",
    "medfinansiering": "cofinancing_pct",
    "budget": "budget_total",
    "total_budget": "budget_total",
    "valuta": "currency",
    "nyckelord": "keywords",
    "taggar": "tags",
    "region_name": "region",
    "län": "region",
}
_LIST_SEPARATOR = re.compile(r"\s*[;\n]\s*")


@dataclass(frozen=True, slots=True)
class RowError:
    """A problem in one row (`row` as the spreadsheet numbers it; the header is 1)."""

    row: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(slots=True)
class ManualImport:
    """The outcome of reading a sheet: records, row errors, and sheet-level notes."""

    records: list[CallRecord] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rows: int = 0
    raw_rows: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_fetch_result(self) -> FetchResult:
        """As a fetch result: rejected rows become quarantined items."""
        items: list[FeedItem] = list(self.records)
        by_row: dict[int, list[RowError]] = {}
        for error in self.errors:
            by_row.setdefault(error.row, []).append(error)
        for row, errors in sorted(by_row.items()):
            items.append(
                Quarantined(
                    raw=self.raw_rows.get(row, {}),
                    reason="; ".join(str(e) for e in errors),
                )
            )
        return FetchResult(items=items, complete=True, warnings=list(self.warnings))


def fetch_manual(
    session: requests.Session,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    in_zone: ZoneInfo | None = None,
) -> FetchResult:
    """Read a sheet published at `url` (or a local ``file://`` path); times without a
    zone are in `in_zone` (the configured zone)."""
    response = fetch(session, url, etag=etag, last_modified=last_modified)
    if response.not_modified:
        return FetchResult(not_modified=True, etag=etag, last_modified=last_modified)
    result = parse_manual(
        response.content, filename=_urlpath(response.url), in_zone=in_zone
    ).to_fetch_result()
    result.etag, result.last_modified = response.etag, response.last_modified
    return result


def _urlpath(url: str) -> str:
    return url.split("?", 1)[0]


def parse_manual(
    content: bytes, *, filename: str = "", in_zone: ZoneInfo | None = None
) -> ManualImport:
    """Read CSV or xlsx (decided by the file name, else by the bytes); times without a zone
    are in `in_zone` (default: the default of ``[app] timezone``)."""
    is_xlsx = filename.lower().endswith((".xlsx", ".xlsm")) or content[:4] == b"PK\x03\x04"
    if is_xlsx:
        return parse_manual_xlsx(content, in_zone=in_zone)
    return parse_manual_csv(content, in_zone=in_zone)


def parse_manual_csv(content: bytes, *, in_zone: ZoneInfo | None = None) -> ManualImport:
    """Read a CSV export (UTF-8 or Windows-1252; comma, semicolon or tab)."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes nearly everything
        raise BadPayload("the CSV file is neither UTF-8 nor Windows-1252 text")
    try:
        rows = [values for _number, values in iter_csv_rows(text, max_rows=MAX_ROWS + 1)]
    except UnreadableSpreadsheet as exc:
        raise BadPayload(str(exc.message)) from exc
    return _rows_to_import(_without_blank_tail(rows), in_zone or zone())


def parse_manual_xlsx(content: bytes, *, in_zone: ZoneInfo | None = None) -> ManualImport:
    """Read the first worksheet of an xlsx workbook, streamed; a workbook that would unpack
    to far more than its rows need (a zip bomb) is refused before it is opened."""
    try:
        rows = [values for _number, values in iter_xlsx_rows(content, max_rows=MAX_ROWS + 1)]
    except UnreadableSpreadsheet as exc:
        raise BadPayload(str(exc.message)) from exc
    return _rows_to_import(_without_blank_tail(rows), in_zone or zone())


def _without_blank_tail(rows: list[list[Any]]) -> list[list[Any]]:
    while rows and not any(v not in (None, "") for v in rows[-1]):
        rows.pop()
    return rows


def parse_manual_row(
    values: Mapping[str, Any], *, in_zone: ZoneInfo | None = None
) -> tuple[CallRecord | None, list[RowError]]:
    """One call typed into a form, with the sheet's column names as keys.

    Returns the record, or None and the errors (row number 1).
    """
    errors: list[RowError] = []
    cells = {
        _column_name(k): v
        for k, v in values.items()
        if _column_name(k) in COLUMNS and v not in (None, "")
    }
    record = _row_record(1, cells, errors, in_zone or zone())
    if record is not None:
        record = replace(record, raw={k: _jsonable(v) for k, v in cells.items()})
    return (None if errors else record), errors


def _column_name(value: Any) -> str:
    name = re.sub(r"[\s\-]+", "_", str(value or "").strip().lower()).replace("%", "pct")
    name = name.strip("_")
    return ALIASES.get(name, name)


def _rows_to_import(rows: list[list[Any]], in_zone: ZoneInfo) -> ManualImport:
    result = ManualImport()
    if not rows:
        raise BadPayload("the sheet is empty")
    header = [_column_name(cell) for cell in rows[0]]
    if "title" not in header:
        raise BadPayload("the first row must name the columns, including 'title'")
    unknown = sorted({name for name in header if name and name not in COLUMNS})
    if unknown:
        result.warnings.append("columns not recognised and ignored: " + ", ".join(unknown))
    seen_ids: dict[str, int] = {}
    for offset, cells in enumerate(rows[1:], start=2):
        values = {
            name: cell
            for name, cell in zip(header, cells, strict=False)
            if name in COLUMNS and cell not in (None, "")
        }
        if not any(str(v).strip() for v in values.values()):
            continue
        result.rows += 1
        result.raw_rows[offset] = {k: _jsonable(v) for k, v in values.items()}
        errors: list[RowError] = []
        record = _row_record(offset, values, errors, in_zone)
        if record is not None:
            earlier = seen_ids.get(record.external_id)
            if earlier is not None:
                errors.append(
                    RowError(
                        offset,
                        "id",
                        msg("same id, identifier or page as row %(row)s", row=earlier),
                    )
                )
            else:
                seen_ids[record.external_id] = offset
        if errors:
            result.errors.extend(errors)
        elif record is not None:
            result.records.append(record)
    return result


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _row_record(
    row: int, values: Mapping[str, Any], errors: list[RowError], in_zone: ZoneInfo
) -> CallRecord | None:
    def text(name: str) -> str | None:
        return _cell_text(values.get(name))

    title = text("title")
    if not title:
        errors.append(RowError(row, "title", msg("a title is required")))
    language = (text("language") or "sv").lower()[:2]
    opening = _moment(values.get("opens"), row, "opens", errors, in_zone)

    moments: list[tuple[datetime, bool]] = []
    raw_deadlines = values.get("deadlines")
    parts: list[Any] = (
        [raw_deadlines]
        if isinstance(raw_deadlines, datetime | date)
        else [p for p in _LIST_SEPARATOR.split(_cell_text(raw_deadlines) or "") if p]
    )
    for part in parts:
        moment = _moment(part, row, "deadlines", errors, in_zone)
        if moment:
            moments.append(moment)

    model = None
    if text("deadline_model"):
        model = DeadlineModel.parse(text("deadline_model"))
        if model is None:
            errors.append(
                RowError(
                    row,
                    "deadline_model",
                    msg(
                        "unknown value %(value)r; use single-stage, two-stage, "
                        "multiple cut-off or continuous",
                        value=text("deadline_model"),
                    ),
                )
            )
    elif moments:
        single = len(moments) == 1
        model = DeadlineModel.SINGLE_STAGE if single else DeadlineModel.MULTIPLE_CUT_OFF

    url = text("url")
    if url and not re.match(r"https?://\S+$", url, re.IGNORECASE):
        errors.append(RowError(row, "url", msg("%(value)r is not an http(s) address", value=url)))

    currency = (text("currency") or DEFAULT_CURRENCY).upper()
    amounts: dict[str, Decimal | None] = {}
    for name in ("budget_total", "min_grant", "max_grant"):
        amounts[name] = None
        raw = text(name)
        if raw:
            parsed = parse_amount(raw, currency)
            if parsed is None or parsed[0] < 0:
                errors.append(RowError(row, name, msg("%(value)r is not an amount", value=raw)))
            else:
                amounts[name] = parsed[0]
                if parsed[1] and parsed[1] != currency and not text("currency"):
                    currency = parsed[1]
    low, high = amounts["min_grant"], amounts["max_grant"]
    if low is not None and high is not None and low > high:
        errors.append(RowError(row, "min_grant", msg("min_grant is larger than max_grant")))
    expected = None
    if text("expected_grants"):
        raw = text("expected_grants") or ""
        if re.fullmatch(r"\d+", raw):
            expected = int(raw)
        else:
            errors.append(
                RowError(row, "expected_grants", msg("%(value)r is not a whole number", value=raw))
            )

    rate = _percent(values, "max_eu_rate_pct", row, errors)
    own = _percent(values, "cofinancing_pct", row, errors)
    if rate is not None and own is not None and rate + own != 100:
        errors.append(
            RowError(
                row,
                "cofinancing_pct",
                msg("max_eu_rate_pct and cofinancing_pct must add up to 100"),
            )
        )
    if rate is None and own is not None:
        rate = Decimal(100) - own

    if errors or not title:
        return None
    identifier = text("identifier")
    # A row is the same call as another when it has the same id, identifier or page, never
    # because the titles agree: one funder may open two calls named alike.
    external_id = (
        text("id") or identifier or (f"url:{_urlpath(url)}" if url else None)
    ) or _default_id(title, moments)
    other_titles = tuple(
        (lang, value)
        for lang, value in (("en", text("title_en")), ("sv", text("title_sv")))
        if value and lang != language and value != title
    )
    budget = Budget(
        currency=currency,
        total=amounts["budget_total"],
        min_grant=low,
        max_grant=high,
        expected_grants=expected,
    )
    return CallRecord(
        source_kind=SourceKind.MANUAL,
        external_id=external_id,
        title=" ".join(title.split()),
        identifier=identifier,
        call_identifier=text("call_identifier"),
        call_title=text("call_title"),
        programme_label=text("programme"),
        programme_code=text("programme_code"),
        type_of_action=text("type_of_action"),
        summary_html=_html(text("summary")),
        description_html=_html(text("description")),
        url=url,
        language=language,
        other_titles=other_titles,
        opens_at=opening[0] if opening else None,
        deadlines=make_deadlines(moments, model),
        deadline_model=model,
        budget=None if budget.is_empty else budget,
        funding_rate_pct=rate,
        region=text("region"),
        eligible_applicants=text("eligible_applicants"),
        keywords=_words(text("keywords")),
        tags=_words(text("tags")),
        raw={k: _jsonable(v) for k, v in values.items()},
    )


def _default_id(title: str, moments: list[tuple[datetime, bool]]) -> str:
    slug = re.sub(r"[^a-z0-9åäö]+", "-", title.lower()).strip("-")[:80]
    first = min(moments)[0].date().isoformat() if moments else "undated"
    return f"{slug}@{first}"


def _moment(
    value: Any, row: int, column: str, errors: list[RowError], in_zone: ZoneInfo
) -> tuple[datetime, bool] | None:
    """A date or datetime cell, in `in_zone`, as (UTC moment, date_only)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        if (value.hour, value.minute, value.second) == (0, 0, 0):
            return day_moment(value.date()), True
        return local_to_utc(value, in_zone), False
    if isinstance(value, date):
        return day_moment(value), True
    text = str(value).strip()
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2})[:.](\d{2}))?", text)
    if not match:
        errors.append(
            RowError(
                row,
                column,
                msg("%(value)r is not a date (use 2026-09-30 or 2026-09-30 14:00)", value=text),
            )
        )
        return None
    try:
        day = date(int(match[1]), int(match[2]), int(match[3]))
        if match[4] is None:
            return day_moment(day), True
        local = datetime(day.year, day.month, day.day, int(match[4]), int(match[5]))
    except ValueError as exc:
        errors.append(
            RowError(
                row,
                column,
                msg("%(value)r is not a valid date: %(reason)s", value=text, reason=exc),
            )
        )
        return None
    return local_to_utc(local, in_zone), False


def _percent(
    values: Mapping[str, Any], name: str, row: int, errors: list[RowError]
) -> Decimal | None:
    raw = values.get(name)
    if raw is None or raw == "":
        return None
    text = str(raw) if not isinstance(raw, float) else repr(raw)
    value = parse_percent(text)
    if value is None or not Decimal(0) <= value <= Decimal(100):
        errors.append(
            RowError(row, name, msg("%(value)r is not a percentage between 0 and 100", value=raw))
        )
        return None
    return value


def _words(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(dict.fromkeys(w for w in _LIST_SEPARATOR.split(text) if w))


def _html(text: str | None) -> str | None:
    if not text:
        return None
    return text if re.search(r"<[a-zA-Z][^>]*>", text) else (text_to_html(text) or None)


def _fetch_spec(session: requests.Session, spec: SourceSpec, context: FetchContext) -> FetchResult:
    return fetch_manual(
        session,
        spec.url,
        etag=spec.etag,
        last_modified=spec.last_modified,
        in_zone=context.in_zone,
    )


ADAPTER = SourceAdapter(
    kind=SourceKind.MANUAL,
    label=msg("Manual (sheet or form)"),
    fetcher=_fetch_spec,
    priority=4,
    # Calls typed in or uploaded by staff; a published sheet may be fetched as well.
    needs_url=False,
    scheduled=False,
)

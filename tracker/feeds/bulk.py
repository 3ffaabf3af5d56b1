"""`ft-bulk`: the portal's bulk file ``grantsTenders.json``.

About 125 MB of ``{"fundingData": {"GrantTenderObj": [...]}}``. The file is
streamed to a temporary file (size-capped) and read item by item with ijson,
so memory stays bounded whatever its size. Dates are epoch milliseconds, as
numbers in some fields (``deadlineDatesLong``) and as strings in others
(``actions[].deadlineDates``). There are no descriptions. Type 0 objects are
tenders and are skipped, as is anything that is not a call type.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import IO, Any

import ijson
import requests

from tracker.calltime import PORTAL_ZONE
from tracker.feeds.adapter import FetchContext, SourceAdapter, SourceSpec
from tracker.feeds.dates import from_epoch_ms, given_as_day, parse_iso_utc
from tracker.feeds.errors import BadPayload
from tracker.feeds.http import fetch
from tracker.feeds.jsonstream import MAX_DEPTH, TOO_DEEP, stream_array
from tracker.feeds.records import (
    CallLink,
    CallRecord,
    CallUpdate,
    DeadlineModel,
    FeedItem,
    FetchResult,
    ProgrammeDivision,
    Quarantined,
    SourceKind,
    make_deadlines,
    normalise_identifier,
    topic_url,
)
from tracker.i18n import msg

__all__ = ["ITEMS_PATH", "fetch_bulk", "parse_bulk", "parse_bulk_item"]

log = logging.getLogger(__name__)

ITEMS_PATH = ("fundingData", "GrantTenderObj")
CALL_TYPES = frozenset({"1", "2", "8"})
CASCADE_TYPE = "8"


def fetch_bulk(
    session: requests.Session,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int | None = None,
) -> FetchResult:
    """Download the bulk file (conditionally) and return a lazy result.

    The body goes to a temporary file, never to memory; iterate the result's
    items once and close it to delete the file. `max_bytes` overrides the
    session's size cap (the real file is about 125 MB).
    """
    # Not a `with` block: the file outlives this call, closed by `result.close()`.
    spool: IO[bytes] = tempfile.TemporaryFile(prefix="tracker-bulk-")  # noqa: SIM115
    try:
        response = fetch(
            session,
            url,
            etag=etag,
            last_modified=last_modified,
            max_bytes=max_bytes,
            sink=spool,
        )
    except BaseException:
        spool.close()
        raise
    if response.not_modified:
        spool.close()
        return FetchResult(
            not_modified=True, etag=etag, last_modified=last_modified or response.last_modified
        )
    spool.seek(0)
    log.info("bulk file downloaded: %d bytes from %s", response.size, url)
    result = FetchResult(
        complete=True,
        etag=response.etag,
        last_modified=response.last_modified,
    )
    result.items = parse_bulk(spool, result)
    result._closers.append(spool.close)
    return result


def parse_bulk(stream: IO[bytes], result: FetchResult | None = None) -> Iterator[FeedItem]:
    """Yield a record (or quarantined item) per call in a bulk file stream.

    Lazy and constant in memory. Tenders and other non-call objects are
    skipped and counted in `result.skipped`; repeated identifiers are
    yielded once. Raises `BadPayload` if the stream is not valid JSON.
    """
    seen: set[str] = set()
    try:
        for obj in stream_array(stream, ITEMS_PATH):
            item = parse_bulk_item(obj)
            if item is None:
                if result is not None:
                    result.skipped += 1
                continue
            if isinstance(item, CallRecord):
                key = normalise_identifier(item.external_id) or item.external_id
                if key in seen:
                    if result is not None:
                        result.skipped += 1
                    continue
                seen.add(key)
            yield item
    except ijson.JSONError as exc:  # includes a file cut off mid-way
        raise BadPayload(f"bulk file is not valid JSON: {exc}") from exc


def parse_bulk_item(obj: Any) -> FeedItem | None:
    """One ``GrantTenderObj``: a record, a quarantined item, or None (not a call)."""
    if obj is TOO_DEEP:
        return Quarantined(
            raw={"unreadable": f"nested deeper than {MAX_DEPTH} levels"},
            reason=f"bulk item nested deeper than {MAX_DEPTH} levels",
        )
    if not isinstance(obj, Mapping):
        return Quarantined(raw=obj, reason="bulk item is not an object")
    kind = str(obj.get("type", "")).strip()
    if kind not in CALL_TYPES:
        return None
    identifier = _text(obj.get("identifier"))
    title = _text(obj.get("title"))
    if not identifier:
        return Quarantined(raw=obj, reason="call without an identifier")
    external_id = identifier
    if kind == CASCADE_TYPE:
        reference = _text(obj.get("reference")) or _text(obj.get("ccm2Id"))
        if not reference:
            return Quarantined(
                raw=obj, reason="cascade call without a reference", external_id=identifier
            )
        external_id = reference
    if not title:
        return Quarantined(raw=obj, reason="call without a title", external_id=external_id)

    warnings: list[str] = []
    actions = [a for a in obj.get("actions") or [] if isinstance(a, Mapping)]
    model = _model(obj.get("deadlineModel"))
    for action in actions:
        if model is not None:
            break
        model = _model(action.get("submissionProcedure"))

    moments = _epochs(obj.get("deadlineDatesLong"), "deadlineDatesLong", warnings)
    if not moments:
        for action in actions:
            moments.extend(_epochs(action.get("deadlineDates"), "actions.deadlineDates", warnings))
    if model is None and moments:
        single = len(set(moments)) == 1
        model = DeadlineModel.SINGLE_STAGE if single else DeadlineModel.MULTIPLE_CUT_OFF

    opening = _epoch(obj.get("plannedOpeningDateLong"), "plannedOpeningDateLong", warnings)
    for action in actions:
        if opening is not None:
            break
        opening = _epoch(action.get("plannedOpeningDate"), "actions.plannedOpeningDate", warnings)

    programme = obj.get("frameworkProgramme")
    programme_code = programme_label = None
    if isinstance(programme, Mapping):
        programme_code = _text(programme.get("id"))
        programme_label = _text(programme.get("description")) or _text(
            programme.get("abbreviation")
        )

    cascade = kind == CASCADE_TYPE
    url = _text(obj.get("url"))
    if not cascade and (url is None or kind == "1"):
        url = topic_url(identifier)

    return CallRecord(
        source_kind=SourceKind.FT_BULK,
        external_id=external_id,
        title=" ".join(title.split()),
        identifier=None if cascade else identifier,
        parent_identifier=identifier if cascade else None,
        call_identifier=_text(obj.get("callIdentifier")),
        call_title=_text(obj.get("callTitle")),
        programme_code=programme_code,
        programme_label=programme_label,
        programme_divisions=tuple(
            ProgrammeDivision(code=_text(d.get("id")), label=_text(d.get("description")))
            for d in obj.get("programmeDivision") or []
            if isinstance(d, Mapping)
        ),
        type_of_action=_type_of_action(obj, actions),
        url=url,
        language="en",
        published_at=_epoch(obj.get("publicationDateLong"), "publicationDateLong", warnings),
        opens_at=opening,
        deadlines=make_deadlines((given_as_day(m) for m in moments), model),
        deadline_model=model,
        keywords=_strings(obj.get("keywords"), exclude={identifier, obj.get("callIdentifier")}),
        tags=_strings(obj.get("tags")),
        links=tuple(
            dict.fromkeys(
                CallLink(url=str(link["url"]), label=_text(link.get("criterionDescription")))
                for link in obj.get("links") or []
                if isinstance(link, Mapping) and link.get("url")
            )
        ),
        updates=_updates(obj.get("latestInfos")),
        warnings=tuple(warnings),
        raw=obj,
    )


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    return text or None


def _model(value: Any) -> DeadlineModel | None:
    if isinstance(value, Mapping):
        return DeadlineModel.parse(
            _text(value.get("abbreviation")) or _text(value.get("description"))
        )
    return DeadlineModel.parse(_text(value))


def _epoch(value: Any, name: str, warnings: list[str]) -> datetime | None:
    if value in (None, "", 0, "0"):
        return None
    try:
        return from_epoch_ms(value if isinstance(value, str) else int(value))
    except (ValueError, TypeError, OverflowError):
        warnings.append(f"{name}: unreadable date {value!r} ignored")
        return None


def _epochs(values: Any, name: str, warnings: list[str]) -> list[datetime]:
    if not isinstance(values, list):
        return []
    return [m for v in values if (m := _epoch(v, name, warnings)) is not None]


def _strings(values: Any, exclude: set[Any] | None = None) -> tuple[str, ...]:
    if not isinstance(values, list):
        return ()
    skip = {str(e).casefold() for e in exclude or set() if e}
    out: dict[str, str] = {}
    for value in values:
        text = " ".join(str(value).split()) if value is not None else ""
        if text and text.casefold() not in skip:
            out.setdefault(text.casefold(), text)
    return tuple(out.values())


def _type_of_action(obj: Mapping[str, Any], actions: list[Mapping[str, Any]]) -> str | None:
    for entry in obj.get("topicActions") or []:
        if isinstance(entry, Mapping) and _text(entry.get("description")):
            return " ".join(str(entry["description"]).split())
    for action in actions:
        for kind in action.get("types") or []:
            if isinstance(kind, Mapping) and _text(kind.get("typeOfAction")):
                return " ".join(str(kind["typeOfAction"]).split())
    return None


def _updates(values: Any) -> tuple[CallUpdate, ...]:
    if not isinstance(values, list):
        return ()
    out: list[CallUpdate] = []
    for item in values:
        if not isinstance(item, Mapping) or not _text(item.get("content")):
            continue
        stamp = _text(item.get("lastChangeDate")) or _text(item.get("approvalDate"))
        try:
            published = parse_iso_utc(stamp, naive_zone=PORTAL_ZONE)
        except ValueError:
            published = None
        out.append(CallUpdate(html=str(item["content"]), published_at=published))
    return tuple(out)


def _fetch_spec(session: requests.Session, spec: SourceSpec, context: FetchContext) -> FetchResult:
    max_bytes = spec.settings.get("max_bytes")
    return fetch_bulk(
        session,
        spec.url,
        etag=spec.etag,
        last_modified=spec.last_modified,
        max_bytes=int(max_bytes) if max_bytes is not None else None,
    )


ADAPTER = SourceAdapter(
    kind=SourceKind.FT_BULK,
    label=msg("EU Funding & Tenders bulk file"),
    fetcher=_fetch_spec,
    settings={"max_bytes": int},
    priority=1,
)

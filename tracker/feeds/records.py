"""The normalised funding call every adapter produces.

A `CallRecord` is what one source says about one call, keyed by the source
kind and the source's own id. Adapters return records (and `Quarantined`
items for entries they could not read); the ingest service merges records
from several sources into one stored call.

Conventions:

* datetimes are aware UTC; a deadline that the source gives as a day has
  ``date_only=True`` and is midnight UTC of that day; when it closes is
  ``tracker.calltime.closing_moment``'s rule, applied by the ingest;
* HTML is kept raw (`summary_html`, `description_html`); use
  `sanitize_html()` before showing it and `html_to_text()` for matching;
* status is never stored: `tracker.calltime.status_at()` derives it when read.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from tracker.calltime import (
    CallDates,
    CallStatus,
    DeadlineModel,
    SourceKind,
    deadline_closes,
    local_day,
    status_at,
    zone,
)
from tracker.feeds.text import html_to_text, sanitize_html, text_to_html

__all__ = [
    "Budget",
    "CallLink",
    "CallRecord",
    "CallStatus",
    "CallUpdate",
    "Deadline",
    "DeadlineModel",
    "EligibleArea",
    "FeedItem",
    "FetchResult",
    "ProgrammeDivision",
    "Quarantined",
    "SourceKind",
    "canonical_url",
    "capped_warning",
    "html_to_text",
    "identifier_from_url",
    "is_capped_warning",
    "normalise_identifier",
    "sanitize_html",
    "text_to_html",
    "topic_url",
]


@dataclass(frozen=True, slots=True)
class Deadline:
    """One submission deadline; `stage` says which one ("stage 1", "cut-off 2")."""

    at: datetime
    stage: str = "deadline"
    date_only: bool = False

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() != UTC.utcoffset(None):
            raise ValueError(f"deadline must be aware UTC, got {self.at!r}")

    def day(self, in_zone: ZoneInfo | None = None) -> date:
        """The calendar day of the deadline (for a moment with a time: in `in_zone`)."""
        return self.at.date() if self.date_only else local_day(self.at, in_zone or zone())


def stage_labels(model: DeadlineModel | None, count: int) -> list[str]:
    """Stage labels for `count` sorted deadlines under `model`."""
    if count == 1 and model is not DeadlineModel.MULTIPLE_CUT_OFF:
        return ["deadline"]
    if model is DeadlineModel.TWO_STAGE:
        return [f"stage {i + 1}" for i in range(count)]
    if model is DeadlineModel.MULTIPLE_CUT_OFF or model is None:
        return [f"cut-off {i + 1}" for i in range(count)]
    return ["deadline"] * count


def make_deadlines(
    moments: Iterable[tuple[datetime, bool]], model: DeadlineModel | None
) -> tuple[Deadline, ...]:
    """Deadlines from (UTC moment, date_only) pairs: sorted, deduplicated, labelled."""
    unique = sorted(set(moments), key=lambda pair: pair[0])
    labels = stage_labels(model, len(unique))
    return tuple(
        Deadline(at=at, stage=label, date_only=date_only)
        for (at, date_only), label in zip(unique, labels, strict=True)
    )


@dataclass(frozen=True, slots=True)
class Budget:
    """Money: the call's total and the size of one grant, in `currency`."""

    currency: str = "EUR"
    total: Decimal | None = None
    min_grant: Decimal | None = None
    max_grant: Decimal | None = None
    expected_grants: int | None = None

    @property
    def is_empty(self) -> bool:
        return (
            self.total is None
            and self.min_grant is None
            and self.max_grant is None
            and self.expected_grants is None
        )


@dataclass(frozen=True, slots=True)
class ProgrammeDivision:
    """A part of a programme (cluster, strand); label None until known."""

    code: str | None
    label: str | None = None


@dataclass(frozen=True, slots=True)
class CallLink:
    url: str
    label: str | None = None


@dataclass(frozen=True, slots=True)
class EligibleArea:
    """Where applicants must be, as data: country codes and NUTS codes of any level.

    `countries` are NUTS-0 codes ("SE"), `nuts` the regions listed (NUTS 1-3,
    "SE12", "SE123"); `country_names` are kept to name the area to people.
    """

    countries: tuple[str, ...] = ()
    country_names: tuple[str, ...] = ()
    nuts: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.countries and not self.nuts

    def to_dict(self) -> dict[str, list[str]]:
        return {
            "countries": list(self.countries),
            "country_names": list(self.country_names),
            "nuts": list(self.nuts),
        }


@dataclass(frozen=True, slots=True)
class CallUpdate:
    """A news item the funder posted on the call (raw HTML)."""

    html: str
    published_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One call as one source describes it. `(source_kind, external_id)` is the key."""

    source_kind: SourceKind
    external_id: str
    title: str
    identifier: str | None = None
    parent_identifier: str | None = None
    call_identifier: str | None = None
    call_title: str | None = None
    organiser: str | None = None
    programme_label: str | None = None
    programme_code: str | None = None
    programme_divisions: tuple[ProgrammeDivision, ...] = ()
    type_of_action: str | None = None
    summary_html: str | None = None
    description_html: str | None = None
    url: str | None = None
    language: str | None = None
    other_titles: tuple[tuple[str, str], ...] = ()
    published_at: datetime | None = None
    opens_at: datetime | None = None
    opening_note: str | None = None
    deadlines: tuple[Deadline, ...] = ()
    deadline_model: DeadlineModel | None = None
    budget: Budget | None = None
    funding_rate_pct: Decimal | None = None
    region: str | None = None
    eligible_area: EligibleArea | None = None
    eligible_applicants: str | None = None
    keywords: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    cross_cutting_priorities: tuple[str, ...] = ()
    links: tuple[CallLink, ...] = ()
    updates: tuple[CallUpdate, ...] = ()
    warnings: tuple[str, ...] = ()
    # The source's own change stamp of the entry (interreg.eu's updatedDate), if any.
    source_version: str | None = None
    raw: Any = field(default=None, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        if not self.external_id:
            raise ValueError("a call record needs an external id")
        if not self.title.strip():
            raise ValueError("a call record needs a title")
        for moment in (self.opens_at, self.published_at):
            if moment is not None and moment.utcoffset() != UTC.utcoffset(None):
                raise ValueError(f"dates must be aware UTC, got {moment!r}")

    @property
    def key(self) -> tuple[str, str]:
        return (self.source_kind.value, self.external_id)

    @property
    def required_cofinancing_pct(self) -> Decimal | None:
        """The share the applicant must fund itself (100 − funding rate)."""
        if self.funding_rate_pct is None:
            return None
        return Decimal(100) - self.funding_rate_pct

    def title_in(self, language: str) -> str | None:
        """The title in `language` if the source gave one."""
        if self.language == language:
            return self.title
        return dict(self.other_titles).get(language)

    @property
    def title_sv(self) -> str | None:
        return self.title_in("sv")

    @property
    def summary_text(self) -> str:
        return html_to_text(self.summary_html)

    @property
    def description_text(self) -> str:
        return html_to_text(self.description_html)

    @property
    def next_deadline(self) -> Deadline | None:
        return self.deadlines[0] if self.deadlines else None

    def status(self, now: datetime, in_zone: ZoneInfo | None = None) -> CallStatus:
        """Forthcoming / open / closed at `now`, from the dates only, by the same rule as
        a stored call (days closing by ``tracker.calltime.closing_moment``)."""
        closing = [
            deadline_closes(d.at, d.date_only, self.source_kind, in_zone or zone())[0]
            for d in self.deadlines
        ]
        dates = CallDates.of(
            opens_at=self.opens_at,
            deadlines=closing,
            deadline_model=self.deadline_model,
            opening_note=self.opening_note,
        )
        return status_at(dates, now)

    def with_programme_labels(
        self, programmes: Mapping[str, str], divisions: Mapping[str, str]
    ) -> CallRecord:
        """A copy with programme and division labels filled in from code tables."""
        label = self.programme_label
        if label is None and self.programme_code:
            label = programmes.get(self.programme_code)
        parts = tuple(
            ProgrammeDivision(d.code, d.label or (divisions.get(d.code) if d.code else None))
            for d in self.programme_divisions
        )
        if label == self.programme_label and parts == self.programme_divisions:
            return self
        return replace(self, programme_label=label, programme_divisions=parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of every field except the raw payload.

        Written out field by field: the ingest calls it for every record of
        every fetch, and a generic walk over the dataclass was the slowest
        step of a re-fetch.
        """
        budget = self.budget
        out: dict[str, Any] = {
            "source_kind": self.source_kind.value,
            "external_id": self.external_id,
            "title": self.title,
            "identifier": self.identifier,
            "parent_identifier": self.parent_identifier,
            "call_identifier": self.call_identifier,
            "call_title": self.call_title,
            "organiser": self.organiser,
            "programme_label": self.programme_label,
            "programme_code": self.programme_code,
            "programme_divisions": [
                {"code": d.code, "label": d.label} for d in self.programme_divisions
            ],
            "type_of_action": self.type_of_action,
            "summary_html": self.summary_html,
            "description_html": self.description_html,
            "url": self.url,
            "language": self.language,
            "other_titles": [[lang, title] for lang, title in self.other_titles],
            "published_at": _iso(self.published_at),
            "opens_at": _iso(self.opens_at),
            "opening_note": self.opening_note,
            "deadlines": [
                {"at": d.at.isoformat(), "stage": d.stage, "date_only": d.date_only}
                for d in self.deadlines
            ],
            "deadline_model": self.deadline_model.value if self.deadline_model else None,
            "budget": None
            if budget is None
            else {
                "currency": budget.currency,
                "total": _text(budget.total),
                "min_grant": _text(budget.min_grant),
                "max_grant": _text(budget.max_grant),
                "expected_grants": budget.expected_grants,
            },
            "funding_rate_pct": _text(self.funding_rate_pct),
            "region": self.region,
            "eligible_applicants": self.eligible_applicants,
            "keywords": list(self.keywords),
            "tags": list(self.tags),
            "cross_cutting_priorities": list(self.cross_cutting_priorities),
            "links": [{"url": link.url, "label": link.label} for link in self.links],
            "updates": [
                {"html": u.html, "published_at": _iso(u.published_at)} for u in self.updates
            ],
            "warnings": list(self.warnings),
        }
        # Added only when set, so that the digests of records of other sources
        # (stored before these fields existed) stay what they were.
        if self.eligible_area is not None and not self.eligible_area.is_empty:
            out["eligible_area"] = self.eligible_area.to_dict()
        if self.source_version is not None:
            out["source_version"] = self.source_version
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CallRecord:
        """The record `to_dict` wrote (a source link's stored ``record``); the inverse of
        `to_dict` but for the raw payload, which is not stored with it. Keys missing from
        records stored by older versions take their defaults."""
        budget = data.get("budget")
        area = data.get("eligible_area")
        model = data.get("deadline_model")
        return cls(
            source_kind=SourceKind(data["source_kind"]),
            external_id=data["external_id"],
            title=data["title"],
            identifier=data.get("identifier"),
            parent_identifier=data.get("parent_identifier"),
            call_identifier=data.get("call_identifier"),
            call_title=data.get("call_title"),
            organiser=data.get("organiser"),
            programme_label=data.get("programme_label"),
            programme_code=data.get("programme_code"),
            programme_divisions=tuple(
                ProgrammeDivision(d.get("code"), d.get("label"))
                for d in data.get("programme_divisions") or ()
            ),
            type_of_action=data.get("type_of_action"),
            summary_html=data.get("summary_html"),
            description_html=data.get("description_html"),
            url=data.get("url"),
            language=data.get("language"),
            other_titles=tuple(
                (str(lang), str(title)) for lang, title in data.get("other_titles") or ()
            ),
            published_at=_moment(data.get("published_at")),
            opens_at=_moment(data.get("opens_at")),
            opening_note=data.get("opening_note"),
            deadlines=tuple(
                Deadline(
                    at=datetime.fromisoformat(d["at"]),
                    stage=d.get("stage") or "deadline",
                    date_only=bool(d.get("date_only")),
                )
                for d in data.get("deadlines") or ()
            ),
            deadline_model=DeadlineModel(model) if model else None,
            budget=None
            if not budget
            else Budget(
                currency=budget.get("currency"),
                total=_decimal(budget.get("total")),
                min_grant=_decimal(budget.get("min_grant")),
                max_grant=_decimal(budget.get("max_grant")),
                expected_grants=budget.get("expected_grants"),
            ),
            funding_rate_pct=_decimal(data.get("funding_rate_pct")),
            region=data.get("region"),
            eligible_area=None
            if not area
            else EligibleArea(
                countries=tuple(area.get("countries") or ()),
                country_names=tuple(area.get("country_names") or ()),
                nuts=tuple(area.get("nuts") or ()),
            ),
            eligible_applicants=data.get("eligible_applicants"),
            keywords=tuple(data.get("keywords") or ()),
            tags=tuple(data.get("tags") or ()),
            cross_cutting_priorities=tuple(data.get("cross_cutting_priorities") or ()),
            links=tuple(
                CallLink(link["url"], link.get("label")) for link in data.get("links") or ()
            ),
            updates=tuple(
                CallUpdate(u["html"], _moment(u.get("published_at")))
                for u in data.get("updates") or ()
            ),
            warnings=tuple(data.get("warnings") or ()),
            source_version=data.get("source_version"),
        )

    def content_hash(self) -> str:
        """A digest of the normalised content (not the raw payload).

        Two fetches of an unchanged call give the same digest, so the ingest
        can skip it without comparing field by field.
        """
        payload = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _text(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _decimal(value: str | None) -> Decimal | None:
    return Decimal(value) if value not in (None, "") else None


@dataclass(frozen=True, slots=True)
class Quarantined:
    """An item a parser could not turn into a record, kept for an admin to see."""

    raw: Any
    reason: str
    external_id: str | None = None


FeedItem = CallRecord | Quarantined


_CAPPED = "the source returned more than {limit} items; the first {limit} were kept"


def capped_warning(limit: int) -> str:
    """What a run that kept only the first `limit` items tells the admin."""
    return _CAPPED.format(limit=limit) + (
        " ([fetch] max_items_per_run), and no call was withdrawn in this run"
    )


def is_capped_warning(warning: str) -> bool:
    """Whether a stored run warning is `capped_warning`'s."""
    return warning.startswith(_CAPPED.split("{limit}")[0]) and "were kept" in warning


@dataclass(slots=True)
class FetchResult:
    """What fetching one source produced.

    `items` may be a lazy iterator (the bulk file is parsed while it is read);
    iterate it once, then call `close()` (or use the result as a context
    manager) to release temporary files. `complete` is True when the items are
    the source's whole current list, so a call missing from it has been
    withdrawn upstream; incremental sources set it to False. It may turn False
    while `items` is read (the item cap cut the list): read it after the items.
    """

    items: Iterable[FeedItem] = ()
    not_modified: bool = False
    complete: bool = True
    etag: str | None = None
    last_modified: str | None = None
    warnings: list[str] = field(default_factory=list)
    skipped: int = 0
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def __iter__(self) -> Iterator[FeedItem]:
        return iter(self.items)

    def records(self) -> list[CallRecord]:
        return [item for item in self.items if isinstance(item, CallRecord)]

    def close(self) -> None:
        while self._closers:
            self._closers.pop()()

    def __enter__(self) -> FetchResult:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- identifiers and URLs used to recognise one call across sources ---------

PORTAL_TOPIC_URL = (
    "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/"
    "opportunities/topic-details/{identifier}"
)
_TOPIC_IN_URL = re.compile(
    r"/(?:topic-details|topicDetails)/([A-Za-z0-9][A-Za-z0-9._\-]*?)(?:\.json)?/?"
    r"(?:$|[?#;])"
)
_TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid)$", re.IGNORECASE)


def normalise_identifier(value: str | None) -> str | None:
    """Case- and space-insensitive form of a call identifier, for matching."""
    if not value:
        return None
    text = "".join(value.split()).upper()
    return text or None


def topic_url(identifier: str) -> str:
    """The portal page of a topic."""
    return PORTAL_TOPIC_URL.format(identifier=identifier)


def identifier_from_url(url: str | None) -> str | None:
    """The topic identifier in a Funding & Tenders topic URL, if it is one."""
    if not url or "opic" not in url:  # topic-details / topicDetails
        return None
    parts = urlsplit(url)
    if not parts.netloc.lower().endswith("europa.eu"):
        return None
    match = _TOPIC_IN_URL.search(parts.path + ("?" if parts.query else ""))
    if not match:
        return None
    return match.group(1) or None


def canonical_url(url: str | None) -> str | None:
    """A comparable form of a URL.

    Lower-case scheme and host, no fragment, no tracking parameters, no
    trailing slash; Funding & Tenders topic URLs (page, JSON, old portal
    forms) all become the topic page URL.
    """
    if not url or not url.strip():
        return None
    url = url.strip()
    identifier = normalise_identifier(identifier_from_url(url))
    if identifier:
        return topic_url(identifier)
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return url
    query = ""
    if parts.query:
        query = urlencode(
            sorted(
                (k, v)
                for k, v in parse_qsl(parts.query, keep_blank_values=True)
                if not _TRACKING_PARAMS.match(k)
            )
        )
    path = parts.path.rstrip("/") or ""
    netloc = parts.netloc.lower()
    if netloc.startswith("www."):
        netloc = netloc[4:]
    return urlunsplit(("https", netloc, path, query, ""))

"""A fetched record's call columns: amounts in euro, deadlines by the source's rule, and the
fields of several sources merged (the most authoritative first).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from tracker.calltime import deadline_closes, zone
from tracker.feeds.records import (
    CallRecord,
    canonical_url,
    html_to_text,
    normalise_identifier,
)
from tracker.models import (
    FundingCall,
)

log = logging.getLogger(__name__)


# Columns filled from records. Budget columns travel together (one source's budget).
_SCALAR_COLUMNS = (
    "identifier",
    "identifier_key",
    "parent_identifier",
    "call_identifier",
    "call_title",
    "organiser",
    "title",
    "title_sv",
    "other_titles",
    "programme_code",
    "programme_label",
    "programme_divisions",
    "type_of_action",
    "summary",
    "description_html",
    "description_text",
    "url",
    "url_key",
    "language",
    "published_at",
    "opens_at",
    "opening_note",
    "cofinancing_rate",
    "region",
    "eligible_area",
    "eligible_applicants",
    "keywords",
    "tags",
    "cross_cutting_priorities",
    "links",
    "warnings",
)


_BUDGET_COLUMNS = (
    "currency",
    "budget_total",
    "budget_min",
    "budget_max",
    "expected_grants",
    "budget_total_eur",
    "budget_min_eur",
    "budget_max_eur",
)


_DEADLINE_COLUMNS = ("deadline_model", "deadlines")


def _in_eur(amount: Decimal | None, currency: str | None, sek_per_eur: Decimal | None) -> Any:
    if amount is None:
        return None
    if currency == "EUR":
        return amount
    if currency == "SEK" and sek_per_eur:
        return (amount / sek_per_eur).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return None


@dataclass(frozen=True, slots=True)
class _Deadline:
    at: datetime
    stage: str | None
    date_only: bool


def _deadlines(record: CallRecord, in_zone: ZoneInfo) -> list[_Deadline]:
    out = []
    for item in record.deadlines:
        at, date_only = deadline_closes(item.at, item.date_only, record.source_kind, in_zone)
        out.append(_Deadline(at, item.stage, date_only))
    return sorted(out, key=lambda d: d.at)


def call_values(
    record: CallRecord,
    sek_per_eur: Decimal | None = None,
    in_zone: ZoneInfo | None = None,
) -> dict[str, Any]:
    """The call columns one record supplies (amounts also in euro at `sek_per_eur`, days
    closing by ``tracker.calltime``'s rule in `in_zone`)."""
    budget = record.budget
    currency = budget.currency if budget else None
    total = budget.total if budget else None
    low = budget.min_grant if budget else None
    high = budget.max_grant if budget else None
    summary = html_to_text(record.summary_html) or None
    description_html = record.description_html
    area = record.eligible_area
    return {
        "identifier": record.identifier,
        "identifier_key": normalise_identifier(record.identifier),
        "parent_identifier": record.parent_identifier,
        "call_identifier": record.call_identifier,
        "call_title": record.call_title,
        "organiser": record.organiser,
        "title": record.title,
        "title_sv": record.title_sv,
        "other_titles": dict(record.other_titles),
        "programme_code": record.programme_code,
        "programme_label": record.programme_label,
        "programme_divisions": [
            {"code": d.code, "label": d.label} for d in record.programme_divisions
        ],
        "type_of_action": record.type_of_action,
        "summary": summary,
        "description_html": description_html,
        "description_text": html_to_text(description_html) or summary,
        "url": record.url,
        "url_key": canonical_url(record.url),
        "language": record.language,
        "published_at": record.published_at,
        "opens_at": record.opens_at,
        "opening_note": record.opening_note,
        "cofinancing_rate": record.funding_rate_pct,
        "region": record.region,
        "eligible_area": area.to_dict() if area is not None and not area.is_empty else {},
        "eligible_applicants": record.eligible_applicants,
        "keywords": list(record.keywords),
        "tags": list(record.tags),
        "cross_cutting_priorities": list(record.cross_cutting_priorities),
        "links": [{"url": link.url, "label": link.label} for link in record.links],
        "warnings": list(record.warnings),
        "currency": currency,
        "budget_total": total,
        "budget_min": low,
        "budget_max": high,
        "expected_grants": budget.expected_grants if budget else None,
        "budget_total_eur": _in_eur(total, currency, sek_per_eur),
        "budget_min_eur": _in_eur(low, currency, sek_per_eur),
        "budget_max_eur": _in_eur(high, currency, sek_per_eur),
        "deadline_model": record.deadline_model.value if record.deadline_model else None,
        "deadlines": _deadlines(record, in_zone or zone()),
    }


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def merge_values(ordered: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Merge the values of several sources, most authoritative first.

    Each column takes the first non-empty value; deadlines (with their model)
    and the budget each come whole from the first source that has them.
    """
    merged = dict(ordered[0])
    for name in _SCALAR_COLUMNS:
        merged[name] = next((v[name] for v in ordered if not _empty(v[name])), ordered[0][name])
    for group in (_BUDGET_COLUMNS, _DEADLINE_COLUMNS):
        anchor = group[1]
        chosen = next((v for v in ordered if not _empty(v[anchor])), ordered[0])
        for name in group:
            merged[name] = chosen[name]
    return merged


def record_digest(record_dict: Mapping[str, Any]) -> str:
    """Digest of a record's content; equal content gives an equal digest.

    `CallRecord.to_dict` always builds its keys in the same order, so the
    keys need no sorting.
    """
    payload = json.dumps(record_dict, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _raw(record: CallRecord) -> dict[str, Any] | None:
    if record.raw is None:
        return None
    return record.raw if isinstance(record.raw, dict) else {"value": record.raw}


def _budget_snapshot(values: Mapping[str, Any]) -> dict[str, Any] | None:
    snapshot = {
        "currency": values.get("currency"),
        "total": values.get("budget_total"),
        "min": values.get("budget_min"),
        "max": values.get("budget_max"),
        "expected_grants": values.get("expected_grants"),
    }
    if all(v is None for k, v in snapshot.items() if k != "currency"):
        return None
    # Compared by value: a source's 12500000.50 is the column's 12500000.5.
    return {k: (str(_normal(v)) if isinstance(v, Decimal) else v) for k, v in snapshot.items()}


def _call_budget(call: FundingCall) -> dict[str, Any] | None:
    return _budget_snapshot(
        {
            "currency": call.currency,
            "budget_total": _normal(call.budget_total),
            "budget_min": _normal(call.budget_min),
            "budget_max": _normal(call.budget_max),
            "expected_grants": call.expected_grants,
        }
    )


def _normal(value: Decimal | None) -> Decimal | None:
    """Numeric columns come back with the column's scale; compare them by value."""
    if value is None:
        return None
    return Decimal(int(value)) if value == value.to_integral_value() else value.normalize()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _deadline_list(deadlines: Iterable[_Deadline]) -> list[str]:
    return [d.at.isoformat() for d in deadlines]


@dataclass(frozen=True, slots=True)
class _Rules:
    """How a record's values are converted: SEK to euros, and days to closing moments."""

    sek_per_eur: Decimal | None
    in_zone: ZoneInfo

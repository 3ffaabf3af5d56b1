"""A call's partner rules as staff see them: what the reader finds in the call's texts, with
any value a staff member set in its place (kept when the source changes the call)."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.errors import ValidationFailed
from tracker.feeds.text import html_to_text
from tracker.i18n import msg
from tracker.models import FundingCall, PartnerRuleOverride, User
from tracker.partners.rules import (
    GROUPS,
    NUMBER_KINDS,
    ORGANISATION_TYPES,
    CallText,
    PartnerRules,
    Rule,
    RuleKind,
    read_partner_rules,
)
from tracker.services.audit import record_event

STAFF = "staff"
_CODE = re.compile(r"^[A-Z]{2}$")


def _conditions(raw: Mapping[str, Any] | None) -> str:
    """The conditions a source gave beside the description (SEDIA's topicConditions)."""
    if not raw:
        return ""
    metadata = raw.get("metadata") if isinstance(raw.get("metadata"), Mapping) else raw
    assert isinstance(metadata, Mapping)
    parts: list[str] = []
    for key in ("topicConditions", "conditions", "projectPartnership"):
        value = metadata.get(key)
        values = value if isinstance(value, list) else [value]
        parts += [html_to_text(v) for v in values if isinstance(v, str) and v.strip()]
    return "\n\n".join(parts)


def call_text(call: FundingCall) -> CallText:
    """What the partner-rule reader reads of a call."""
    description = call.description_text or html_to_text(call.description_html) or ""
    if call.summary and call.summary not in description:
        description = f"{call.summary}\n\n{description}"
    countries = (call.eligible_area or {}).get("countries") or []
    return CallText(
        description=description,
        conditions=_conditions(call.raw),
        eligible_applicants=call.eligible_applicants or "",
        programme=call.programme_label or call.programme_code or "",
        eligible_countries=tuple(str(c) for c in countries if isinstance(c, str)),
    )


def overrides(session: Session, call: FundingCall) -> dict[RuleKind, PartnerRuleOverride]:
    rows = session.scalars(
        select(PartnerRuleOverride).where(PartnerRuleOverride.call_id == call.id)
    )
    return {RuleKind(row.kind): row for row in rows if row.kind in set(RuleKind)}


def _as_value(kind: RuleKind, stored: Any) -> int | tuple[str, ...] | None:
    if stored is None:
        return None
    if kind in NUMBER_KINDS:
        return int(stored)
    return tuple(sorted(str(v) for v in stored))


# The reading of the texts most recently shown, so a call's page opened again (or its
# consortium page after it) does not read the same text again; a changed text is a new key.
_read_cached = functools.lru_cache(maxsize=256)(read_partner_rules)


def call_partner_rules(session: Session, call: FundingCall) -> PartnerRules:
    """The call's rules: the reading, with every staff value in its place."""
    read = _read_cached(call_text(call))
    rules = dict(read.rules)
    for kind, row in overrides(session, call).items():
        rules[kind] = Rule(kind, _as_value(kind, row.value), row.note, STAFF)
    return PartnerRules(rules)


def parse_rule_value(kind: RuleKind, text: str) -> int | list[str] | None:
    """A form's value for one rule: a number, or a list of codes separated by commas or
    spaces; "?" (or "okänt"/"unknown") says the call does not state it."""
    text = text.strip()
    if text.lower() in {"?", "unknown", "okänt", "okänd"}:
        return None
    if kind in NUMBER_KINDS:
        if not text.isdigit() or not 1 <= int(text) <= 200:
            raise ValidationFailed(
                msg("a whole number between 1 and 200, or ?"),
                {kind.value: msg("a whole number between 1 and 200, or ?")},
            )
        return int(text)
    values: list[str] = []
    for code in (c for c in re.split(r"[\s,;]+", text) if c):
        value = _code(kind, code)
        if value is None:
            message = msg("%(code)s is not a country code or a known group or type", code=code)
            raise ValidationFailed(message, {kind.value: message})
        if value not in values:
            values.append(value)
    if not values:
        raise ValidationFailed(msg("give a value, or ?"), {kind.value: msg("give a value, or ?")})
    return sorted(values)


def _code(kind: RuleKind, code: str) -> str | None:
    if kind is not RuleKind.ELIGIBLE_COUNTRIES and code.lower() in ORGANISATION_TYPES:
        return code.lower()
    if kind is RuleKind.PARTNER_TYPES:
        return None
    if code.upper() in GROUPS or _CODE.match(code.upper()):
        return code.upper()
    return None


def set_partner_rule(
    session: Session,
    call: FundingCall,
    kind: RuleKind,
    value: int | list[str] | None,
    *,
    note: str = "",
    actor: User | None,
    now: datetime,
) -> PartnerRuleOverride:
    """Record a staff member's value for one rule of the call (None: "not stated")."""
    row = overrides(session, call).get(kind)
    if row is None:
        row = PartnerRuleOverride(call_id=call.id, kind=kind.value, set_at=now)
        session.add(row)
    row.value = value
    row.note = note.strip()
    row.set_by = actor
    row.set_at = now
    session.flush()
    record_event(
        session,
        "partner_rule.set",
        "call",
        call.id,
        actor=actor,
        now=now,
        details={"kind": kind.value, "value": value},
    )
    return row


def clear_partner_rule(
    session: Session, call: FundingCall, kind: RuleKind, *, actor: User | None, now: datetime
) -> bool:
    """Forget the staff value for one rule, so the reading shows again."""
    row = overrides(session, call).get(kind)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    record_event(
        session,
        "partner_rule.cleared",
        "call",
        call.id,
        actor=actor,
        now=now,
        details={"kind": kind.value},
    )
    return True

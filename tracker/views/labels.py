"""Words for the review workspace's codes (states, reasons, statuses, evidence kinds) in the
reader's language, and the highlighting of match evidence; registered as template helpers."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask.sansio.app import App
from flask_babel import LazyString, pgettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from tracker import calltime, web
from tracker.calltime import CallStatus, format_deadline, format_money
from tracker.i18n import Message
from tracker.matching.regions import REGION_GATE, REGION_REASON
from tracker.models import DismissReason, TriageState
from tracker.services.matching import NO_TEXT_BASIS

# Contexts keep these apart from the same English words elsewhere ("Awarded" is "Beviljad"
# for a call but "Beviljat" for a project).
STATE_LABELS: dict[str, Callable[[], str]] = {
    "new": lambda: pgettext("triage state", "New"),
    "interested": lambda: pgettext("triage state", "Interested"),
    "preparing": lambda: pgettext("triage state", "Preparing an application"),
    "submitted": lambda: pgettext("triage state", "Submitted"),
    "awarded": lambda: pgettext("triage state", "Awarded"),
    "not_funded": lambda: pgettext("triage state", "Not funded"),
    "withdrawn": lambda: pgettext("triage state", "Withdrawn"),
    "dismissed": lambda: pgettext("triage state", "Dismissed"),
}


REASON_LABELS: dict[str, LazyString] = {
    "not_our_goals": _l("Not in line with our goals"),
    "not_eligible": _l("We are not eligible"),
    "no_cofinancing": _l("No co-financing"),
    "no_partner": _l("No partner"),
    "deadline_too_close": _l("Deadline too close"),
    "no_capacity": _l("No capacity"),
    "other": _l("Other reason"),
}


STATUS_LABELS: dict[str, Callable[[], str]] = {
    CallStatus.OPEN: lambda: pgettext("call status", "Open"),
    CallStatus.FORTHCOMING: lambda: pgettext("call status", "Forthcoming"),
    CallStatus.CLOSED: lambda: pgettext("call status", "Closed"),
    CallStatus.WITHDRAWN: lambda: pgettext("call status", "Withdrawn"),
    "all": lambda: pgettext("call status", "All"),
    "": lambda: pgettext("call status", "Open or forthcoming"),
}


EVIDENCE_LABELS: dict[str, LazyString] = {
    "term": _l("Words of the area"),
    "negative": _l("Words against the area"),
    "applicant": _l("Who may apply"),
    "exclusion": _l("Signs of a call for others"),
    "prior": _l("Programme"),
    "breadth": _l("Breadth of the match"),
    "feedback": _l("Learned from decisions"),
    "basis": _l("Basis"),
}

# Gates whose sentence is stored as parameters (FundingCall.gate_params), by code.
GATE_SENTENCES = {REGION_GATE: REGION_REASON}


FIELD_LABELS: dict[str, LazyString] = {
    "title": _l("title"),
    "keywords": _l("keywords and tags"),
    "description": _l("description"),
}


def state_label(state: TriageState | str | None) -> str:
    key = state.value if isinstance(state, TriageState) else (state or "new")
    label = STATE_LABELS.get(key)
    return str(label()) if label is not None else key


def reason_label(reason: DismissReason | str | None) -> str:
    if reason is None:
        return ""
    labels = REASON_LABELS
    key = reason.value if isinstance(reason, DismissReason) else reason
    return str(labels.get(key, key))


def status_label(status: str) -> str:
    label = STATUS_LABELS.get(status)
    return str(label()) if label is not None else status


def evidence_label(kind: str) -> str:
    labels = EVIDENCE_LABELS
    return str(labels.get(kind, kind))


def gate_text(code: str | None, reason: str | None, params: Mapping[str, Any] | None) -> str:
    """A call's gate in the reader's language (the stored English sentence otherwise)."""
    template = GATE_SENTENCES.get(code or "")
    if template is not None and params:
        try:
            return web.translate(Message(template, dict(params)))
        except (KeyError, TypeError, ValueError):  # parameters of an older sentence
            pass
    return reason or ""


def evidence_text(kind: str, text: str) -> str:
    """Evidence written by the tracker itself, in the reader's language."""
    if kind == "basis" and text == str(NO_TEXT_BASIS):
        return web.translate(NO_TEXT_BASIS)
    return text


def field_label(name: str | None) -> str:
    labels = FIELD_LABELS
    return str(labels.get(name or "", name or ""))


_WORD = re.compile(r"\w+", re.UNICODE)


def highlight(snippet: str | None, term: str | None) -> Markup:
    """The snippet, escaped, with the words of ``term`` marked. Words are matched on their
    start so that "school" also marks "schools" (the engine matches stems)."""
    if not snippet:
        return Markup("")
    words = [w for w in _WORD.findall(term or "") if len(w) >= 3]
    if not words:
        return escape(snippet)
    stems = sorted({w if len(w) <= 5 else w[: len(w) - 2] for w in words}, key=len, reverse=True)
    pattern = re.compile(
        r"(?<!\w)(" + "|".join(re.escape(s) for s in stems) + r")\w*", re.IGNORECASE
    )
    out = Markup("")
    last = 0
    for found in pattern.finditer(snippet):
        out += escape(snippet[last : found.start()])
        out += Markup("<mark>") + escape(found.group(0)) + Markup("</mark>")
        last = found.end()
    return out + escape(snippet[last:])


def money(value: Decimal | float | None) -> str:
    return format_money(value, web.current_language())


def days_left(moment: datetime | None, now: datetime) -> int | None:
    if moment is None:
        return None
    return calltime.days_left(moment, now, web.settings().tz)


def deadline_text(moment: datetime, date_only: bool = False) -> str:
    """A deadline as every page writes it (``tracker.calltime.format_deadline``)."""
    return format_deadline(
        moment, date_only=date_only, in_zone=web.settings().tz, locale=web.current_language()
    )


def register(app: App) -> None:
    app.add_template_global(state_label)
    app.add_template_global(reason_label)
    app.add_template_global(status_label)
    app.add_template_global(evidence_label)
    app.add_template_global(evidence_text)
    app.add_template_global(gate_text)
    app.add_template_global(field_label)
    app.add_template_global(days_left)
    app.add_template_global(deadline_text)
    app.add_template_filter(highlight)
    app.add_template_filter(money)

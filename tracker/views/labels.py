"""Words for the review workspace's codes (states, reasons, statuses, evidence kinds) in the
reader's language, and the highlighting of match evidence; registered as template helpers."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from babel.numbers import format_decimal
from flask.sansio.app import App
from flask_babel import gettext as _
from markupsafe import Markup, escape

from tracker import web
from tracker.models import DismissReason, TriageState


def state_label(state: TriageState | str | None) -> str:
    labels = {
        "new": _("New"),
        "interested": _("Interested"),
        "preparing": _("Preparing an application"),
        "submitted": _("Submitted"),
        "awarded": _("Awarded"),
        "not_funded": _("Not funded"),
        "withdrawn": _("Withdrawn"),
        "dismissed": _("Dismissed"),
    }
    key = state.value if isinstance(state, TriageState) else (state or "new")
    return str(labels.get(key, key))


def reason_label(reason: DismissReason | str | None) -> str:
    if reason is None:
        return ""
    labels = {
        "not_our_goals": _("Not in line with our goals"),
        "not_eligible": _("We are not eligible"),
        "no_cofinancing": _("No co-financing"),
        "no_partner": _("No partner"),
        "deadline_too_close": _("Deadline too close"),
        "no_capacity": _("No capacity"),
        "other": _("Other reason"),
    }
    key = reason.value if isinstance(reason, DismissReason) else reason
    return str(labels.get(key, key))


def status_label(status: str) -> str:
    labels = {
        "open": _("Open"),
        "forthcoming": _("Forthcoming"),
        "closed": _("Closed"),
        "all": _("All"),
        "": _("Open or forthcoming"),
    }
    return str(labels.get(status, status))


def evidence_label(kind: str) -> str:
    labels = {
        "term": _("Words of the area"),
        "negative": _("Words against the area"),
        "applicant": _("Who may apply"),
        "exclusion": _("Signs of a call for others"),
        "prior": _("Programme"),
        "breadth": _("Breadth of the match"),
        "feedback": _("Learned from decisions"),
    }
    return str(labels.get(kind, kind))


def field_label(name: str | None) -> str:
    labels = {
        "title": _("title"),
        "keywords": _("keywords and tags"),
        "description": _("description"),
    }
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
    if value is None:
        return ""
    return format_decimal(value, format="#,##0", locale=web.current_language())


def days_left(moment: datetime | None, now: datetime) -> int | None:
    if moment is None:
        return None
    tz = web.settings().tz
    return (moment.astimezone(tz).date() - now.astimezone(tz).date()).days


def register(app: App) -> None:
    app.add_template_global(state_label)
    app.add_template_global(reason_label)
    app.add_template_global(status_label)
    app.add_template_global(evidence_label)
    app.add_template_global(field_label)
    app.add_template_global(days_left)
    app.add_template_filter(highlight)
    app.add_template_filter(money)

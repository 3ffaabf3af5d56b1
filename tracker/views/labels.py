"""Words for the review workspace's codes (states, reasons, statuses, evidence kinds) in the
reader's language, and the highlighting of match evidence; registered as template helpers."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask.sansio.app import App
from flask_babel import LazyString, gettext, pgettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from tracker import calltime, web
from tracker.calltime import CallStatus, format_deadline, format_money
from tracker.i18n import Message
from tracker.matching.engine import Evidence
from tracker.matching.regions import REGION_GATE, REGION_REASON
from tracker.models import DismissReason, TriageState
from tracker.services.project_seeds import seeded_in_language
from tracker.services.strategy.evidence import evidence_line

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


USER_ROLE_LABELS: dict[str, Callable[[], str]] = {
    "admin": lambda: pgettext("user role", "Administrator"),
    "editor": lambda: pgettext("user role", "Editor"),
    "viewer": lambda: pgettext("user role", "Viewer"),
}


def user_role_label(role: object) -> str:
    key = getattr(role, "value", role)
    label = USER_ROLE_LABELS.get(str(key))
    return str(label()) if label is not None else str(key)


# Stages as the sources write them ("deadline", "first stage"), in the reader's language.
STAGE_LABELS: dict[str, Callable[[], str]] = {
    "deadline": lambda: pgettext("deadline stage", "Deadline"),
    "first stage": lambda: pgettext("deadline stage", "First stage"),
    "second stage": lambda: pgettext("deadline stage", "Second stage"),
    "stage 1": lambda: pgettext("deadline stage", "First stage"),
    "stage 2": lambda: pgettext("deadline stage", "Second stage"),
    "full proposal": lambda: pgettext("deadline stage", "Full proposal"),
    "pre-proposal": lambda: pgettext("deadline stage", "Pre-proposal"),
}


def stage_label(stage: str | None) -> str:
    if not stage:
        return ""
    label = STAGE_LABELS.get(stage.strip().casefold())
    return str(label()) if label is not None else stage


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
    "eligibility": _l("Who may apply"),
    "short-record": _l("Short record"),
}

# Evidence items with a code say the same thing in the reader's language (the engine
# writes English text, with the details, for the JSON output and the logs).

# Gates whose sentence is stored as parameters (FundingCall.gate_params), by code.
GATE_SENTENCES = {REGION_GATE: REGION_REASON}


FIELD_LABELS: dict[str, LazyString] = {
    "title": _l("title"),
    "keywords": _l("keywords and tags"),
    "description": _l("description"),
    "programme": _l("programme"),
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
    """A call's gate in the reader's language: its sentence's template and parameters when
    stored, the stored sentence looked up in the catalogue otherwise (the profile's rules
    have theirs there, see tracker.matching.profile_texts)."""
    values = dict(params or {})
    template = values.pop("template", None) or GATE_SENTENCES.get(code or "")
    if template is not None and values:
        try:
            return web.translate(Message(str(template), values))
        except (KeyError, TypeError, ValueError):  # parameters of an older sentence
            pass
    return web.translate(Message(reason, {})) if reason else ""


GATE_LABELS: dict[str, LazyString] = {
    "closed": _l("Closed"),
    "withdrawn": _l("Withdrawn by the source"),
    "geography": _l("Outside the eligible area"),
    "applicant": _l("Not for applicants like us"),
}


def gate_label(code: str | None) -> str:
    """A gate's kind in words: "geography.interreg" is "Outside the eligible area"."""
    key = code or ""
    label = GATE_LABELS.get(key) or GATE_LABELS.get(key.partition(".")[0])
    return str(label) if label is not None else str(_l("Excluded by a rule of the profile"))


def evidence_text(kind: str, text: str, code: str | None = None, call: Any = None) -> str:
    """One piece of match evidence in the reader's language (``evidence_line``, as the digest
    says it), with a gate's sentence through the call's stored gate."""
    if kind == "gate" and call is not None and getattr(call, "gate_reason", None) == text:
        return gate_text(call.gate_code, call.gate_reason, call.gate_params)
    return evidence_line(Evidence(kind=kind, text=text, weight=0.0, code=code), gettext)


def seeded_text(text: str | None) -> str:
    """A text the projects area's defaults seeded (a funder's rules, a network's
    description, a partner's notes) in the reader's language; texts staff wrote or edited
    stay as written."""
    return seeded_in_language(text, web.current_language())


def profile_text(text: str | None) -> str:
    """A text of the default strategy profile (its name, a note) in the reader's language;
    texts staff wrote themselves stay as written."""
    return web.translate(Message(text, {})) if text else ""


# A score is a ranking, not a measurement: pages say how good a match is in two bands and
# show the number rounded beside it.
STRONG_MATCH = 80.0


def match_band(score: float | None) -> str:
    """ "strong" or "possible", for a CSS class; ``match_band_label`` gives the words."""
    return "strong" if score is not None and score >= STRONG_MATCH else "possible"


def match_band_label(score: float | None) -> str:
    if match_band(score) == "strong":
        return str(pgettext("match band", "Strong match"))
    return str(pgettext("match band", "Possible match"))


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
        moment, date_only=date_only, in_zone=web.settings().tz, locale=web.current_locale()
    )


def register(app: App) -> None:
    app.add_template_global(state_label)
    app.add_template_global(reason_label)
    app.add_template_global(status_label)
    app.add_template_global(evidence_label)
    app.add_template_global(evidence_text)
    app.add_template_global(gate_text)
    app.add_template_global(gate_label)
    app.add_template_global(profile_text)
    app.add_template_global(seeded_text)
    app.add_template_global(user_role_label)
    app.add_template_global(stage_label)
    app.add_template_global(field_label)
    app.add_template_global(days_left)
    app.add_template_global(match_band)
    app.add_template_global(match_band_label)
    app.add_template_global(deadline_text)
    app.add_template_filter(highlight)
    app.add_template_filter(money)

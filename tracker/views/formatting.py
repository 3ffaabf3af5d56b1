"""Labels and template filters shared by the projects, partners, funders, delegations and
reports pages: enum values in the reader's language, amounts, countries and percentages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from babel.dates import format_date
from flask import Blueprint
from flask.blueprints import BlueprintSetupState
from flask.sansio.app import App
from flask_babel import lazy_gettext as _l

from tracker import web
from tracker.calltime import format_money
from tracker.i18n import Message
from tracker.models import (
    Contribution,
    Currency,
    DelegationKind,
    FunderKind,
    LineStatus,
    OrganisationKind,
    ProjectRole,
    ProjectStatus,
    Role,
    SisterCityRelation,
)
from tracker.services.fields import country_name

STATUS_LABELS = {
    ProjectStatus.IDEA: _l("Idea"),
    ProjectStatus.PREPARING: _l("Preparing"),
    ProjectStatus.SUBMITTED: _l("Submitted"),
    ProjectStatus.AWARDED: _l("Awarded"),
    ProjectStatus.REJECTED: _l("Rejected"),
    ProjectStatus.WITHDRAWN: _l("Withdrawn"),
    ProjectStatus.RUNNING: _l("Running"),
    ProjectStatus.CLOSED: _l("Closed"),
}
ROLE_LABELS = {
    ProjectRole.LEAD: _l("Lead partner"),
    ProjectRole.PARTNER: _l("Partner"),
    ProjectRole.ASSOCIATED: _l("Associated partner"),
}
ORGANISATION_KIND_LABELS = {
    OrganisationKind.MUNICIPALITY: _l("Municipality"),
    OrganisationKind.REGION: _l("Region"),
    OrganisationKind.UNIVERSITY: _l("University"),
    OrganisationKind.COMPANY: _l("Company"),
    OrganisationKind.NGO: _l("Civil society (NGO)"),
    OrganisationKind.AGENCY: _l("Agency"),
    OrganisationKind.NETWORK: _l("Network"),
    OrganisationKind.OTHER: _l("Other (not classified)"),
}
FUNDER_KIND_LABELS = {
    FunderKind.EU_DIRECT: _l("EU, direct management"),
    FunderKind.EU_SHARED: _l("EU, shared management (structural funds)"),
    FunderKind.INTERREG: _l("Interreg"),
    FunderKind.NATIONAL_AGENCY: _l("National agency"),
    FunderKind.REGION: _l("Region"),
    FunderKind.FOUNDATION: _l("Foundation or fund"),
    FunderKind.NORDIC: _l("Nordic"),
    FunderKind.PRIVATE: _l("Private"),
    FunderKind.OWN_BUDGET: _l("Own municipal budget"),
}
CONTRIBUTION_LABELS = {
    Contribution.CASH: _l("Cash"),
    Contribution.IN_KIND: _l("In kind"),
}
LINE_STATUS_LABELS = {
    LineStatus.ASKED: _l("Asked"),
    LineStatus.LETTER_OF_INTENT: _l("Letter of intent"),
    LineStatus.DECIDED: _l("Decided"),
    LineStatus.PAID: _l("Paid"),
}
RELATION_LABELS = {
    SisterCityRelation.TWIN_TOWN: _l("Twin town"),
    SisterCityRelation.COOPERATION: _l("Cooperation"),
    SisterCityRelation.PLANNED: _l("Planned cooperation"),
}
DELEGATION_KIND_LABELS = {
    DelegationKind.DELEGATION: _l("Official delegation"),
    DelegationKind.VISIT: _l("International visit"),
}
FIELD_LABELS = {
    "title": _l("Title"),
    "acronym": _l("Acronym"),
    "programme": _l("Programme"),
    "call_id": _l("Funding call"),
    "role": _l("The municipality's role"),
    "status": _l("Status"),
    "lead_office_id": _l("Lead office"),
    "contact_id": _l("Contact person"),
    "focus_areas": _l("Focus areas"),
    "submitted_on": _l("Submitted"),
    "decision_on": _l("Decision"),
    "start_on": _l("Start"),
    "end_on": _l("End"),
    "registry_number": _l("Registry number (diarienummer)"),
    "currency": _l("Currency"),
    "total_budget": _l("Total budget"),
    "municipality_budget": _l("The municipality's budget"),
    "eu_grant": _l("EU grant to the municipality"),
    "eu_grant_rate": _l("EU grant rate (%)"),
    "own_contribution_cash": _l("Own contribution, cash"),
    "own_contribution_in_kind": _l("Own contribution, in kind"),
    "covers_ordinary_municipal_tasks": _l("Covers ordinary municipal tasks"),
    "outcome": _l("Outcome"),
    "results": _l("Results"),
    "documents": _l("Documents"),
    "amount": _l("Amount"),
    "contribution": _l("Cash or in kind"),
    "decision_body": _l("Decision body"),
    "meeting_on": _l("Decision meeting"),
    "applicant_id": _l("Applicant"),
    "note": _l("Note"),
    "funder_id": _l("Funder"),
}
ACTION_LABELS = {
    "project.created": _l("Project created"),
    "project.updated": _l("Project changed"),
    "project.partner_added": _l("Partner added"),
    "project.partner_changed": _l("Partner's role changed"),
    "project.partner_removed": _l("Partner removed"),
    "project.line_added": _l("Co-financing line added"),
    "project.line_changed": _l("Co-financing line changed"),
    "project.line_removed": _l("Co-financing line removed"),
}

LABELS: dict[str, Any] = {
    "currency": {c: c.value for c in Currency},
    "status": STATUS_LABELS,
    "role": ROLE_LABELS,
    "organisation_kind": ORGANISATION_KIND_LABELS,
    "funder_kind": FUNDER_KIND_LABELS,
    "contribution": CONTRIBUTION_LABELS,
    "line_status": LINE_STATUS_LABELS,
    "relation": RELATION_LABELS,
    "delegation_kind": DELEGATION_KIND_LABELS,
    "field": FIELD_LABELS,
    "action": ACTION_LABELS,
}


def amount(value: Decimal | float | int | str | None, decimals: int = 2) -> str:
    """``1 234 567,50`` in Swedish, ``1,234,567.50`` in English (the audit log keeps amounts
    as strings, hence ``str``)."""
    return format_money(value, web.current_language(), decimals=decimals)


def percent(value: Decimal | float | None, decimals: int = 1) -> str:
    """A ratio (0.5) as ``50,0 %``."""
    if value is None:
        return "–"
    return amount(Decimal(str(value)) * 100, decimals) + "\u00a0%"


def message(text: object) -> str:
    """A service's message in the reader's language as a sentence: amounts and dates in its
    parameters are written the reader's way, the first letter is a capital."""
    if isinstance(text, Message):
        params = {key: _localised(value) for key, value in text.params.items()}
        text = Message(text.template, params)
    sentence = web.translate(text)
    return sentence[:1].upper() + sentence[1:]


def _localised(value: object) -> object:
    if isinstance(value, Decimal):
        return amount(value, 0 if value == value.to_integral_value() else 2)
    if isinstance(value, date):
        return format_date(value, "long", locale=web.current_language())
    return value


def country(code: str | None) -> str:
    return country_name(code, web.current_language())


def _context() -> dict[str, Any]:
    user = web.current_user()
    return {
        "labels": LABELS,
        "can_edit": user is not None and user.role.allows(Role.EDITOR),
        "can_admin": user is not None and user.role.allows(Role.ADMIN),
    }


def _install(app: App) -> None:
    if "amount" in app.jinja_env.filters:
        return
    app.add_template_filter(amount, "amount")
    app.add_template_filter(percent, "percent")
    app.add_template_filter(country, "country")
    app.add_template_filter(message, "message")
    app.context_processor(_context)


def install(bp: Blueprint) -> None:
    """Make the labels and filters available to every template once ``bp`` is registered."""

    def setup(state: BlueprintSetupState) -> None:
        _install(state.app)

    bp.record_once(setup)

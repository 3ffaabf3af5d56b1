"""Consortium building: the call's partner rules (read and corrected), partners suggested
from our networks, sister cities and past projects, the consortium draft with its check and
invitation mails, and the networks' members. Viewers read; editors change."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker import web
from tracker.errors import NotFound, TrackerError, ValidationFailed
from tracker.models import (
    FundingCall,
    NetworkMember,
    Organisation,
    OrganisationKind,
    ProjectRole,
    ProjectStatus,
    Role,
    SisterCity,
    SisterCityRelation,
)
from tracker.partners.consortium import Problem
from tracker.partners.rules import (
    ASSOCIATED,
    CIVIL_SOCIETY,
    EEA,
    EU,
    INTERNATIONAL,
    PUBLIC,
    SME,
    UNIVERSITY,
    PartnerRules,
    Rule,
    RuleKind,
)
from tracker.services import consortia
from tracker.services import inbox as inbox_service
from tracker.services.fields import (
    FieldError,
    clean,
    parse_choice,
    parse_country,
    parse_date,
    parse_rate,
)
from tracker.services.networks import (
    MemberData,
    MemberImportError,
    get_network,
    import_network_members,
    list_members,
    list_networks,
    network_areas,
    parse_themes,
    remove_network_member,
    set_network_member,
    set_network_themes,
    set_relation_contact,
)
from tracker.services.organisations import (
    OrganisationData,
    create_organisation,
    find_organisation,
    get_organisation,
)
from tracker.services.partner_rules import (
    STAFF,
    call_partner_rules,
    clear_partner_rule,
    overrides,
    parse_rule_value,
    set_partner_rule,
)
from tracker.services.partner_suggestions import Reason, Suggestions, suggest_partners
from tracker.services.project_import import read_table
from tracker.services.projects import active_focus_areas
from tracker.views import formatting

bp = Blueprint("partners", __name__)
formatting.install(bp)

RULE_LABELS = {
    RuleKind.MIN_PARTNERS: _l("Minimum number of partners"),
    RuleKind.MIN_COUNTRIES: _l("Minimum number of countries"),
    RuleKind.ELIGIBLE_COUNTRIES: _l("Eligible countries"),
    RuleKind.LEAD: _l("Who may lead"),
    RuleKind.PARTNER_TYPES: _l("Required partner types"),
    RuleKind.MAX_PARTNERS: _l("Maximum number of partners"),
}
CODE_LABELS = {
    EU: _l("EU member states"),
    EEA: _l("EEA countries"),
    ASSOCIATED: _l("associated countries"),
    PUBLIC: _l("public bodies"),
    CIVIL_SOCIETY: _l("civil society organisations"),
    UNIVERSITY: _l("universities and research organisations"),
    SME: _l("small and medium-sized enterprises"),
    INTERNATIONAL: _l("international organisations"),
}
ORIGIN_LABELS = {
    "description": _l("read in the description"),
    "conditions": _l("read in the conditions"),
    "eligible_applicants": _l("read in who may apply"),
    "eligible_area": _l("from the eligible area"),
    STAFF: _l("set by staff"),
}


def code_text(code: str) -> str:
    label = CODE_LABELS.get(code)
    return str(label) if label is not None else formatting.country(code)


def rule_value_text(rule: Rule) -> str:
    if rule.value is None:
        return str(_("unknown"))
    if isinstance(rule.value, int):
        return str(rule.value)
    return ", ".join(code_text(c) for c in rule.value)


def _areas_text(slugs: list[str]) -> str:
    names = _area_names()
    return ", ".join(names.get(s, s) for s in slugs)


def _area_names() -> dict[str, str]:
    language = web.current_language()
    return {a.slug: a.name(language) for a in active_focus_areas(web.db())}


def reason_text(reason: Reason) -> Markup:
    """One reason for a suggestion in the reader's language."""
    p = reason.params
    if reason.code == "network":
        text = _("Member of %(network)s", network=p["network"])
        if p.get("themes"):
            text += " – " + _("its themes: %(themes)s", themes="; ".join(p["themes"]))
        elif p.get("areas"):
            text += " – " + _("works on %(areas)s", areas=_areas_text(p["areas"]))
        if p.get("contact"):
            text += " – " + _("contact: %(name)s", name=p["contact"])
        return escape(text)
    if reason.code == "sister_city":
        relation = str(
            formatting.RELATION_LABELS.get(SisterCityRelation(p["relation"]), p["relation"])
        )
        text = _("Sister city (%(relation)s)", relation=relation)
        if p.get("areas"):
            text += " – " + _("we work together on %(areas)s", areas=_areas_text(p["areas"]))
        if p.get("contact"):
            text += " – " + _("contact: %(name)s", name=p["contact"])
        return escape(text)
    if reason.code == "past_project":
        status = str(formatting.STATUS_LABELS.get(ProjectStatus(p["status"]), p["status"]))
        if p.get("same_programme"):
            text = _(
                "Partner in our project %(project)s in the same programme (%(status)s)",
                project=p["project"],
                status=status,
            )
        else:
            text = _(
                "Partner in our project %(project)s in %(areas)s (%(status)s)",
                project=p["project"],
                areas=_areas_text(p["areas"]),
                status=status,
            )
        return escape(text)
    if reason.code == "recent_contact":
        return escape(_("In contact within the last year (%(date)s)", date=p["on"].isoformat()))
    if reason.code == "contact":
        return escape(_("Last contact %(date)s", date=p["on"].isoformat()))
    if reason.code == "not_eligible":
        return escape(
            _(
                "%(country)s is not eligible: the call accepts %(eligible)s",
                country=formatting.country(p["country"]),
                eligible=", ".join(code_text(c) for c in p["eligible"]),
            )
        )
    return escape(reason.code)


def problem_text(problem: Problem) -> str:
    """One rule the consortium breaks, said as what is missing."""
    p = problem.params
    texts: dict[str, Callable[[], str]] = {
        "too_few_partners": lambda: _(
            "The call asks for at least %(need)d partners; the draft has %(have)d: "
            "%(missing)d more needed.",
            **p,
        ),
        "too_many_partners": lambda: _(
            "The call allows at most %(most)d partners; the draft has %(have)d.", **p
        ),
        "too_few_countries": lambda: _(
            "The call asks for partners from at least %(need)d countries; the draft has "
            "%(have)d (%(countries)s).",
            need=p["need"],
            have=p["have"],
            countries=", ".join(p["countries"]) or "–",
        ),
        "not_eligible": lambda: _(
            "%(name)s is in %(country)s, which the call does not accept (%(eligible)s).",
            name=p["name"],
            country=formatting.country(p["country"]),
            eligible=", ".join(code_text(c) for c in p["eligible"]),
        ),
        "no_lead": lambda: _("Nobody leads: choose the lead partner."),
        "several_leads": lambda: _(
            "Only one partner can lead: %(names)s are all set as lead.",
            names=", ".join(p["names"]),
        ),
        "lead_not_allowed": lambda: _(
            "%(name)s may not lead: the call lets %(allowed)s lead.",
            name=p["name"],
            allowed=", ".join(code_text(c) for c in p["allowed"]),
        ),
        "missing_type": lambda: _(
            "The call asks for %(type)s in the consortium; the draft has none.",
            type=code_text(p["type"]),
        ),
    }
    text = texts.get(problem.code)
    return text() if text is not None else problem.code


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {
        "rule_label": lambda kind: RULE_LABELS[kind],
        "rule_value_text": rule_value_text,
        "origin_label": lambda origin: ORIGIN_LABELS.get(origin, origin),
        "partner_reason": reason_text,
        "problem_text": problem_text,
        "code_text": code_text,
    }


# --- the call page's panel ----------------------------------------------------------------


def call_panel(call: FundingCall, now: datetime) -> dict[str, Any]:
    """What the call page shows of partners: the rules, the staff values, the best
    suggestions and the draft's state."""
    session = web.db()
    rules = call_partner_rules(session, call)
    suggestions = suggest_partners(session, call, rules, today=now.date(), limit=8)
    staff = overrides(session, call)
    return {
        "rules": rules,
        "kinds": list(RuleKind),
        "staff": staff,
        "form": {kind: _staff_form_value(rules, kind, staff) for kind in RuleKind},
        "eligible_known": rules.get(RuleKind.ELIGIBLE_COUNTRIES).is_known,
        "suggestions": suggestions,
        "draft": consortia.get_draft(session, call),
    }


def _call_or_404(call_id: int) -> FundingCall:
    try:
        return inbox_service.get_call(web.db(), call_id)
    except NotFound:
        abort(404)


def _staff_form_value(rules: PartnerRules, kind: RuleKind, staff: Mapping[RuleKind, Any]) -> str:
    if kind not in staff:
        return ""
    rule = rules.get(kind)
    if rule.value is None:
        return "?"
    return str(rule.value) if isinstance(rule.value, int) else ", ".join(rule.value)


@bp.route("/calls/<int:call_id>/partner-rules", methods=["POST"])
@web.requires(Role.EDITOR)
def save_rules(call_id: int) -> Response:
    """Staff values for the call's rules: a blank field goes back to the reading."""
    session = web.db()
    call = _call_or_404(call_id)
    actor = web.require_user()
    now = web.now()
    errors: list[str] = []
    current = overrides(session, call)
    for kind in RuleKind:
        text = request.form.get(kind.value, "").strip()
        note = request.form.get(f"{kind.value}_note", "").strip()
        if not text:
            clear_partner_rule(session, call, kind, actor=actor, now=now)
            continue
        try:
            value = parse_rule_value(kind, text)
        except ValidationFailed as exc:
            errors.append(f"{RULE_LABELS[kind]}: {exc.errors.get(kind.value, exc)}")
            continue
        row = current.get(kind)
        if row is None or row.value != value or row.note != note:
            set_partner_rule(session, call, kind, value, note=note, actor=actor, now=now)
    if errors:
        session.rollback()
        for error in errors:
            flash(error, "error")
    else:
        session.commit()
        flash(_("Partner rules saved."), "info")
    return redirect(url_for("inbox.call_page", call_id=call.id) + "#partners-heading")


# --- the consortium page --------------------------------------------------------------------


def _deadline_text(call: FundingCall, now: datetime) -> str:
    deadline = call.next_deadline(now)
    if deadline is None:
        return "–"
    return deadline.astimezone(web.settings().tz).strftime("%Y-%m-%d %H:%M")


@bp.route("/calls/<int:call_id>/consortium")
@web.requires(Role.VIEWER)
def consortium(call_id: int) -> str:
    session = web.db()
    call = _call_or_404(call_id)
    now = web.now()
    rules = call_partner_rules(session, call)
    draft = consortia.get_draft(session, call)
    suggestions: Suggestions = suggest_partners(session, call, rules, today=now.date(), limit=25)
    user = web.require_user()
    return render_template(
        "partners/consortium.html",
        call=call,
        rules=rules,
        kinds=list(RuleKind),
        draft=draft,
        check=consortia.check_draft(draft, rules) if draft is not None else None,
        suggestions=suggestions,
        organisations=list(
            session.scalars(
                select(Organisation)
                .where(Organisation.kind != OrganisationKind.NETWORK)
                .order_by(Organisation.name)
            )
        ),
        roles=list(ProjectRole),
        projects=consortia.projects_for_call(session, call),
        mails=(
            {
                m.id: consortia.invite_mails(call, draft, m, _deadline_text(call, now))
                for m in draft.members
            }
            if draft is not None
            else {}
        ),
        our_name=consortia.OUR_NAME,
        can_edit=user.role.allows(Role.EDITOR),
    )


def _to_consortium(call: FundingCall) -> Response:
    return redirect(url_for("partners.consortium", call_id=call.id))


def _fail(exc: TrackerError) -> None:
    web.db().rollback()
    message = exc.args[0] if exc.args else str(exc)
    flash(str(message), "error")


def _share(key: str) -> Decimal | None:
    """A budget share in percent from the form, blank for not decided."""
    try:
        return parse_rate(request.form.get(key, ""))
    except FieldError as exc:
        raise ValidationFailed(exc.message, {key: exc.message}) from None


def _role(value: str) -> ProjectRole:
    try:
        return parse_choice(value, ProjectRole)
    except FieldError as exc:
        raise ValidationFailed(exc.message, {"role": exc.message}) from None


@bp.route("/calls/<int:call_id>/consortium", methods=["POST"])
@web.requires(Role.EDITOR)
def save_consortium(call_id: int) -> Response:
    session = web.db()
    call = _call_or_404(call_id)
    try:
        consortia.save_draft(
            session,
            call,
            idea=request.form.get("idea", ""),
            our_role=_role(request.form.get("our_role", "lead")),
            our_budget_share=_share("our_budget_share"),
            actor=web.require_user(),
            now=web.now(),
        )
    except TrackerError as exc:
        _fail(exc)
        return _to_consortium(call)
    session.commit()
    flash(_("Consortium draft saved."), "info")
    return _to_consortium(call)


@bp.route("/calls/<int:call_id>/consortium/members", methods=["POST"])
@web.requires(Role.EDITOR)
def add_consortium_member(call_id: int) -> Response:
    session = web.db()
    call = _call_or_404(call_id)
    actor = web.require_user()
    now = web.now()
    try:
        organisation_id = request.form.get("organisation_id", "")
        if not organisation_id.isdigit():
            raise ValidationFailed(_("Choose an organisation."), {"organisation_id": "?"})
        organisation = get_organisation(session, int(organisation_id))
        draft = consortia.get_draft(session, call) or consortia.save_draft(
            session, call, idea="", our_role=ProjectRole.LEAD, actor=actor, now=now
        )
        consortia.add_member(
            session,
            draft,
            organisation,
            _role(request.form.get("role", "partner")),
            task=request.form.get("task", ""),
            budget_share=_share("budget_share"),
            actor=actor,
            now=now,
        )
    except TrackerError as exc:
        _fail(exc)
        return _to_consortium(call)
    session.commit()
    flash(_("%(name)s added to the consortium.", name=organisation.name), "info")
    return _to_consortium(call)


@bp.route("/calls/<int:call_id>/consortium/members/<int:member_id>/delete", methods=["POST"])
@web.requires(Role.EDITOR)
def remove_consortium_member(call_id: int, member_id: int) -> Response:
    session = web.db()
    call = _call_or_404(call_id)
    draft = consortia.get_draft(session, call)
    if draft is None:
        abort(404)
    try:
        consortia.remove_member(session, draft, member_id, actor=web.require_user(), now=web.now())
    except TrackerError as exc:
        _fail(exc)
        return _to_consortium(call)
    session.commit()
    return _to_consortium(call)


@bp.route("/calls/<int:call_id>/consortium/hand-over", methods=["POST"])
@web.requires(Role.EDITOR)
def hand_over(call_id: int) -> Response:
    """The submitted project takes the draft's partners as its partner list."""
    session = web.db()
    call = _call_or_404(call_id)
    draft = consortia.get_draft(session, call)
    project_id = request.form.get("project_id", "")
    project = next(
        (p for p in consortia.projects_for_call(session, call) if str(p.id) == project_id), None
    )
    if draft is None or project is None:
        abort(404)
    try:
        added = consortia.hand_over(
            session, draft, project, actor=web.require_user(), now=web.now()
        )
    except TrackerError as exc:
        _fail(exc)
        return _to_consortium(call)
    session.commit()
    flash(_("%(count)d partners added to %(project)s.", count=added, project=project.title), "info")
    return _to_consortium(call)


# --- networks ---------------------------------------------------------------------------------


@bp.route("/networks")
@web.requires(Role.VIEWER)
def networks() -> str:
    session = web.db()
    items = list_networks(session)
    relations = list(
        session.scalars(
            select(SisterCity)
            .join(Organisation)
            .order_by(Organisation.country_code, Organisation.name)
        )
    )
    return render_template(
        "partners/networks.html",
        networks=items,
        members={n.id: list_members(session, n) for n in items},
        network_areas=network_areas,
        relations=relations,
        area_names=_area_names(),
        areas=active_focus_areas(session),
        can_edit=web.require_user().role.allows(Role.EDITOR),
    )


@bp.route("/networks/<int:network_id>")
@web.requires(Role.VIEWER)
def network(network_id: int) -> str:
    session = web.db()
    try:
        item = get_network(session, network_id)
    except NotFound:
        abort(404)
    return render_template(
        "partners/network.html",
        network=item,
        themes_text="\n".join(
            f"{t.get('theme', '')} | {', '.join(t.get('areas', []))}"
            for t in (item.membership.themes if item.membership else [])
            if isinstance(t, dict)
        ),
        members=list_members(session, item),
        area_names=_area_names(),
        kinds=[k for k in OrganisationKind if k is not OrganisationKind.NETWORK],
        can_edit=web.require_user().role.allows(Role.EDITOR),
    )


def _member_form(form: Mapping[str, str]) -> tuple[OrganisationData, MemberData]:
    errors: dict[str, str] = {}
    country = ""
    kind = OrganisationKind.MUNICIPALITY
    last_contact = None
    try:
        country = parse_country(form.get("country_code"))
    except FieldError as exc:
        errors["country_code"] = str(exc.message)
    try:
        kind = parse_choice(form.get("kind", "municipality"), OrganisationKind)
    except FieldError as exc:
        errors["kind"] = str(exc.message)
    try:
        last_contact = parse_date(form.get("last_contact_on"))
    except FieldError as exc:
        errors["last_contact_on"] = str(exc.message)
    if not clean(form.get("name")):
        errors["name"] = _("A name is required.")
    if errors:
        raise ValidationFailed("; ".join(errors.values()), errors)
    return (
        OrganisationData(clean(form.get("name")), kind, country, clean(form.get("city")) or None),
        MemberData(
            clean(form.get("contact_name")),
            clean(form.get("contact_email")),
            last_contact,
            clean(form.get("notes")),
        ),
    )


@bp.route("/networks/<int:network_id>/themes", methods=["POST"])
@web.requires(Role.EDITOR)
def save_themes(network_id: int) -> Response:
    session = web.db()
    try:
        item = get_network(session, network_id)
    except NotFound:
        abort(404)
    try:
        themes = parse_themes(
            request.form.get("themes", ""), [a.slug for a in active_focus_areas(session)]
        )
        set_network_themes(session, item, themes, actor=web.require_user(), now=web.now())
    except TrackerError as exc:
        _fail(exc)
        return redirect(url_for("partners.network", network_id=network_id))
    session.commit()
    flash(_("Changes saved."), "info")
    return redirect(url_for("partners.network", network_id=network_id))


@bp.route("/networks/<int:network_id>/members", methods=["POST"])
@web.requires(Role.EDITOR)
def add_network_member(network_id: int) -> Response:
    session = web.db()
    actor = web.require_user()
    now = web.now()
    try:
        item = get_network(session, network_id)
    except NotFound:
        abort(404)
    try:
        data, member = _member_form(request.form)
        assert data.country_code is not None
        organisation = find_organisation(
            session, data.name, data.country_code
        ) or create_organisation(session, data, actor=actor, now=now)
        set_network_member(session, item, organisation, member, actor=actor, now=now)
    except TrackerError as exc:
        _fail(exc)
        return redirect(url_for("partners.network", network_id=network_id))
    session.commit()
    flash(
        _("%(name)s is a member of %(network)s.", name=organisation.name, network=item.name), "info"
    )
    return redirect(url_for("partners.network", network_id=network_id))


@bp.route("/networks/<int:network_id>/members/<int:member_id>/delete", methods=["POST"])
@web.requires(Role.EDITOR)
def delete_network_member(network_id: int, member_id: int) -> Response:
    session = web.db()
    member = session.get(NetworkMember, member_id)
    if member is None or member.network_id != network_id:
        abort(404)
    remove_network_member(session, member, actor=web.require_user(), now=web.now())
    session.commit()
    return redirect(url_for("partners.network", network_id=network_id))


@bp.route("/networks/relations/<int:relation_id>", methods=["POST"])
@web.requires(Role.EDITOR)
def save_relation(relation_id: int) -> Response:
    session = web.db()
    relation = session.get(SisterCity, relation_id)
    if relation is None:
        abort(404)
    try:
        last_contact = parse_date(request.form.get("last_contact_on"))
    except FieldError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("partners.networks") + "#relations")
    set_relation_contact(
        session,
        relation,
        contact_name=request.form.get("contact_name", ""),
        last_contact_on=last_contact,
        focus_areas=request.form.getlist("focus_areas"),
        actor=web.require_user(),
        now=web.now(),
    )
    session.commit()
    flash(_("Changes saved."), "info")
    return redirect(url_for("partners.networks") + "#relations")


@bp.route("/networks/import", methods=["GET", "POST"])
@web.requires(Role.EDITOR)
def import_members() -> str | tuple[str, int]:
    session = web.db()

    def page(status: int = 200, **values: Any) -> tuple[str, int]:
        context: dict[str, Any] = {"result": None, "file_error": None, "rows": []}
        context.update(values)
        return render_template("partners/import.html", **context), status

    if request.method == "GET":
        return page()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return page(400, file_error=_("Choose a file."))
    try:
        table = read_table(upload.read(), upload.filename)
        result = import_network_members(session, table, actor=web.require_user(), now=web.now())
    except MemberImportError as exc:
        session.rollback()
        return page(422, rows=exc.rows)
    except ValidationFailed as exc:
        session.rollback()
        return page(422, file_error=exc.args[0] if exc.args else str(exc))
    session.commit()
    return page(result=result)

"""Partners: organisations, the networks the municipality belongs to and its sister cities.
Viewers read; editors register and change organisations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker import web
from tracker.errors import ValidationFailed
from tracker.models import (
    Office,
    Organisation,
    OrganisationKind,
    Role,
    SisterCityRelation,
    User,
)
from tracker.services.fields import FieldError, parse_choice
from tracker.services.organisations import (
    create_organisation,
    get_organisation,
    list_organisations,
    partner_projects,
    read_organisation_form,
    read_year,
    remove_membership,
    remove_sister_city,
    set_membership,
    set_sister_city,
    update_organisation,
)
from tracker.services.partner_memory import considered_calls
from tracker.services.projects import active_focus_areas
from tracker.views import formatting

bp = Blueprint("organisations", __name__, url_prefix="/organisations")
formatting.install(bp)

BASE_KEYS = ("name", "kind", "country_code", "city", "url", "notes")
LINK_KEYS = (
    "is_member",
    "since_year",
    "ended_year",
    "office_id",
    "contact_id",
    "description",
    "relation",
    "sister_since_year",
    "topics",
)


@bp.route("/")
@web.requires(Role.VIEWER)
def index() -> str:
    kind_text = request.args.get("kind", "")
    kind = OrganisationKind(kind_text) if kind_text in set(OrganisationKind) else None
    text = request.args.get("q", "").strip().lower()
    everyone = list_organisations(web.db())
    partners = [
        o
        for o in everyone
        if (kind is None or o.kind is kind) and (not text or text in o.name.lower())
    ]
    language = web.current_language()
    return render_template(
        "organisations/index.html",
        networks=[o for o in everyone if o.membership is not None],
        sister_cities=[o for o in everyone if o.sister_city is not None],
        partners=partners,
        kinds=list(OrganisationKind),
        filters={"kind": kind_text, "q": request.args.get("q", "")},
        area_names={a.slug: a.name(language) for a in active_focus_areas(web.db())},
    )


@bp.route("/<int:organisation_id>")
@web.requires(Role.VIEWER)
def detail(organisation_id: int) -> str:
    session = web.db()
    organisation = get_organisation(session, organisation_id)
    language = web.current_language()
    return render_template(
        "organisations/detail.html",
        organisation=organisation,
        links=partner_projects(session, organisation),
        considered=considered_calls(session, organisation),
        area_names={a.slug: a.name(language) for a in active_focus_areas(session)},
    )


@bp.route("/new", methods=["GET", "POST"])
@web.requires(Role.EDITOR)
def new() -> Response | str | tuple[str, int]:
    session = web.db()
    form = dict.fromkeys(BASE_KEYS, "")
    form["kind"] = OrganisationKind.MUNICIPALITY.value
    if request.method == "POST":
        form = {key: request.form.get(key, "").strip() for key in BASE_KEYS}
        try:
            data = read_organisation_form(form)
            organisation = create_organisation(
                session, data, actor=web.require_user(), now=web.now()
            )
        except ValidationFailed as exc:
            session.rollback()
            return _render_form(None, form, [], exc.errors), 422
        session.commit()
        flash(_("%(name)s registered.", name=organisation.name), "info")
        return redirect(url_for("organisations.detail", organisation_id=organisation.id))
    return _render_form(None, form, [], {})


@bp.route("/<int:organisation_id>/edit", methods=["GET", "POST"])
@web.requires(Role.EDITOR)
def edit(organisation_id: int) -> Response | str | tuple[str, int]:
    session = web.db()
    organisation = get_organisation(session, organisation_id)
    if request.method == "POST":
        form = {key: request.form.get(key, "").strip() for key in BASE_KEYS + LINK_KEYS}
        focus = request.form.getlist("focus_areas")
        try:
            _save(organisation, form, focus)
        except ValidationFailed as exc:
            session.rollback()
            organisation = get_organisation(session, organisation_id)
            return _render_form(organisation, form, focus, exc.errors), 422
        session.commit()
        flash(_("Changes saved."), "info")
        return redirect(url_for("organisations.detail", organisation_id=organisation.id))
    return _render_form(organisation, _form_from(organisation), _focus_of(organisation), {})


def _save(organisation: Organisation, form: Mapping[str, str], focus: list[str]) -> None:
    """Apply the edit form: the organisation, and its membership or sister-city relation."""
    session = web.db()
    actor = web.require_user()
    now = web.now()
    errors: dict[str, str] = {}
    try:
        data = read_organisation_form(form)
    except ValidationFailed as exc:
        errors.update(exc.errors)
        data = None
    since = read_year(form, "since_year", errors)
    ended = read_year(form, "ended_year", errors)
    sister_since = read_year(form, "sister_since_year", errors)
    relation = None
    if form.get("relation"):
        try:
            relation = parse_choice(form["relation"], SisterCityRelation)
        except FieldError as exc:
            errors["relation"] = exc.message
    office = _pick(Office, form.get("office_id", ""), "office_id", errors)
    contact = _pick(User, form.get("contact_id", ""), "contact_id", errors)
    if errors or data is None:
        raise ValidationFailed("; ".join(errors.values()), errors)
    update_organisation(session, organisation, data, actor=actor, now=now)
    if organisation.kind is OrganisationKind.NETWORK and form.get("is_member"):
        set_membership(
            session,
            organisation,
            since_year=since,
            ended_year=ended,
            office=office,
            contact=contact,
            focus_areas=focus,
            description=form.get("description", ""),
            actor=actor,
            now=now,
        )
    else:
        remove_membership(session, organisation, actor=actor, now=now)
    if organisation.kind is OrganisationKind.MUNICIPALITY and relation is not None:
        set_sister_city(
            session,
            organisation,
            relation=relation,
            since_year=sister_since,
            topics=form.get("topics", ""),
            actor=actor,
            now=now,
        )
    else:
        remove_sister_city(session, organisation, actor=actor, now=now)


def _pick(model: type[Office] | type[User], value: str, key: str, errors: dict[str, str]) -> Any:
    if not value:
        return None
    found = web.db().get(model, int(value)) if value.isdecimal() else None
    if found is None:
        errors[key] = _("Choose from the list.")
    return found


def _form_from(organisation: Organisation) -> dict[str, str]:
    form = {
        "name": organisation.name,
        "kind": organisation.kind.value,
        "country_code": organisation.country_code or "",
        "city": organisation.city or "",
        "url": organisation.url or "",
        "notes": organisation.notes,
    }
    form.update(dict.fromkeys(LINK_KEYS, ""))
    membership = organisation.membership
    if membership is not None:
        form.update(
            is_member="1",
            since_year=str(membership.since_year or ""),
            ended_year=str(membership.ended_year or ""),
            office_id=str(membership.office_id or ""),
            contact_id=str(membership.contact_id or ""),
            description=membership.description,
        )
    sister = organisation.sister_city
    if sister is not None:
        form.update(
            relation=sister.relation.value,
            sister_since_year=str(sister.since_year or ""),
            topics=sister.topics,
        )
    return form


def _focus_of(organisation: Organisation) -> list[str]:
    return list(organisation.membership.focus_areas) if organisation.membership else []


def _render_form(
    organisation: Organisation | None,
    form: Mapping[str, str],
    focus: list[str],
    errors: Mapping[str, str],
) -> str:
    session = web.db()
    return render_template(
        "organisations/form.html",
        organisation=organisation,
        form=form,
        focus=focus,
        errors=errors,
        kinds=list(OrganisationKind),
        relations=list(SisterCityRelation),
        offices=list(session.scalars(select(Office).order_by(Office.slug))),
        users=list(session.scalars(select(User).where(User.is_active).order_by(User.display_name))),
        areas=active_focus_areas(session),
    )

"""The log of official delegations and international visits, counted per year."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker import web
from tracker.errors import ValidationFailed
from tracker.models import Delegation, DelegationKind, Office, Role
from tracker.services.delegations import (
    count_by_year,
    create_delegation,
    delete_delegation,
    get_delegation,
    list_delegations,
    read_delegation_form,
    update_delegation,
)
from tracker.views import formatting

bp = Blueprint("delegations", __name__, url_prefix="/delegations")
formatting.install(bp)

KEYS = (
    "visited_on",
    "kind",
    "origin",
    "country_code",
    "topic",
    "host_office_id",
    "participants",
    "notes",
)


@bp.route("/")
@web.requires(Role.VIEWER)
def index() -> str:
    session = web.db()
    year_text = request.args.get("year", "")
    year = int(year_text) if _is_year(year_text) else None
    everything = list_delegations(session)
    return render_template(
        "delegations/index.html",
        delegations=[d for d in everything if year is None or d.visited_on.year == year],
        counts=count_by_year(everything),
        year=year,
    )


@bp.route("/new", methods=["GET", "POST"])
@web.requires(Role.EDITOR)
def new() -> Response | str | tuple[str, int]:
    session = web.db()
    if request.method == "POST":
        form = _posted()
        try:
            delegation = create_delegation(
                session, read_delegation_form(form), actor=web.require_user(), now=web.now()
            )
        except ValidationFailed as exc:
            session.rollback()
            return _render_form(None, form, exc.errors), 422
        session.commit()
        flash(_("Visit from %(origin)s logged.", origin=delegation.origin), "info")
        return redirect(url_for("delegations.index"))
    form = dict.fromkeys(KEYS, "")
    user = web.require_user()
    form.update(kind=DelegationKind.DELEGATION.value, host_office_id=str(user.office_id or ""))
    return _render_form(None, form, {})


@bp.route("/<int:delegation_id>/edit", methods=["GET", "POST"])
@web.requires(Role.EDITOR)
def edit(delegation_id: int) -> Response | str | tuple[str, int]:
    session = web.db()
    delegation = get_delegation(session, delegation_id)
    if request.method == "POST":
        form = _posted()
        try:
            update_delegation(
                session,
                delegation,
                read_delegation_form(form),
                actor=web.require_user(),
                now=web.now(),
            )
        except ValidationFailed as exc:
            session.rollback()
            return _render_form(get_delegation(session, delegation_id), form, exc.errors), 422
        session.commit()
        flash(_("Changes saved."), "info")
        return redirect(url_for("delegations.index"))
    return _render_form(delegation, _form_from(delegation), {})


@bp.route("/<int:delegation_id>/delete", methods=["POST"])
@web.requires(Role.EDITOR)
def delete(delegation_id: int) -> Response:
    session = web.db()
    delete_delegation(
        session, get_delegation(session, delegation_id), actor=web.require_user(), now=web.now()
    )
    session.commit()
    flash(_("The visit was removed from the log."), "info")
    return redirect(url_for("delegations.index"))


def _posted() -> dict[str, str]:
    return {key: request.form.get(key, "").strip() for key in KEYS}


def _form_from(delegation: Delegation) -> dict[str, str]:
    return {
        "visited_on": delegation.visited_on.isoformat(),
        "kind": delegation.kind.value,
        "origin": delegation.origin,
        "country_code": delegation.country_code or "",
        "topic": delegation.topic,
        "host_office_id": str(delegation.host_office_id or ""),
        "participants": str(delegation.participants or ""),
        "notes": delegation.notes,
    }


def _render_form(
    delegation: Delegation | None, form: Mapping[str, str], errors: Mapping[str, str]
) -> str:
    return render_template(
        "delegations/form.html",
        delegation=delegation,
        form=form,
        errors=errors,
        kinds=list(DelegationKind),
        offices=list(web.db().scalars(select(Office).order_by(Office.slug))),
    )


def _is_year(text: str) -> bool:
    return len(text) == 4 and text.isdecimal() and 1900 <= int(text) <= 2200

"""Co-financing sources and their rules. Everyone signed in reads them; only administrators
add or change them, since every project's plan is checked against these rules."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker import web
from tracker.errors import ValidationFailed
from tracker.models import Funder, FunderKind, Role, Source
from tracker.services.financing import (
    FUNDER_FLAGS,
    create_funder,
    get_funder,
    list_funders,
    read_funder_form,
    update_funder,
)
from tracker.views import formatting

bp = Blueprint("funders", __name__, url_prefix="/funders")
formatting.install(bp)

TEXT_KEYS = ("name", "kind", "programmes", "typical_max_rate", "rules_text", "url", "source_id")


@bp.route("/")
@web.requires(Role.VIEWER)
def index() -> str:
    return render_template("funders/index.html", funders=list_funders(web.db()))


@bp.route("/new", methods=["GET", "POST"])
@web.requires(Role.ADMIN)
def new() -> Response | str | tuple[str, int]:
    session = web.db()
    if request.method == "POST":
        form = _posted()
        try:
            funder = create_funder(
                session, read_funder_form(form), actor=web.require_user(), now=web.now()
            )
        except ValidationFailed as exc:
            session.rollback()
            return _render_form(None, form, exc.errors), 422
        session.commit()
        flash(_("%(name)s added.", name=funder.name), "info")
        return redirect(url_for("funders.index", _anchor=f"funder-{funder.id}"))
    form = dict.fromkeys(TEXT_KEYS, "")
    form.update(kind=FunderKind.FOUNDATION.value, municipalities_may_apply="1", is_active="1")
    return _render_form(None, form, {})


@bp.route("/<int:funder_id>/edit", methods=["GET", "POST"])
@web.requires(Role.ADMIN)
def edit(funder_id: int) -> Response | str | tuple[str, int]:
    session = web.db()
    funder = get_funder(session, funder_id)
    if request.method == "POST":
        form = _posted()
        try:
            update_funder(
                session, funder, read_funder_form(form), actor=web.require_user(), now=web.now()
            )
        except ValidationFailed as exc:
            session.rollback()
            return _render_form(get_funder(session, funder_id), form, exc.errors), 422
        session.commit()
        flash(_("Changes saved."), "info")
        return redirect(url_for("funders.index", _anchor=f"funder-{funder.id}"))
    return _render_form(funder, _form_from(funder), {})


def _posted() -> dict[str, str]:
    return {key: request.form.get(key, "").strip() for key in TEXT_KEYS + FUNDER_FLAGS}


def _form_from(funder: Funder) -> dict[str, str]:
    form = {
        "name": funder.name,
        "kind": funder.kind.value,
        "programmes": "\n".join(funder.programmes),
        "typical_max_rate": ""
        if funder.typical_max_rate is None
        else f"{funder.typical_max_rate.normalize():f}",
        "rules_text": funder.rules_text,
        "url": funder.url or "",
        "source_id": str(funder.source_id or ""),
    }
    form.update({flag: "1" if getattr(funder, flag) else "" for flag in FUNDER_FLAGS})
    return form


def _render_form(funder: Funder | None, form: Mapping[str, str], errors: Mapping[str, str]) -> str:
    return render_template(
        "funders/form.html",
        funder=funder,
        form=form,
        errors=errors,
        kinds=list(FunderKind),
        sources=list(web.db().scalars(select(Source).order_by(Source.name))),
    )

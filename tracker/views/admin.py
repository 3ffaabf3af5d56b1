"""Administration: users and offices."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker import web
from tracker.errors import NotFound, ValidationFailed
from tracker.models import Office, Role, utcnow
from tracker.services.offices import create_office
from tracker.services.users import create_user, get_office_by_slug, list_users

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users", methods=["GET", "POST"])
@web.requires(Role.ADMIN)
def users() -> Response | str | tuple[str, int]:
    session = web.db()
    offices = list(session.scalars(select(Office).order_by(Office.slug)))
    form = {"email": "", "role": "viewer", "office": "", "language": "sv", "display_name": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {key: request.form.get(key, "").strip() for key in form}
        try:
            role = Role(form["role"])
            office = get_office_by_slug(session, form["office"]) if form["office"] else None
            create_user(
                session,
                form["email"],
                password=request.form.get("password", ""),
                role=role,
                office=office,
                display_name=form["display_name"],
                language=form["language"],
                now=utcnow(),
                actor=web.require_user(),
            )
        except ValueError:
            errors["role"] = _("Choose a role.")
        except NotFound:
            errors["office"] = _("Choose an office.")
        except ValidationFailed as exc:
            session.rollback()
            errors.update(exc.errors)
        if not errors:
            session.commit()
            flash(_("User %(email)s created.", email=form["email"]), "info")
            return redirect(url_for("admin.users"))
    status = 422 if errors else 200
    return render_template(
        "admin/users.html",
        users=list_users(session),
        offices=offices,
        roles=list(Role),
        form=form,
        errors=errors,
    ), status


@bp.route("/offices", methods=["GET", "POST"])
@web.requires(Role.ADMIN)
def offices() -> Response | str | tuple[str, int]:
    session = web.db()
    form = {"slug": "", "name_sv": "", "name_en": "", "shared_mailbox": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {key: request.form.get(key, "").strip() for key in form}
        try:
            create_office(
                session,
                form["slug"],
                name_sv=form["name_sv"],
                name_en=form["name_en"],
                shared_mailbox=form["shared_mailbox"] or None,
                actor=web.require_user(),
                now=utcnow(),
            )
            session.commit()
            flash(_("Office %(slug)s created.", slug=form["slug"]), "info")
            return redirect(url_for("admin.offices"))
        except ValidationFailed as exc:
            session.rollback()
            errors.update(exc.errors)
    offices_ = list(session.scalars(select(Office).order_by(Office.slug)))
    status = 422 if errors else 200
    return render_template("admin/offices.html", offices=offices_, form=form, errors=errors), status

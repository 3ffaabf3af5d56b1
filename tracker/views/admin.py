"""Administration: users and offices."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker import web
from tracker.config import signing_key
from tracker.errors import NotFound, ValidationFailed
from tracker.models import Office, Role, TokenPurpose, User
from tracker.services.account_mail import (
    build_password_mail,
    record_mail_outcome,
    send_password_mail,
)
from tracker.services.accounts import invite_user, issue_password_link
from tracker.services.offices import create_office, get_office, update_office
from tracker.services.users import (
    create_user,
    get_office_by_slug,
    get_user,
    list_users,
    update_user,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users", methods=["GET", "POST"])
@web.requires(Role.ADMIN)
def users() -> Response | str | tuple[str, int]:
    session = web.db()
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
                now=web.now(),
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
    return _users_page(form=form, errors=errors)


def _users_page(
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    invite_form: dict[str, str] | None = None,
    invite_errors: dict[str, str] | None = None,
) -> tuple[str, int]:
    session = web.db()
    blank = {"email": "", "role": "viewer", "office": "", "language": "sv", "display_name": ""}
    status = 422 if errors or invite_errors else 200
    return render_template(
        "admin/users.html",
        users=list_users(session),
        offices=list(session.scalars(select(Office).order_by(Office.slug))),
        roles=list(Role),
        form=form or blank,
        errors=errors or {},
        invite_form=invite_form or blank,
        invite_errors=invite_errors or {},
    ), status


@bp.route("/users/invite", methods=["POST"])
@web.requires(Role.ADMIN)
def invite() -> Response | tuple[str, int]:
    """Create an account without a password and mail its owner a link to choose one."""
    session = web.db()
    keys = ("email", "display_name", "role", "office", "language")
    form = {key: request.form.get(key, "").strip() for key in keys}
    errors: dict[str, str] = {}
    try:
        role = Role(form["role"])
        office = get_office_by_slug(session, form["office"]) if form["office"] else None
        user = invite_user(
            session,
            form["email"],
            role=role,
            office=office,
            display_name=form["display_name"],
            language=form["language"],
            actor=web.require_user(),
            now=web.now(),
        )
    except ValueError:
        errors["role"] = _("Choose a role.")
    except NotFound:
        errors["office"] = _("Choose an office.")
    except ValidationFailed as exc:
        session.rollback()
        errors.update(exc.errors)
    if errors:
        return _users_page(invite_form=form, invite_errors=errors)
    _send_invitation(user)
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/invite", methods=["POST"])
@web.requires(Role.ADMIN)
def resend_invitation(user_id: int) -> Response:
    """A new invitation for someone who has not chosen a password yet; older links stop
    working."""
    try:
        user = get_user(web.db(), user_id)
    except NotFound:
        abort(404)
    if user.has_password:
        flash(_("%(name)s has already chosen a password.", name=user.display_name), "error")
    else:
        _send_invitation(user)
    return redirect(url_for("admin.edit_user", user_id=user.id))


def _send_invitation(user: User) -> None:
    """Issue the link, commit, then mail it: a failed mail leaves the account to invite
    again, never a sent link that the database does not know."""
    session = web.db()
    settings = web.settings()
    now = web.now()
    actor = web.require_user()
    link = issue_password_link(
        session, user, TokenPurpose.INVITATION, secret_key=signing_key(settings), now=now
    )
    session.commit()
    mail = build_password_mail(link, settings, now=now, invited_by=actor.display_name)
    # The admin waits for this one (and is told at once); the outcome is also recorded, so a
    # mail server that refuses shows in the banner and /healthz like a password reset's.
    error = send_password_mail(settings.mail, mail)
    record_mail_outcome(session, mail, error=error, now=now)
    session.commit()
    if error is not None:
        flash(
            _(
                "The invitation to %(email)s could not be sent: %(error)s. "
                "Check the mail settings and invite again from the user's page.",
                email=user.email,
                error=error,
            ),
            "error",
        )
        return
    flash(
        _(
            "Invitation sent to %(email)s. The link works for 72 hours.",
            email=user.email,
        ),
        "info",
    )


@bp.route("/offices", methods=["GET", "POST"])
@web.requires(Role.ADMIN)
def offices() -> Response | str | tuple[str, int]:
    session = web.db()
    form = {"slug": "", "name_sv": "", "name_en": "", "shared_mailbox": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {key: request.form.get(key, "").strip() for key in form}
        try:
            office = create_office(
                session,
                form["slug"],
                name_sv=form["name_sv"],
                name_en=form["name_en"],
                shared_mailbox=form["shared_mailbox"] or None,
                actor=web.require_user(),
                now=web.now(),
            )
            session.commit()
            flash(_("Office %(name)s created.", name=office.name(web.current_language())), "info")
            return redirect(url_for("admin.offices"))
        except ValidationFailed as exc:
            session.rollback()
            errors.update(exc.errors)
    offices_ = list(session.scalars(select(Office).order_by(Office.slug)))
    status = 422 if errors else 200
    return render_template("admin/offices.html", offices=offices_, form=form, errors=errors), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@web.requires(Role.ADMIN)
def edit_user(user_id: int) -> Response | str | tuple[str, int]:
    session = web.db()
    try:
        user = get_user(session, user_id)
    except NotFound:
        abort(404)
    offices = list(session.scalars(select(Office).order_by(Office.slug)))
    form = {
        "display_name": user.display_name,
        "role": user.role.value,
        "office": user.office.slug if user.office else "",
        "language": user.language,
        "is_active": "1" if user.is_active else "",
    }
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {key: request.form.get(key, "").strip() for key in form}
        try:
            role = Role(form["role"])
        except ValueError:
            role = None
            errors["role"] = _("Choose a role.")
        office = None
        if form["office"]:
            office = session.scalar(select(Office).where(Office.slug == form["office"]))
            if office is None:
                errors["office"] = _("Choose an office.")
        if not errors and role is not None:
            try:
                update_user(
                    session,
                    user,
                    role=role,
                    office=office,
                    display_name=form["display_name"],
                    language=form["language"],
                    is_active=form["is_active"] == "1",
                    actor=web.require_user(),
                    now=web.now(),
                )
            except ValidationFailed as exc:
                session.rollback()
                errors.update(exc.errors)
        if not errors:
            session.commit()
            flash(_("User %(email)s saved.", email=user.email), "info")
            return redirect(url_for("admin.users"))
    return render_template(
        "admin/user_edit.html", user=user, offices=offices, form=form, errors=errors
    ), 422 if errors else 200


@bp.route("/offices/<int:office_id>", methods=["GET", "POST"])
@web.requires(Role.ADMIN)
def edit_office(office_id: int) -> Response | str | tuple[str, int]:
    session = web.db()
    try:
        office = get_office(session, office_id)
    except NotFound:
        abort(404)
    form = {
        "name_sv": office.name_sv,
        "name_en": office.name_en,
        "shared_mailbox": office.shared_mailbox or "",
        "is_active": "1" if office.is_active else "",
    }
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {key: request.form.get(key, "").strip() for key in form}
        try:
            update_office(
                session,
                office,
                name_sv=form["name_sv"],
                name_en=form["name_en"],
                shared_mailbox=form["shared_mailbox"] or None,
                is_active=form["is_active"] == "1",
                actor=web.require_user(),
                now=web.now(),
            )
        except ValidationFailed as exc:
            session.rollback()
            errors.update(exc.errors)
        else:
            session.commit()
            flash(_("Office %(name)s saved.", name=office.name(web.current_language())), "info")
            return redirect(url_for("admin.offices"))
    return render_template(
        "admin/office_edit.html", office=office, form=form, errors=errors
    ), 422 if errors else 200

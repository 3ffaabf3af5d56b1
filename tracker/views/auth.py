"""Signing in and out, passwords (forgotten, set from a mailed link, changed) and the language
switch."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from tracker import web
from tracker.config import signing_key
from tracker.db import retry_when_busy, writing_sessions
from tracker.errors import ValidationFailed
from tracker.models import Role
from tracker.services.account_mail import (
    PasswordMail,
    build_password_mail,
    record_mail_outcome,
    send_password_mail,
)
from tracker.services.accounts import (
    InvalidPasswordLink,
    change_password,
    read_password_link,
    request_password_reset,
    set_password_from_link,
)
from tracker.services.users import (
    LoginLimits,
    ThrottleScope,
    authenticate,
    login_throttle,
    normalise_email,
)

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("main.index")


def _client_address() -> str:
    # With [web] trusted_proxies set, ProxyFix has already put the client's address here.
    # Cut to the column's size: with more proxies configured than there are, the value comes
    # from a header the client wrote.
    return (request.remote_addr or "unknown")[:64]


def _login_limits() -> LoginLimits:
    app = web.settings().app
    return LoginLimits(
        per_account_and_address=app.login_attempts_per_15_minutes,
        per_address=app.login_attempts_per_address_per_15_minutes,
        per_account=app.login_attempts_per_account_per_15_minutes,
    )


@bp.route("/login", methods=["GET", "POST"])
@web.public
def login() -> Response | str | tuple[str, int]:
    if request.method == "GET":
        if web.current_user() is not None:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("auth/login.html", email="", next=request.args.get("next", ""))
    email = request.form.get("email", "").strip()
    password = request.form.get("password", "")
    next_url = request.form.get("next", "")
    now = web.now()
    session_ = web.db()
    remote = _client_address()
    throttle = login_throttle(session_, email, remote, now=now, limits=_login_limits())
    if throttle is not None:
        # The password is not checked while paused, so this answer says nothing about it.
        return render_template(
            "auth/login.html",
            email=email,
            next=next_url,
            locked_account=throttle.scope is ThrottleScope.ACCOUNT,
            locked_address=throttle.scope is ThrottleScope.ADDRESS,
            minutes=throttle.minutes,
        ), 429
    user = authenticate(session_, email, password, remote_addr=remote, now=now)
    session_.commit()
    if user is None:
        flash(_("Wrong email or password."), "error")
        return render_template("auth/login.html", email=email, next=next_url), 401
    web.sign_in(user)
    return redirect(_safe_next(next_url))


@bp.route("/logout", methods=["POST"])
@web.public
def logout() -> Response:
    web.sign_out()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/forgot", methods=["GET", "POST"])
@web.public
def forgot_password() -> Response | str:
    if request.method == "GET":
        return render_template("auth/forgot.html", email=request.args.get("email", ""))
    email = normalise_email(request.form.get("email", ""))
    settings = web.settings()
    now = web.now()
    session_ = web.db()
    link = request_password_reset(session_, email, secret_key=signing_key(settings), now=now)
    session_.commit()
    if link is not None:
        # Sent beside the answer, so the answer takes as long whether or not the account
        # exists (the SMTP conversation would otherwise tell). How it went is recorded.
        _send_in_background(build_password_mail(link, settings, now=now))
    flash(
        _(
            "If %(email)s has an account, a link to choose a new password is on its way. "
            "It works for two hours.",
            email=email,
        ),
        "info",
    )
    return redirect(url_for("auth.login"))


def _send_in_background(mail: PasswordMail) -> None:
    """Send ``mail`` after the page has answered, then record whether it went out: a failure
    reaches the admins' banner and /healthz (``services.health.mail_failures``)."""
    state = web.app_state()

    def send() -> None:
        error = send_password_mail(state.settings.mail, mail)
        if error is not None:
            log.warning("%s mail to %s not sent: %s", mail.purpose.value, mail.recipient, error)

        def record() -> None:
            with writing_sessions(state.session_factory)() as session:
                record_mail_outcome(session, mail, error=error, now=state.clock())
                session.commit()

        retry_when_busy(record, what="recording an account mail")

    state.background.run("password-reset-mail", send)


@bp.route("/account/set-password/<token>", methods=["GET", "POST"])
@web.public
def set_password(token: str) -> Response | str | tuple[str, int]:
    """The page a mailed link opens. Only the form's POST uses the link up: mail scanners
    that open links must not spend it."""
    settings = web.settings()
    session_ = web.db()
    now = web.now()
    key = signing_key(settings)
    try:
        record = read_password_link(session_, token, secret_key=key, now=now)
    except InvalidPasswordLink as exc:
        return render_template("auth/link_invalid.html", message=web.translate(exc)), 400
    user = record.user
    if web.current_user() is None:
        # The page speaks the language the mail was written in.
        session["lang"] = user.language
    errors: dict[str, str] = {}
    if request.method == "POST":
        password = request.form.get("password", "")
        if password != request.form.get("password_again", ""):
            errors["password_again"] = _("The two passwords are not the same.")
        else:
            try:
                user = set_password_from_link(session_, token, password, secret_key=key, now=now)
            except ValidationFailed as exc:
                session_.rollback()
                errors.update(exc.errors)
            except InvalidPasswordLink as exc:
                session_.rollback()
                return render_template("auth/link_invalid.html", message=web.translate(exc)), 400
        if not errors:
            session_.commit()
            web.sign_in(user)
            flash(_("Your password is set. Welcome, %(name)s.", name=user.display_name), "info")
            return redirect(url_for("main.index"))
    return render_template(
        "auth/set_password.html",
        user=user,
        invitation=not user.has_password,
        errors=errors,
    ), (422 if errors else 200)


@bp.route("/account/password", methods=["GET", "POST"])
@web.requires(Role.VIEWER)
def change_own_password() -> Response | str | tuple[str, int]:
    user = web.require_user()
    errors: dict[str, str] = {}
    if request.method == "POST":
        session_ = web.db()
        throttle = login_throttle(
            session_, user.email, _client_address(), now=web.now(), limits=_login_limits()
        )
        if throttle is not None:
            errors["current_password"] = ngettext(
                "Too many wrong passwords. Try again in %(num)d minute.",
                "Too many wrong passwords. Try again in %(num)d minutes.",
                throttle.minutes,
            )
            return render_template("auth/change_password.html", errors=errors), 429
        new_password = request.form.get("password", "")
        if new_password != request.form.get("password_again", ""):
            errors["password_again"] = _("The two passwords are not the same.")
        else:
            try:
                change_password(
                    session_,
                    user,
                    request.form.get("current_password", ""),
                    new_password,
                    remote_addr=_client_address(),
                    now=web.now(),
                )
            except ValidationFailed as exc:
                # Keep the failed attempt that was counted; nothing else was changed.
                session_.commit()
                errors.update(exc.errors)
        if not errors:
            session_.commit()
            # Every other session has ended; this one goes on with the new nonce.
            web.sign_in(user)
            flash(_("Your password is changed. You are signed out everywhere else."), "info")
            return redirect(url_for("main.index"))
    return render_template("auth/change_password.html", errors=errors), (422 if errors else 200)


@bp.route("/language", methods=["POST"])
@web.public
def set_language() -> Response:
    language = request.form.get("language", "")
    if language in ("sv", "en"):
        session["lang"] = language
        user = web.current_user()
        if user is not None:
            user.language = language
            web.db().commit()
    return redirect(_safe_next(request.form.get("next")))

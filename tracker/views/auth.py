"""Signing in and out, and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from tracker import web
from tracker.services.users import authenticate, is_login_throttled

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("main.index")


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
    remote = request.remote_addr or "unknown"
    limit = web.settings().app.login_attempts_per_15_minutes
    if is_login_throttled(session_, email, remote, now=now, limit=limit):
        flash(_("Too many failed attempts. Wait a quarter of an hour and try again."), "error")
        return render_template("auth/login.html", email=email, next=next_url), 429
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

"""Request plumbing shared by every blueprint: the request's database session, the signed-in
user, role checks, CSRF and the language."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from flask_babel import gettext
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.wrappers import Response

from tracker.background import BackgroundFetches
from tracker.clock import Clock, system_clock
from tracker.config import Settings
from tracker.db import for_writing
from tracker.i18n import Message
from tracker.models import Role, User

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC = "public"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class AppState:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Clock = system_clock
    background: BackgroundFetches = field(
        default_factory=lambda: BackgroundFetches(system_clock, inline=True)
    )


def app_state(app: Flask | None = None) -> AppState:
    return cast(AppState, (app or current_app).extensions["tracker"])


def settings() -> Settings:
    return app_state().settings


def now() -> datetime:
    """The app's current moment (its injected clock), the same for a whole request."""
    if "now" not in g:
        g.now = app_state().clock()
    return cast(datetime, g.now)


def db() -> Session:
    """The request's session, opened on first use and closed when the request ends."""
    if "db" not in g:
        session = app_state().session_factory()
        g.db = session if request.method in SAFE_METHODS else for_writing(session)
    return cast(Session, g.db)


def close_db(_exc: BaseException | None = None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()


def current_user() -> User | None:
    return cast(User | None, g.get("user"))


def require_user() -> User:
    user = current_user()
    if user is None:
        abort(401)
    return user


def public(view: F) -> F:
    """Mark a view as reachable without signing in."""
    view._tracker_role = PUBLIC  # type: ignore[attr-defined]
    return view


def requires(role: Role) -> Callable[[F], F]:
    """Allow the view to signed-in users whose role is at least ``role`` (403 otherwise)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not user.role.allows(role):
                abort(403)
            return view(*args, **kwargs)

        wrapped._tracker_role = role.value  # type: ignore[attr-defined]
        return cast(F, wrapped)

    return decorator


def csrf_exempt(view: F) -> F:
    """For POST endpoints authenticated by a signed token in the URL (one-click unsubscribe)."""
    view._tracker_csrf_exempt = True  # type: ignore[attr-defined]
    return view


def csrf_token() -> str:
    token = session.get("csrf_token")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf_token"] = token
    return token


def check_csrf() -> None:
    if request.method in SAFE_METHODS or request.endpoint is None:
        return
    view = current_app.view_functions.get(request.endpoint)
    if view is not None and getattr(view, "_tracker_csrf_exempt", False):
        return
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("csrf_token")
    if not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
        abort(400, description="csrf")


def load_user() -> None:
    g.user = None
    user_id = session.get("user_id")
    if isinstance(user_id, int):
        user = db().get(User, user_id)
        if user is not None and user.is_active:
            g.user = user
        else:
            session.clear()


def check_view_declares_role() -> Response | None:
    """Every view must say who may see it; an undeclared view is refused, not left open."""
    if request.endpoint is None or request.endpoint == "static":
        return None
    view = current_app.view_functions.get(request.endpoint)
    if view is None or not hasattr(view, "_tracker_role"):
        abort(403)
    return None


def sign_in(user: User) -> None:
    session.clear()
    session["user_id"] = user.id
    session["lang"] = user.language
    session.permanent = True


def sign_out() -> None:
    session.clear()


def translate(text: object) -> str:
    """Show a service's message (``tracker.i18n.msg``) in the user's language."""
    if isinstance(text, Message):
        translated = str(gettext(text.template))
        return translated % text.params if text.params else translated
    return str(text)


def current_language() -> str:
    user = current_user()
    if user is not None:
        return user.language
    lang = session.get("lang")
    if lang in ("sv", "en"):
        return str(lang)
    return settings().app.default_language

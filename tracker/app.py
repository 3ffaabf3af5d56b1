"""The Flask application factory."""

from __future__ import annotations

import gc
import importlib
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from babel.dates import format_date, format_datetime
from flask import Flask, Response, render_template, request
from flask_babel import Babel
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from tracker import web
from tracker.background import BackgroundFetches
from tracker.calltime import local_day
from tracker.clock import Clock, system_clock
from tracker.config import Settings, load_settings, signing_key
from tracker.db import make_engine, make_session_factory
from tracker.errors import TrackerError
from tracker.feeds.text import safe_url
from tracker.models import Role
from tracker.paths import TEMPLATES_DIR, TRANSLATIONS_DIR
from tracker.services.health import Problem, system_problems
from tracker.views import BLUEPRINTS

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    *,
    session_factory: sessionmaker[Session] | None = None,
    testing: bool = False,
    clock: Clock = system_clock,
) -> Flask:
    """Build the web application. ``settings`` default to the file ``TRACKER_CONFIG`` names;
    tests pass their own settings, a session factory bound to their database and a fixed
    ``clock``: every view takes "now" from it (``web.now()``)."""
    settings = settings or load_settings()
    app = Flask(
        __name__,
        template_folder=str(TEMPLATES_DIR),
        static_folder="static",
    )
    app.config.update(
        SECRET_KEY=signing_key(settings),
        TESTING=testing,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.app.session_cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        MAX_CONTENT_LENGTH=20 * 1024 * 1024,
        BABEL_DEFAULT_LOCALE=settings.app.default_language,
        BABEL_DEFAULT_TIMEZONE=settings.app.timezone,
        BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS_DIR),
    )
    proxies = settings.web.trusted_proxies
    if proxies:
        # Believe the X-Forwarded-* headers of exactly this many proxies, no more: the client
        # address they give keys the sign-in throttle, so a forged one must not count.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies
        )
    engine = make_engine(settings.database.url, echo=settings.database.echo)
    factory = session_factory or make_session_factory(engine)
    app.extensions["tracker"] = web.AppState(
        settings, engine, factory, clock, BackgroundFetches(clock, inline=testing)
    )

    Babel(
        app,
        locale_selector=web.current_language,
        timezone_selector=lambda: settings.app.timezone,
    )
    app.before_request(web.reject_control_characters)
    app.before_request(web.load_user)
    app.before_request(web.check_view_declares_role)
    app.before_request(web.check_csrf)
    app.teardown_appcontext(web.close_db)
    app.after_request(_security_headers(https_only=settings.app.session_cookie_secure))
    _register_template_helpers(app, settings)
    _register_error_handlers(app)
    for module_name in BLUEPRINTS:
        app.register_blueprint(importlib.import_module(module_name).bp)
    return app


def settle_startup_heap() -> None:
    """Move everything the start left on the heap (modules, templates, the app) out of the
    garbage collector's sight, once the app is made and before it serves.

    The collector's oldest generation otherwise walks those hundreds of thousands of objects
    again and again while a page builds its rows: on the call page that was tens of
    milliseconds of a request. Objects made later are collected as usual."""
    gc.collect()
    gc.freeze()


# Scripts and styles come from /static only (no inline code, no other origin); feed
# images are removed by the sanitiser and refused here too; nobody may frame a page.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"


def _security_headers(*, https_only: bool) -> Callable[[Response], Response]:
    """Headers every response carries; HSTS only over https (or when the config says
    the site is https-only, as behind a proxy that ends TLS)."""

    def add(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if https_only or request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response

    return add


def _register_template_helpers(app: Flask, settings: Settings) -> None:
    tz = settings.tz

    @app.template_filter("localtime")
    def localtime(value: datetime | None, fmt: str = "medium") -> str:
        if value is None:
            return ""
        return format_datetime(value.astimezone(tz), fmt, tzinfo=tz, locale=web.current_locale())

    @app.template_filter("localdate")
    def localdate(value: date | datetime | None, fmt: str = "medium") -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = local_day(value, tz)
        return format_date(value, fmt, locale=web.current_locale())

    app.add_template_filter(web.translate, "tr")
    # Every link that came from a feed or a form goes through this filter: only http(s).
    app.add_template_filter(safe_url, "safe_url")

    @app.context_processor
    def inject() -> dict[str, Any]:
        return {
            "csrf_token": web.csrf_token,
            "current_user": web.current_user(),
            "current_language": web.current_language(),
            "has_endpoint": lambda name: name in app.view_functions,
            "time_zone": settings.app.timezone,
            "admin_problems": _admin_problems,
        }


def _admin_problems() -> list[Problem]:
    """Problems for the banner on every page, for admins only (one query set per page)."""
    user = web.current_user()
    if user is None or user.role is not Role.ADMIN:
        return []
    return [p for p in system_problems(web.db(), now=web.now()) if p.for_banner]


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(TrackerError)
    def domain_error(exc: TrackerError) -> tuple[str, int]:
        return (
            render_template("error.html", code=exc.status_code, message=web.translate(exc)),
            exc.status_code,
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[str, int]:
        code = exc.code or 500
        return render_template(
            "error.html", code=code, message=None, csrf=exc.description == "csrf"
        ), code

"""The start page and the health check."""

from __future__ import annotations

import logging
from datetime import datetime

from flask import Blueprint, jsonify, render_template
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from werkzeug.wrappers import Response

from tracker import web
from tracker.db import for_writing, is_busy_error, retry_when_busy
from tracker.models import Role
from tracker.services.health import system_problems
from tracker.services.overview import my_overview, record_visit, visit_since

log = logging.getLogger(__name__)

bp = Blueprint("main", __name__)


@bp.route("/")
@web.requires(Role.VIEWER)
def index() -> str:
    """My work (Min översikt): what needs the person signed in."""
    session = web.db()
    user = web.require_user()
    now = web.now()
    since = visit_since(session, user.id, now=now)
    overview = my_overview(session, user, now=now, since=since, tz=web.settings().tz)
    page = render_template(
        "main/index.html",
        overview=overview,
        user=user,
        is_admin=user.role is Role.ADMIN,
        can_edit=user.role.allows(Role.EDITOR),
        now=now,
    )
    # The reading transaction ends first: the visit is written on its own.
    session.close()
    _remember_visit(user.id, now)
    return page


def _remember_visit(user_id: int, now: datetime) -> None:
    """Record the visit in a short write of its own: a GET reads without the write lock, and
    on SQLite a busy database must not cost the person their start page."""

    def write() -> None:
        with for_writing(web.app_state().session_factory()) as session:
            record_visit(session, user_id, now=now)
            session.commit()

    try:
        retry_when_busy(write, attempts=3, what="start page visit")
    except DBAPIError as exc:
        if not is_busy_error(exc):
            raise
        log.warning("start page: visit of user %d not recorded, database busy", user_id)


@bp.route("/healthz")
@web.public
def healthz() -> tuple[Response, int]:
    """For monitors: 503 only when the database is down; 200 with ``"degraded"`` and the
    reasons when a source is failing or a job failed its last run."""
    try:
        with web.app_state().engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.warning("health check: database unreachable: %s", exc)
        return jsonify(status="error", database="unreachable"), 503
    problems = system_problems(web.db(), now=web.now())
    if problems:
        return jsonify(
            status="degraded",
            database="ok",
            problems=[
                {
                    "kind": p.kind.value,
                    "name": p.name,
                    "since": p.since.isoformat() if p.since else None,
                    "reason": p.describe(),
                }
                for p in problems
            ],
        ), 200
    return jsonify(status="ok", database="ok", problems=[]), 200

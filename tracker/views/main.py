"""The start page and the health check."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, render_template
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from tracker import web
from tracker.models import Role
from tracker.services.health import system_problems
from tracker.services.overview import my_overview, record_visit

log = logging.getLogger(__name__)

bp = Blueprint("main", __name__)


@bp.route("/")
@web.requires(Role.VIEWER)
def index() -> str:
    """My work (Min översikt): what needs the person signed in."""
    session = web.db()
    user = web.require_user()
    now = web.now()
    since = record_visit(session, user, now=now)
    overview = my_overview(session, user, now=now, since=since, tz=web.settings().tz)
    session.commit()
    return render_template(
        "main/index.html",
        overview=overview,
        user=user,
        is_admin=user.role is Role.ADMIN,
        can_edit=user.role.allows(Role.EDITOR),
        now=now,
    )


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

"""The start page and the health check."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, render_template
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from tracker import web
from tracker.models import FundingCall, Role, Source
from tracker.services.health import system_problems

log = logging.getLogger(__name__)

bp = Blueprint("main", __name__)


@bp.route("/")
@web.requires(Role.VIEWER)
def index() -> str:
    session = web.db()
    call_count = session.scalar(select(func.count()).select_from(FundingCall)) or 0
    source_count = session.scalar(select(func.count()).select_from(Source)) or 0
    return render_template(
        "main/index.html", call_count=call_count, source_count=source_count, now=web.now()
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

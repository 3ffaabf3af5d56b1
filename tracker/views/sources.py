"""Administration of sources: their health, adding, editing, disabling, fetch now, and the
quarantine of items that could not be read."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker import web
from tracker.errors import ValidationFailed
from tracker.i18n import msg
from tracker.models import FetchRun, QuarantinedItem, Role, Source, SourceKind, utcnow
from tracker.services.sources import (
    add_source,
    get_source,
    request_fetch,
    set_source_enabled,
    source_health,
    update_source,
)

bp = Blueprint("sources", __name__, url_prefix="/admin")

QUARANTINE_PAGE = 200
RAW_SHOWN = 20_000  # characters of a quarantined payload shown on the page


def _settings(text: str, errors: dict[str, str]) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        errors["settings"] = msg('Settings must be a JSON object, e.g. {"programme": "LIFE"}.')
        return {}
    if not isinstance(value, dict):
        errors["settings"] = msg('Settings must be a JSON object, e.g. {"programme": "LIFE"}.')
        return {}
    return value


@bp.route("/sources", methods=["GET", "POST"])
@web.requires(Role.ADMIN)
def index() -> Response | str | tuple[str, int]:
    session = web.db()
    form = {"name": "", "kind": "rss", "url": "", "every": "6h", "settings": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {key: request.form.get(key, "").strip() for key in form}
        settings = _settings(form["settings"], errors)
        if not errors:
            try:
                source = add_source(
                    session,
                    form["name"],
                    kind=form["kind"],
                    url=form["url"],
                    every=form["every"] or "24h",
                    settings=settings,
                    actor=web.require_user(),
                    now=utcnow(),
                )
                session.commit()
                flash(_("Source %(name)s added.", name=source.name), "info")
                return redirect(url_for("sources.index"))
            except ValidationFailed as exc:
                session.rollback()
                errors.update(exc.errors)
    now = utcnow()
    return render_template(
        "sources/index.html",
        health=source_health(session, now=now),
        kinds=[kind.value for kind in SourceKind],
        form=form,
        errors=errors,
        now=now,
    ), (422 if errors else 200)


@bp.route("/sources/<int:source_id>", methods=["GET", "POST"])
@web.requires(Role.ADMIN)
def edit(source_id: int) -> Response | str | tuple[str, int]:
    session = web.db()
    source = get_source(session, source_id)
    form = {
        "name": source.name,
        "url": source.url,
        "every": source.every,
        "settings": json.dumps(source.settings, ensure_ascii=False) if source.settings else "",
        "enabled": "on" if source.is_enabled else "",
    }
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {key: request.form.get(key, "").strip() for key in form}
        settings = _settings(form["settings"], errors)
        if not errors:
            try:
                update_source(
                    session,
                    source,
                    name=form["name"],
                    url=form["url"],
                    every=form["every"],
                    settings=settings,
                    enabled=form["enabled"] == "on",
                    actor=web.require_user(),
                    now=utcnow(),
                )
                session.commit()
                flash(_("Source %(name)s saved.", name=source.name), "info")
                return redirect(url_for("sources.index"))
            except ValidationFailed as exc:
                session.rollback()
                source = get_source(session, source_id)
                errors.update(exc.errors)
    runs = session.scalars(
        select(FetchRun)
        .where(FetchRun.source_id == source.id)
        .order_by(FetchRun.started_at.desc(), FetchRun.id.desc())
        .limit(20)
    ).all()
    return render_template(
        "sources/edit.html", source=source, runs=runs, form=form, errors=errors
    ), (422 if errors else 200)


@bp.post("/sources/<int:source_id>/fetch")
@web.requires(Role.ADMIN)
def fetch_now(source_id: int) -> Response:
    session = web.db()
    source = get_source(session, source_id)
    try:
        request_fetch(session, source, actor=web.require_user(), now=utcnow())
        session.commit()
        flash(
            _("%(name)s will be fetched within a few minutes.", name=source.name),
            "info",
        )
    except ValidationFailed as exc:
        session.rollback()
        flash(web.translate(exc), "error")
    return redirect(url_for("sources.index"))


@bp.post("/sources/<int:source_id>/enabled")
@web.requires(Role.ADMIN)
def set_enabled(source_id: int) -> Response:
    session = web.db()
    source = get_source(session, source_id)
    enabled = request.form.get("enabled") == "1"
    set_source_enabled(session, source, enabled, actor=web.require_user(), now=utcnow())
    session.commit()
    if enabled:
        flash(_("%(name)s is fetched again.", name=source.name), "info")
    else:
        flash(_("%(name)s is disabled; its calls stay.", name=source.name), "info")
    return redirect(url_for("sources.index"))


def _shown(raw: Any) -> str:
    text = json.dumps(raw, ensure_ascii=False, indent=1)
    return text if len(text) <= RAW_SHOWN else text[:RAW_SHOWN] + "\n…"


@bp.route("/quarantine")
@web.requires(Role.ADMIN)
def quarantine() -> str:
    session = web.db()
    source_id = request.args.get("source", type=int)
    query = select(QuarantinedItem).order_by(QuarantinedItem.first_seen_at.desc())
    if source_id is not None:
        query = query.where(QuarantinedItem.source_id == source_id)
    items = session.scalars(query.limit(QUARANTINE_PAGE)).all()
    sources = {s.id: s for s in session.scalars(select(Source))}
    return render_template(
        "sources/quarantine.html",
        items=[(item, sources.get(item.source_id), _shown(item.raw)) for item in items],
        sources=sorted(sources.values(), key=lambda s: s.name),
        selected=source_id,
        limit=QUARANTINE_PAGE,
    )

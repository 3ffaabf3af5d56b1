"""Administration of sources: their health, adding, editing, disabling, fetch now, and the
quarantine of items that could not be read."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker import web
from tracker.background import FetchProgress
from tracker.db import writing_sessions
from tracker.errors import ValidationFailed
from tracker.feeds.manual import COLUMNS
from tracker.feeds.registry import ADAPTERS, masked_settings
from tracker.i18n import msg
from tracker.imports import CALLS, message_from_json
from tracker.models import FetchRun, QuarantinedItem, Role, Source
from tracker.services.calls import add_manual_call, manual_source
from tracker.services.health import FETCH_JOB, last_job_error
from tracker.services.ingest import SourceOutcome
from tracker.services.pipeline import run_pipeline
from tracker.services.sources import (
    add_source,
    get_source,
    http_session,
    note_fetch_now,
    set_source_enabled,
    source_health,
    update_source,
)
from tracker.views.import_jobs import own_job, refused_upload, start_import

bp = Blueprint("sources", __name__, url_prefix="/admin")

QUARANTINE_PAGE = 200
MANUAL_SOURCE = "manual"  # the source `tracker calls import` uses too
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
                    now=web.now(),
                )
                session.commit()
                flash(_("Source %(name)s added.", name=source.name), "info")
                return redirect(url_for("sources.index"))
            except ValidationFailed as exc:
                session.rollback()
                errors.update(exc.errors)
    now = web.now()
    health = source_health(session, now=now)
    background = web.app_state().background
    return render_template(
        "sources/index.html",
        health=health,
        fetch_job_error=last_job_error(session, FETCH_JOB),
        progress={h.source.id: background.progress(h.source.id) for h in health},
        kinds=[(kind.value, web.translate(a.label)) for kind, a in ADAPTERS.items()],
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
        # Secrets (the interreg search key) are shown masked; the mask sent back keeps them.
        "settings": json.dumps(masked_settings(source.settings, source.kind), ensure_ascii=False)
        if source.settings
        else "",
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
                    now=web.now(),
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
    """Start fetching the source at once, in the background; the sources page shows the
    progress and then the result."""
    session = web.db()
    source = get_source(session, source_id)
    try:
        note_fetch_now(session, source, actor=web.require_user(), now=web.now())
        session.commit()
    except ValidationFailed as exc:
        session.rollback()
        flash(web.translate(exc), "error")
        return redirect(url_for("sources.index"))
    state = web.app_state()
    started = state.background.start(source.id, _pipeline_work(state, source.id))
    if started is None:
        flash(_("%(name)s is already being fetched.", name=source.name), "info")
    elif started.is_running:
        flash(_("Fetching %(name)s now; its row shows how it goes.", name=source.name), "info")
    return redirect(url_for("sources.index") + f"#source-{source.id}")


def _pipeline_work(
    state: web.AppState, source_id: int
) -> Callable[[FetchProgress], dict[str, Any]]:
    """The fetch -> store -> match -> inbox pipeline for one source, as background work."""
    settings = state.settings

    def work(progress: FetchProgress) -> dict[str, Any]:
        def stored(_outcome: SourceOutcome) -> None:
            progress.phase = "matching"

        with http_session(settings) as http:
            run = run_pipeline(
                writing_sessions(state.session_factory),
                [source_id],
                http=http,
                clock=state.clock,
                in_zone=settings.tz,
                sek_per_eur=Decimal(str(settings.reports.sek_per_eur)),
                on_done=stored,
            )
        if not run.outcomes:
            return {"error": "the source no longer exists"}
        outcome = run.outcomes[0]
        return {
            "new": outcome.new,
            "updated": outcome.updated,
            "unchanged": outcome.unchanged,
            "quarantined": outcome.quarantined,
            "withdrawn": outcome.withdrawn,
            "matched": run.matching.calls if run.matching else 0,
            "error": outcome.error,
        }

    return work


@bp.get("/sources/<int:source_id>/progress")
@web.requires(Role.ADMIN)
def fetch_progress(source_id: int) -> Response:
    """How a "fetch now" is going, for the sources page's script."""
    progress = web.app_state().background.progress(source_id)
    if progress is None:
        return jsonify(source_id=source_id, phase="unknown", running=False)
    return jsonify(progress.to_json())


@bp.post("/sources/<int:source_id>/enabled")
@web.requires(Role.ADMIN)
def set_enabled(source_id: int) -> Response:
    session = web.db()
    source = get_source(session, source_id)
    enabled = request.form.get("enabled") == "1"
    set_source_enabled(session, source, enabled, actor=web.require_user(), now=web.now())
    session.commit()
    if enabled:
        flash(_("%(name)s is fetched again.", name=source.name), "info")
    else:
        flash(_("%(name)s is disabled; its calls stay.", name=source.name), "info")
    return redirect(url_for("sources.index"))


MANUAL_FIELDS = (
    "title",
    "identifier",
    "programme",
    "url",
    "opens",
    "deadlines",
    "region",
    "eligible_applicants",
    "max_eu_rate_pct",
    "cofinancing_pct",
    "budget_total",
    "max_grant",
    "currency",
    "summary",
    "language",
)


@bp.route("/manual-calls", methods=["GET", "POST"])
@web.requires(Role.EDITOR)
def manual() -> Response | str | tuple[str, int]:
    """Calls from funders without a feed: one by one in a form, or a CSV/xlsx sheet."""
    session = web.db()
    settings = web.settings()
    rate = Decimal(str(settings.reports.sek_per_eur))
    form = {name: "" for name in MANUAL_FIELDS}
    form["currency"], form["language"] = "SEK", "sv"
    errors: dict[str, str] = {}
    dry_run = False
    if request.method == "POST" and request.form.get("action") == "add":
        form = {name: request.form.get(name, "").strip() for name in MANUAL_FIELDS}
        try:
            source = manual_source(session, MANUAL_SOURCE, now=web.now())
            call = add_manual_call(
                session,
                source,
                form,
                actor=web.require_user(),
                now=web.now(),
                sek_per_eur=rate,
                in_zone=settings.tz,
            )
            session.commit()
            flash(_("Call %(title)s saved.", title=call.title), "info")
            return redirect(url_for("sources.manual"))
        except ValidationFailed as exc:
            session.rollback()
            errors.update(exc.errors)
    elif request.method == "POST" and request.form.get("action") == "upload":
        upload = request.files.get("sheet")
        dry_run = request.form.get("dry_run") == "on"
        if upload is None or not upload.filename:
            errors["sheet"] = msg("Choose a CSV or xlsx file.")
        else:
            data = upload.read()
            refused = refused_upload(data, upload.filename)
            if refused is None:
                job = start_import(CALLS, data, upload.filename, dry_run=dry_run)
                return redirect(url_for("sources.manual_import", job_id=job.id), code=303)
            errors["sheet"] = msg("The file could not be read: %(reason)s", reason=refused)
    return render_template(
        "sources/manual.html",
        form=form,
        errors=errors,
        job=None,
        outcome=None,
        dry_run=dry_run,
        columns=COLUMNS,
    ), (422 if errors else 200)


@bp.get("/manual-calls/imports/<job_id>")
@web.requires(Role.EDITOR)
def manual_import(job_id: str) -> str | tuple[str, int]:
    """How the user's sheet upload goes (the page's script asks ``manual_import_progress``),
    then its report: the rows imported and each rejected row's errors, or why the file
    could not be read."""
    job = own_job(job_id, CALLS)
    form = {name: "" for name in MANUAL_FIELDS}
    form["currency"], form["language"] = "SEK", "sv"
    errors: dict[str, str] = {}
    if job.failed and job.error_message is not None:
        errors["sheet"] = job.error_message
    result = job.result
    outcome = (
        {
            **result,
            "errors": [
                {**error, "message": message_from_json(error["message"])}
                for error in result.get("errors", [])
            ],
        }
        if result
        else None
    )
    return render_template(
        "sources/manual.html",
        form=form,
        errors=errors,
        job=job,
        outcome=outcome,
        dry_run=job.dry_run,
        columns=COLUMNS,
        progress_url=url_for("sources.manual_import_progress", job_id=job.id),
    ), (422 if errors else 200)


@bp.get("/manual-calls/imports/<job_id>/progress")
@web.requires(Role.EDITOR)
def manual_import_progress(job_id: str) -> Response:
    return jsonify(own_job(job_id, CALLS).to_json())


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

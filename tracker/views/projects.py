"""Projects: the participation log, each project's partners and co-financing plan, and the
spreadsheet import and export. Viewers read; editors change; admins may delete."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from tracker import web
from tracker.calltime import local_day
from tracker.errors import ValidationFailed
from tracker.imports import PROJECTS, message_from_json
from tracker.models import (
    CoFinancingLine,
    Contribution,
    Currency,
    LineStatus,
    Office,
    Organisation,
    Project,
    ProjectRole,
    ProjectStatus,
    Role,
    User,
)
from tracker.services.consortia import get_draft
from tracker.services.financing import (
    LineData,
    add_line,
    call_deadline,
    check_financing_plan,
    get_line,
    list_funders,
    rate_from_settings,
    read_line_form,
    remove_line,
    update_line,
)
from tracker.services.organisations import get_organisation
from tracker.services.project_sheets import export_projects, list_for_export
from tracker.services.projects import (
    ProjectData,
    active_focus_areas,
    add_partner,
    create_project,
    delete_project,
    find_call,
    format_documents,
    get_project,
    list_projects,
    project_history,
    read_project_form,
    remove_partner,
    update_project,
)
from tracker.spreadsheets import CSV_MIMETYPE, XLSX_MIMETYPE, csv_dialect
from tracker.views import formatting
from tracker.views.import_jobs import import_jobs, own_job, refused_upload, start_import

bp = Blueprint("projects", __name__, url_prefix="/projects")
formatting.install(bp)

FORM_KEYS = (
    "title",
    "acronym",
    "programme",
    "call",
    "role",
    "status",
    "lead_office",
    "contact_id",
    "submitted_on",
    "decision_on",
    "start_on",
    "end_on",
    "registry_number",
    "currency",
    "total_budget",
    "municipality_budget",
    "eu_grant",
    "eu_grant_rate",
    "own_contribution_cash",
    "own_contribution_in_kind",
    "covers_ordinary_municipal_tasks",
    "outcome",
    "results",
    "documents",
)
LINE_KEYS = (
    "funder_id",
    "amount",
    "currency",
    "contribution",
    "status",
    "decision_body",
    "meeting_on",
    "applicant_id",
    "note",
)


# --- list -----------------------------------------------------------------------------------


@bp.route("/")
@web.requires(Role.VIEWER)
def index() -> str:
    session = web.db()
    status_text = request.args.get("status", "")
    status = ProjectStatus(status_text) if status_text in set(ProjectStatus) else None
    office_text = request.args.get("office", "")
    office_id = int(office_text) if office_text.isdecimal() and len(office_text) <= 9 else None
    year_text = request.args.get("year", "")
    year = int(year_text) if _is_year(year_text) else None
    text = request.args.get("q", "").strip()
    projects = list_projects(session, status=status, office_id=office_id, year=year, text=text)
    years = sorted(
        {
            d.year
            for d in session.scalars(
                select(Project.submitted_on).where(Project.submitted_on.is_not(None))
            )
            if d is not None
        },
        reverse=True,
    )
    return render_template(
        "projects/index.html",
        projects=projects,
        offices=_offices(),
        years=years,
        filters={"status": status_text, "office": office_text, "year": year_text, "q": text},
    )


# --- create and edit ------------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@web.requires(Role.EDITOR)
def new() -> Response | str | tuple[str, int]:
    session = web.db()
    if request.method == "POST":
        form, focus = _posted_project_form()
        try:
            data = read_project_form(session, form, focus)
            project = create_project(session, data, actor=web.require_user(), now=web.now())
        except ValidationFailed as exc:
            session.rollback()
            return _render_form(None, form, focus, exc.errors), 422
        session.commit()
        flash(_("Project %(title)s added.", title=project.title), "info")
        return redirect(url_for("projects.detail", project_id=project.id))
    form = _blank_form()
    call = find_call(session, request.args.get("call", "")) if request.args.get("call") else None
    if call is not None:
        form["call"] = call.identifier or str(call.id)
        form["programme"] = call.programme_label or ""
    return _render_form(None, form, [], {})


@bp.route("/<int:project_id>/edit", methods=["GET", "POST"])
@web.requires(Role.EDITOR)
def edit(project_id: int) -> Response | str | tuple[str, int]:
    session = web.db()
    project = get_project(session, project_id)
    if request.method == "POST":
        form, focus = _posted_project_form()
        try:
            data = read_project_form(session, form, focus)
            update_project(session, project, data, actor=web.require_user(), now=web.now())
        except ValidationFailed as exc:
            session.rollback()
            return _render_form(project, form, focus, exc.errors), 422
        session.commit()
        flash(_("Changes saved."), "info")
        return redirect(url_for("projects.detail", project_id=project.id))
    return _render_form(project, _form_from(project), list(project.focus_areas), {})


@bp.route("/<int:project_id>/delete", methods=["POST"])
@web.requires(Role.ADMIN)
def delete(project_id: int) -> Response:
    session = web.db()
    project = get_project(session, project_id)
    title = project.title
    delete_project(session, project, actor=web.require_user(), now=web.now())
    session.commit()
    flash(_("Project %(title)s deleted.", title=title), "info")
    return redirect(url_for("projects.index"))


def _posted_project_form() -> tuple[dict[str, str], list[str]]:
    form = {key: request.form.get(key, "") for key in FORM_KEYS}
    focus = request.form.getlist("focus_areas")
    # Without an active strategy profile the form offers a text field of slugs instead.
    focus += [s.strip() for s in request.form.get("focus_areas_text", "").split(",")]
    return form, [s for s in focus if s]


def _blank_form() -> dict[str, str]:
    form = dict.fromkeys(FORM_KEYS, "")
    user = web.require_user()
    form.update(
        status=ProjectStatus.IDEA.value,
        role=ProjectRole.PARTNER.value,
        currency=Currency.EUR.value,
        lead_office=user.office.slug if user.office else "",
        contact_id=str(user.id),
    )
    return form


def _plain(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}" if value == value.to_integral() else f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(getattr(value, "value", value))


def _form_from(project: Project) -> dict[str, str]:
    data = ProjectData.from_project(project)
    form = {key: _plain(getattr(data, key, None)) for key in FORM_KEYS}
    form["call"] = (project.call.identifier or str(project.call.id)) if project.call else ""
    form["lead_office"] = project.lead_office.slug
    form["covers_ordinary_municipal_tasks"] = "1" if data.covers_ordinary_municipal_tasks else ""
    form["documents"] = format_documents(data.documents)
    return form


def _render_form(
    project: Project | None,
    form: Mapping[str, str],
    focus: list[str],
    errors: Mapping[str, str],
) -> str:
    session = web.db()
    programmes = sorted(
        {p for f in list_funders(session) for p in f.programmes}
        | {p for p in session.scalars(select(Project.programme).distinct()) if p}
    )
    return render_template(
        "projects/form.html",
        project=project,
        form=form,
        focus=focus,
        errors=errors,
        offices=_offices(),
        users=list(session.scalars(select(User).where(User.is_active).order_by(User.display_name))),
        areas=active_focus_areas(session),
        programmes=programmes,
        statuses=list(ProjectStatus),
        roles=list(ProjectRole),
        currencies=list(Currency),
    )


def _offices() -> list[Office]:
    return list(web.db().scalars(select(Office).order_by(Office.slug)))


# --- the project page: partners and financing plan ------------------------------------------


@bp.route("/<int:project_id>")
@web.requires(Role.VIEWER)
def detail(project_id: int) -> str:
    project = get_project(web.db(), project_id)
    return _render_detail(project)


def _render_detail(
    project: Project,
    *,
    line_form: Mapping[str, str] | None = None,
    line_errors: Mapping[str, str] | None = None,
    partner_errors: Mapping[str, str] | None = None,
) -> str:
    session = web.db()
    settings = web.settings()
    now = web.now()
    consortium = get_draft(session, project.call) if project.call is not None else None
    plan = check_financing_plan(
        project,
        sek_per_eur=rate_from_settings(settings.reports.sek_per_eur),
        now=now,
        tz=settings.tz,
        draft=consortium,
    )
    history = project_history(session, project)
    actor_ids = {e.actor_id for e in history if e.actor_id is not None}
    actors = (
        {u.id: u for u in session.scalars(select(User).where(User.id.in_(actor_ids)))}
        if actor_ids
        else {}
    )
    partner_ids = {p.organisation_id for p in project.partners}
    language = web.current_language()
    return render_template(
        "projects/detail.html",
        project=project,
        plan=plan,
        deadline=call_deadline(project, now=now),
        history=history,
        actors=actors,
        area_names={a.slug: a.name(language) for a in active_focus_areas(session)},
        organisations=[
            o
            for o in session.scalars(select(Organisation).order_by(func.lower(Organisation.name)))
            if o.id not in partner_ids
        ],
        funders=list_funders(session, active_only=True),
        line_form=line_form or _blank_line_form(project),
        line_errors=line_errors or {},
        partner_errors=partner_errors or {},
        consortium=consortium,
        roles=list(ProjectRole),
        currencies=list(Currency),
        contributions=list(Contribution),
        line_statuses=list(LineStatus),
    )


def _blank_line_form(project: Project) -> dict[str, str]:
    form = dict.fromkeys(LINE_KEYS, "")
    form.update(
        currency=project.currency.value,
        contribution=Contribution.CASH.value,
        status=LineStatus.ASKED.value,
    )
    return form


@bp.route("/<int:project_id>/partners", methods=["POST"])
@web.requires(Role.EDITOR)
def add_partner_view(project_id: int) -> Response | tuple[str, int]:
    session = web.db()
    project = get_project(session, project_id)
    organisation_text = request.form.get("organisation_id", "")
    role_text = request.form.get("role", "")
    if not organisation_text.isdecimal() or role_text not in set(ProjectRole):
        errors = {"organisation_id": _("Choose an organisation and its role.")}
        return _render_detail(project, partner_errors=errors), 422
    organisation = get_organisation(session, int(organisation_text))
    add_partner(
        session,
        project,
        organisation,
        ProjectRole(role_text),
        actor=web.require_user(),
        now=web.now(),
    )
    session.commit()
    flash(_("%(name)s added as partner.", name=organisation.name), "info")
    return redirect(url_for("projects.detail", project_id=project.id, _anchor="partners"))


@bp.route("/<int:project_id>/partners/<int:partner_id>/remove", methods=["POST"])
@web.requires(Role.EDITOR)
def remove_partner_view(project_id: int, partner_id: int) -> Response | tuple[str, int]:
    session = web.db()
    project = get_project(session, project_id)
    try:
        remove_partner(session, project, partner_id, actor=web.require_user(), now=web.now())
    except ValidationFailed as exc:
        session.rollback()
        project = get_project(session, project_id)
        return _render_detail(project, partner_errors={"organisation_id": exc.args[0]}), 422
    session.commit()
    flash(_("Partner removed."), "info")
    return redirect(url_for("projects.detail", project_id=project.id, _anchor="partners"))


@bp.route("/<int:project_id>/lines", methods=["POST"])
@web.requires(Role.EDITOR)
def add_line_view(project_id: int) -> Response | tuple[str, int]:
    session = web.db()
    project = get_project(session, project_id)
    form = {key: request.form.get(key, "") for key in LINE_KEYS}
    try:
        data = read_line_form(form)
        add_line(session, project, data, actor=web.require_user(), now=web.now())
    except ValidationFailed as exc:
        session.rollback()
        project = get_project(session, project_id)
        return _render_detail(project, line_form=form, line_errors=exc.errors), 422
    session.commit()
    flash(_("Co-financing line added."), "info")
    return redirect(url_for("projects.detail", project_id=project.id, _anchor="financing"))


@bp.route("/<int:project_id>/lines/<int:line_id>/edit", methods=["GET", "POST"])
@web.requires(Role.EDITOR)
def edit_line(project_id: int, line_id: int) -> Response | str | tuple[str, int]:
    session = web.db()
    project = get_project(session, project_id)
    line = get_line(project, line_id)
    if request.method == "POST":
        form = {key: request.form.get(key, "") for key in LINE_KEYS}
        try:
            data = read_line_form(form)
            update_line(session, project, line, data, actor=web.require_user(), now=web.now())
        except ValidationFailed as exc:
            session.rollback()
            project = get_project(session, project_id)
            return _render_line_form(project, get_line(project, line_id), form, exc.errors), 422
        session.commit()
        flash(_("Co-financing line saved."), "info")
        return redirect(url_for("projects.detail", project_id=project.id, _anchor="financing"))
    return _render_line_form(project, line, _line_form_from(line), {})


def _line_form_from(line: CoFinancingLine) -> dict[str, str]:
    data = LineData(
        funder_id=line.funder_id,
        amount=line.amount,
        currency=line.currency,
        contribution=line.contribution,
        status=line.status,
        decision_body=line.decision_body,
        meeting_on=line.meeting_on,
        applicant_id=line.applicant_id,
        note=line.note,
    )
    return {key: _plain(getattr(data, key)) for key in LINE_KEYS}


def _render_line_form(
    project: Project, line: CoFinancingLine, form: Mapping[str, str], errors: Mapping[str, str]
) -> str:
    funders = [f for f in list_funders(web.db()) if f.is_active or f.id == line.funder_id]
    return render_template(
        "projects/line_form.html",
        project=project,
        line=line,
        form=form,
        errors=errors,
        funders=funders,
        currencies=list(Currency),
        contributions=list(Contribution),
        line_statuses=list(LineStatus),
    )


@bp.route("/<int:project_id>/lines/<int:line_id>/remove", methods=["POST"])
@web.requires(Role.EDITOR)
def remove_line_view(project_id: int, line_id: int) -> Response:
    session = web.db()
    project = get_project(session, project_id)
    line = get_line(project, line_id)
    remove_line(session, project, line, actor=web.require_user(), now=web.now())
    session.commit()
    flash(_("Co-financing line removed."), "info")
    return redirect(url_for("projects.detail", project_id=project.id, _anchor="financing"))


# --- spreadsheets ---------------------------------------------------------------------------


@bp.route("/export.<any(csv, xlsx):fmt>")
@web.requires(Role.VIEWER)
def export(fmt: str) -> Response:
    filename = f"projects-{local_day(web.now(), web.settings().tz).isoformat()}.{fmt}"
    dialect = csv_dialect(request.args.get("separator"), web.current_language())
    data = export_projects(list_for_export(web.db()), filename, dialect=dialect)
    mimetype = CSV_MIMETYPE if fmt == "csv" else XLSX_MIMETYPE
    return Response(
        data,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


IMPORT_TEMPLATE = "projects/import.html"


@bp.route("/import", methods=["GET", "POST"])
@web.requires(Role.EDITOR)
def import_view() -> Response | str | tuple[str, int]:
    """The upload is checked cheaply and saved; the import runs in the background and the
    page that follows it (``import_job``) shows its progress and then its result."""
    if request.method == "GET":
        return render_template(IMPORT_TEMPLATE, job=None, file_error=None)
    token = request.form.get("token", "")
    dry_run = request.form.get("dry_run") == "1" and not token
    context: dict[str, Any] = {"job": None, "file_error": None, "dry_run": dry_run}
    if token:
        jobs = import_jobs()
        checked = jobs.load(token, owner_id=web.require_user().id)
        data = jobs.take_upload(checked) if checked is not None and checked.dry_run else None
        if checked is None or data is None:
            context["file_error"] = _("The checked file is no longer kept; choose it again.")
            return render_template(IMPORT_TEMPLATE, **context), 422
        filename = checked.filename
    else:
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            context["file_error"] = _("Choose a .csv or .xlsx file.")
            return render_template(IMPORT_TEMPLATE, **context), 422
        data, filename = upload.read(), upload.filename
        refused = refused_upload(data, filename)
        if refused is not None:
            context["file_error"] = web.translate(refused)
            return render_template(IMPORT_TEMPLATE, **context), 422
    job = start_import(PROJECTS, data, filename, dry_run=dry_run)
    return redirect(url_for("projects.import_job", job_id=job.id), code=303)


@bp.get("/import/<job_id>")
@web.requires(Role.EDITOR)
def import_job(job_id: str) -> str | tuple[str, int]:
    """How the user's import goes (the page's script asks ``import_progress``), then what it
    did: the counts, or every row's errors, or why the file could not be read."""
    job = own_job(job_id, PROJECTS)
    result = job.result
    errors = [
        {**error, "message": message_from_json(error["message"])}
        for error in result.get("errors", [])
    ]
    context: dict[str, Any] = {
        "job": job,
        "result": {**result, "errors": errors} if result else None,
        "file_error": web.translate(job.error_message) if job.failed else None,
        "dry_run": job.dry_run,
        "import_token": job.id if job.dry_run and result.get("ok") else None,
        "progress_url": url_for("projects.import_progress", job_id=job.id),
    }
    failed = job.failed or bool(errors)
    return render_template(IMPORT_TEMPLATE, **context), 422 if failed else 200


@bp.get("/import/<job_id>/progress")
@web.requires(Role.EDITOR)
def import_progress(job_id: str) -> Response:
    return jsonify(own_job(job_id, PROJECTS).to_json())


def _is_year(text: str) -> bool:
    return len(text) == 4 and text.isdecimal() and 1900 <= int(text) <= 2200

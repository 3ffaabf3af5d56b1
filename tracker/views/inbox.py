"""The review workspace: the inbox of matched calls, its exports, and the call page where
staff triage, assign, comment, watch and plan."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker import web
from tracker.calltime import STATUS_FILTERS, CallStatus, local_day
from tracker.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    TrackerError,
    ValidationFailed,
)
from tracker.feeds.text import safe_url, sanitize_html
from tracker.i18n import msg
from tracker.models import (
    DismissReason,
    FundingCall,
    Office,
    Project,
    Role,
    TriageState,
    User,
)
from tracker.services import consortia
from tracker.services import inbox as inbox_service
from tracker.services.inbox import (
    InboxFilters,
    InboxPage,
    InboxRow,
    UnknownFilterValue,
    filter_options,
    inbox_page,
    iter_inbox_rows,
    parse_filters,
)
from tracker.spreadsheets import (
    CSV_MIMETYPE,
    XLSX_MIMETYPE,
    Column,
    Kind,
    Link,
    csv_dialect,
    iter_csv,
    xlsx_bytes,
)
from tracker.views import formatting, labels
from tracker.views.filtering import load_known, redirect_to_used_fields, report_server_timing
from tracker.views.partners import call_panel

bp = Blueprint("inbox", __name__)
bp.record_once(lambda state: labels.register(state.app))

report_server_timing(bp)


# --- the inbox ----------------------------------------------------------------------------------


def _load_inbox(
    filters: InboxFilters, errors: dict[str, Any], now: datetime
) -> tuple[InboxFilters, InboxPage]:
    """The page for ``filters``; values that name nothing are dropped and reported."""
    viewer = web.require_user()
    return load_known(
        lambda chosen: inbox_page(web.db(), chosen, now=now, viewer=viewer), filters, errors
    )


@bp.route("/calls")
@web.requires(Role.VIEWER)
def index() -> Response | tuple[str, int]:
    session = web.db()
    user = web.require_user()
    now = web.now()
    filters, parse_errors = parse_filters(request.args)
    if not parse_errors and (moved := redirect_to_used_fields(filters, _inbox_url({}))) is not None:
        return moved
    errors: dict[str, Any] = dict(parse_errors)
    filters, page = _load_inbox(filters, errors, now)
    query = filters.to_query(page=1)
    return render_template(
        "inbox/inbox.html",
        page=page,
        filters=filters,
        errors=errors,
        options=filter_options(session, areas=[area for area, _ in page.area_counts]),
        saved_filters=inbox_service.list_saved_filters(session, user),
        current_query=urlencode(query),
        reasons=list(DismissReason),
        statuses=("", *STATUS_FILTERS),
        can_edit=user.role.allows(Role.EDITOR),
        page_url=lambda n: _inbox_url(filters.to_query(page=n)),
        area_url=lambda slug: _inbox_url(filters.to_query(area=slug, page=1)),
        export_csv_url=url_for("inbox.export_csv") + ("?" + urlencode(query) if query else ""),
        export_csv_other_url=url_for("inbox.export_csv")
        + "?"
        + urlencode({**query, "separator": _other_separator()}),
        other_separator=_other_separator(),
        export_xlsx_url=url_for("inbox.export_xlsx") + ("?" + urlencode(query) if query else ""),
        now=now,
    ), 400 if errors else 200


def _other_separator() -> str:
    """The CSV separator that is not the default of the user's language."""
    return "comma" if csv_dialect(None, web.current_language()).name == "semicolon" else "semicolon"


def _inbox_url(query: dict[str, str]) -> str:
    return url_for("inbox.index") + ("?" + urlencode(query) if query else "")


def _filters_or_400() -> InboxFilters:
    filters, errors = parse_filters(request.args)
    if errors:
        abort(400)
    return filters


def _export_rows(filters: InboxFilters, now: datetime) -> Iterator[InboxRow]:
    """Every row of the filter; like the inbox, a value that names nothing is dropped (the
    lookup happens before the first row, so nothing is written twice)."""
    while True:
        try:
            yield from iter_inbox_rows(web.db(), filters, now=now, viewer=web.require_user())
            return
        except UnknownFilterValue as exc:
            dropped: dict[str, Any] = {exc.name: None}
            filters = replace(filters, **dropped)


def _export_columns() -> list[Column]:
    return [
        Column(_("Call page"), Kind.LINK, 30),
        Column(_("Identifier"), width=22),
        Column(_("Title"), width=50),
        Column(_("Programme"), width=28),
        Column(_("Status")),
        Column(_("Opens"), Kind.DATETIME),
        Column(_("Next deadline"), Kind.DATETIME),
        Column(_("Score"), Kind.NUMBER, 8),
        Column(_("Focus areas"), width=40),
        Column(_("Triage state")),
        Column(_("Reason")),
        Column(_("Office")),
        Column(_("Assigned to")),
        Column(_("Budget (EUR)"), Kind.NUMBER),
        Column(_("Official page"), Kind.LINK),
    ]


class _ExportFormat:
    """How export cells are written for this request: words looked up once, not per row."""

    def __init__(self) -> None:
        self.pages = url_for("inbox.index", _external=True)
        self.language = web.current_language()
        self.tz = web.settings().tz
        self.states = {s: labels.state_label(s) for s in TriageState}
        self.reasons = {r: labels.reason_label(r) for r in DismissReason}
        self.statuses: dict[str, str] = {s: labels.status_label(s) for s in CallStatus}

    def local(self, moment: datetime | None) -> datetime | None:
        return moment.astimezone(self.tz).replace(tzinfo=None) if moment is not None else None

    def deadline(self, moment: datetime | None, date_only: bool) -> date | datetime | None:
        """The same moment as the inbox shows: a date for a deadline given as a day."""
        if moment is not None and date_only:
            return local_day(moment, self.tz)
        return self.local(moment)

    def values(self, row: InboxRow) -> list[Any]:
        page = f"{self.pages}/{row.call_id}"
        return [
            Link(page),
            row.identifier or "",
            row.title,
            row.programme_label or row.programme_code or "",
            self.statuses.get(row.status, row.status),
            self.local(row.opens_at),
            self.deadline(row.next_deadline, row.next_deadline_date_only),
            round(row.score, 1),
            ", ".join(f"{a.name(self.language)} ({a.score:.0f})" for a in row.areas),
            self.states[row.state],
            self.reasons[row.dismiss_reason] if row.dismiss_reason is not None else "",
            row.office_name(self.language) or "",
            row.assignee_name or "",
            row.budget_total_eur,
            Link(url) if (url := safe_url(row.url)) else "",
        ]


def _filename(extension: str, now: datetime) -> str:
    stamp = local_day(now, web.settings().tz).isoformat()
    return f"calls-{stamp}.{extension}"


@bp.route("/calls/export.csv")
@web.requires(Role.VIEWER)
def export_csv() -> Response:
    filters = _filters_or_400()
    now = web.now()
    export = _ExportFormat()
    dialect = csv_dialect(request.args.get("separator"), web.current_language())
    rows = (export.values(row) for row in _export_rows(filters, now))
    return Response(
        stream_with_context(iter_csv(_export_columns(), rows, dialect)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{_filename("csv", now)}"',
            "Content-Type": CSV_MIMETYPE,
        },
    )


@bp.route("/calls/export.xlsx")
@web.requires(Role.VIEWER)
def export_xlsx() -> Response:
    filters = _filters_or_400()
    now = web.now()
    export = _ExportFormat()
    rows = (export.values(row) for row in _export_rows(filters, now))
    return Response(
        xlsx_bytes(_("Calls"), _export_columns(), rows),
        mimetype=XLSX_MIMETYPE,
        headers={"Content-Disposition": f'attachment; filename="{_filename("xlsx", now)}"'},
    )


@bp.app_template_global("triage_versions")
def _triage_versions(call_ids: list[int]) -> dict[int, int]:
    """The version of each listed call's decision, for the bulk form to send back."""
    return inbox_service.triage_versions(web.db(), call_ids)


def _seen_versions(ids: list[int]) -> dict[int, int] | None:
    """The decision versions the bulk form's page showed (``seen_<id>``), or None from a form
    that sends none."""
    seen = {i: request.form.get(f"seen_{i}", "") for i in ids}
    versions = {i: int(v) for i, v in seen.items() if v.isdecimal()}
    return versions or None


@bp.route("/calls/bulk-dismiss", methods=["POST"])
@web.requires(Role.EDITOR)
def bulk_dismiss() -> Response:
    """Dismiss the ticked calls, except those someone else decided on since the page was
    shown (listed in the message) and those whose state cannot be dismissed."""
    session = web.db()
    back = url_for("inbox.index") + _back_query()
    ids = [int(v) for v in request.form.getlist("call_ids") if v.isdecimal()]
    try:
        reason = inbox_service.parse_reason(request.form.get("reason"))
        if reason is None:
            raise ValidationFailed(msg("choose a reason"), {"reason": msg("choose a reason")})
        result = inbox_service.bulk_dismiss(
            session,
            ids,
            reason=reason,
            note=request.form.get("note"),
            actor=web.require_user(),
            now=web.now(),
            seen=_seen_versions(ids),
        )
    except ValidationFailed as exc:
        session.rollback()
        flash(_("Nothing was dismissed: %(why)s", why=_error_text(exc)), "error")
        return redirect(back)
    changed_titles = (
        session.scalars(
            select(FundingCall.title)
            .where(FundingCall.id.in_(result.changed))
            .order_by(FundingCall.id)
        ).all()
        if result.changed
        else []
    )
    session.commit()
    flash(
        ngettext(
            "%(num)d call dismissed: %(reason)s.",
            "%(num)d calls dismissed: %(reason)s.",
            len(result.dismissed),
            reason=labels.reason_label(reason),
        ),
        "info",
    )
    if result.changed:
        flash(
            ngettext(
                "%(num)d call was left as it was: someone else changed it after this page "
                "was shown (%(titles)s). Check it and dismiss it again if you still want to.",
                "%(num)d calls were left as they were: someone else changed them after this "
                "page was shown (%(titles)s). Check them and dismiss them again if you still "
                "want to.",
                len(result.changed),
                titles="; ".join(changed_titles),
            ),
            "error",
        )
    if result.skipped:
        flash(
            ngettext(
                "%(num)d call was left as it was: it cannot be dismissed in its state.",
                "%(num)d calls were left as they were: they cannot be dismissed in their state.",
                len(result.skipped),
            ),
            "error",
        )
    return redirect(back)


def _back_query() -> str:
    """The inbox filter the bulk form was posted from, validated, to return to."""
    filters, errors = parse_filters(dict(parse_qsl(request.form.get("back", "").lstrip("?"))))
    query = filters.to_query()
    return "?" + urlencode(query) if query and not errors else ""


def _error_text(exc: TrackerError) -> str:
    if isinstance(exc, ValidationFailed) and exc.errors:
        return "; ".join(web.translate(v) for v in exc.errors.values())
    return web.translate(exc.args[0] if exc.args else exc)


@bp.route("/calls/filters", methods=["POST"])
@web.requires(Role.VIEWER)
def save_filter() -> Response:
    session = web.db()
    query = request.form.get("query", "")
    try:
        inbox_service.save_filter(
            session, web.require_user(), request.form.get("name", ""), query, now=web.now()
        )
    except ValidationFailed as exc:
        session.rollback()
        flash(_("The filter was not saved: %(why)s", why=_error_text(exc)), "error")
        return redirect(url_for("inbox.index") + ("?" + query if query else ""))
    session.commit()
    flash(_("Filter saved."), "info")
    return redirect(url_for("inbox.index") + ("?" + query if query else ""))


@bp.route("/calls/filters/<int:filter_id>/delete", methods=["POST"])
@web.requires(Role.VIEWER)
def delete_filter(filter_id: int) -> Response:
    session = web.db()
    inbox_service.delete_saved_filter(session, web.require_user(), filter_id)
    session.commit()
    flash(_("Filter removed."), "info")
    return redirect(url_for("inbox.index"))


# --- the call page ------------------------------------------------------------------------------


def _call_or_404(call_id: int) -> FundingCall:
    try:
        return inbox_service.get_call(web.db(), call_id)
    except NotFound:
        abort(404)


def _render_call(
    call: FundingCall,
    *,
    status: int = 200,
    errors: dict[str, Any] | None = None,
    form: dict[str, str] | None = None,
    error_form: str | None = None,
) -> tuple[str, int]:
    session = web.db()
    user = web.require_user()
    now = web.now()
    review = inbox_service.get_review(session, call)
    state = review.state if review is not None else TriageState.NEW
    descriptions = inbox_service.call_descriptions(session, call)
    main = descriptions.main
    return render_template(
        "inbox/call.html",
        call=call,
        review=review,
        state=state,
        next_states=inbox_service.allowed_states(state),
        reasons=list(DismissReason),
        evidence=inbox_service.match_evidence(session, call),
        timeline=inbox_service.timeline(session, call),
        seen_event_id=inbox_service.latest_event_id(session, call),
        comments=inbox_service.comments(session, call),
        history=inbox_service.deadline_history(session, call),
        sources=inbox_service.call_sources(session, call),
        projects=inbox_service.programme_projects(session, call),
        earlier=inbox_service.earlier_editions(session, call, now=now),
        descriptions=descriptions,
        description_html=sanitize_html(main.html) or None if main and main.html else None,
        issuer=inbox_service.call_issuer(call),
        milestones=inbox_service.milestones(session, call),
        watching=inbox_service.is_watching(session, call, user),
        watchers=inbox_service.watchers(session, call),
        offices=list(
            session.scalars(select(Office).where(Office.is_active).order_by(Office.name_sv))
        ),
        people=inbox_service.assignable_users(session),
        mention_names=inbox_service.mention_suggestions(session),
        can_edit=user.role.allows(Role.EDITOR),
        errors=errors or {},
        form=form or {},
        error_form=error_form,
        project_status=lambda status: str(formatting.STATUS_LABELS.get(status, status)),
        sek_per_eur=Decimal(str(web.settings().reports.sek_per_eur)),
        partner_panel=call_panel(call, now),
        now=now,
    ), status


@bp.route("/calls/<int:call_id>")
@web.requires(Role.VIEWER)
def call_page(call_id: int) -> tuple[str, int]:
    return _render_call(_call_or_404(call_id))


def _failed(call: FundingCall, exc: TrackerError, form_name: str) -> tuple[str, int]:
    web.db().rollback()
    errors: dict[str, Any] = {}
    if isinstance(exc, ValidationFailed):
        errors = dict(exc.errors)
    if not errors:
        errors["form"] = exc.args[0] if exc.args else str(exc)
    form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    return _render_call(
        call, status=exc.status_code, errors=errors, form=form, error_form=form_name
    )


def _seen_event_id() -> int | None:
    """The latest timeline event the posting page showed (its forms send it), if any."""
    seen = request.form.get("seen_event", "")
    return int(seen) if seen.isdigit() else None


def _changed_meanwhile(call: FundingCall) -> str:
    session = web.db()
    session.rollback()
    review = inbox_service.get_review(session, call)
    state = review.state if review is not None else TriageState.NEW
    return str(
        _(
            "Someone else changed this call while you were deciding: it is now “%(state)s”. "
            "Nothing was saved; what you wrote is kept below. Check the timeline and send again.",
            state=labels.state_label(state),
        )
    )


@bp.route("/calls/<int:call_id>/triage", methods=["POST"])
@web.requires(Role.EDITOR)
def triage(call_id: int) -> Response | tuple[str, int]:
    session = web.db()
    call = _call_or_404(call_id)
    project: Project | None = None
    try:
        state = inbox_service.parse_state(request.form.get("state", ""))
        reason = inbox_service.parse_reason(request.form.get("reason"))
        if state != TriageState.DISMISSED:
            reason = None  # the form keeps the reason list visible; only a dismissal reads it
        inbox_service.change_state(
            session,
            call,
            state,
            reason=reason,
            note=request.form.get("note"),
            actor=web.require_user(),
            now=web.now(),
            seen_event_id=_seen_event_id(),
        )
        if state == TriageState.SUBMITTED:
            # The consortium drafted for the call becomes the application's partner list.
            project = consortia.submit_consortium(
                session,
                call,
                actor=web.require_user(),
                now=web.now(),
                today=local_day(web.now(), web.settings().tz),
            )
    except Conflict:
        return _failed(call, Conflict(_changed_meanwhile(call)), "triage")
    except InvalidTransition:
        before = inbox_service.current_state(session, call)
        message = _(
            "A call that is “%(old)s” cannot become “%(new)s”.",
            old=labels.state_label(before),
            new=labels.state_label(state),
        )
        return _failed(call, InvalidTransition(message), "triage")
    except ValidationFailed as exc:
        return _failed(call, exc, "triage")
    session.commit()
    flash(_("The call is now: %(state)s.", state=labels.state_label(state)), "info")
    if project is not None:
        flash(
            _(
                "The consortium draft is now the partner list of %(project)s.",
                project=project.title,
            ),
            "info",
        )
    return redirect(url_for("inbox.call_page", call_id=call.id))


@bp.route("/calls/<int:call_id>/assign", methods=["POST"])
@web.requires(Role.EDITOR)
def assign(call_id: int) -> Response | tuple[str, int]:
    session = web.db()
    call = _call_or_404(call_id)
    office = None
    assignee = None
    office_slug = request.form.get("office", "")
    assignee_id = request.form.get("assignee", "")
    try:
        if office_slug:
            office = session.scalar(select(Office).where(Office.slug == office_slug))
            if office is None:
                raise ValidationFailed(msg("choose an office"), {"office": msg("choose an office")})
        if assignee_id:
            assignee = session.get(User, int(assignee_id)) if assignee_id.isdecimal() else None
            if assignee is None:
                raise ValidationFailed(msg("choose a person"), {"assignee": msg("choose a person")})
        inbox_service.assign(
            session,
            call,
            office=office,
            assignee=assignee,
            note=request.form.get("note"),
            actor=web.require_user(),
            now=web.now(),
            seen_event_id=_seen_event_id(),
        )
    except Conflict:
        return _failed(call, Conflict(_changed_meanwhile(call)), "assign")
    except (ValidationFailed, InvalidTransition) as exc:
        return _failed(call, exc, "assign")
    session.commit()
    flash(_("Assignment saved."), "info")
    return redirect(url_for("inbox.call_page", call_id=call.id))


@bp.route("/calls/<int:call_id>/comments", methods=["POST"])
@web.requires(Role.EDITOR)
def comment(call_id: int) -> Response | tuple[str, int]:
    session = web.db()
    call = _call_or_404(call_id)
    try:
        added = inbox_service.add_comment(
            session, call, request.form.get("body", ""), author=web.require_user(), now=web.now()
        )
    except ValidationFailed as exc:
        return _failed(call, exc, "comment")
    session.commit()
    flash(_("Comment added."), "info")
    return redirect(url_for("inbox.call_page", call_id=call.id) + f"#comment-{added.id}")


@bp.route("/calls/<int:call_id>/watch", methods=["POST"])
@web.requires(Role.VIEWER)
def watch(call_id: int) -> Response:
    session = web.db()
    call = _call_or_404(call_id)
    inbox_service.watch(session, call, web.require_user(), now=web.now())
    session.commit()
    flash(_("You are watching this call. Its deadlines are in your calendar."), "info")
    return redirect(url_for("inbox.call_page", call_id=call.id))


@bp.route("/calls/<int:call_id>/unwatch", methods=["POST"])
@web.requires(Role.VIEWER)
def unwatch(call_id: int) -> Response:
    session = web.db()
    call = _call_or_404(call_id)
    inbox_service.unwatch(session, call, web.require_user())
    session.commit()
    flash(_("You no longer watch this call."), "info")
    return redirect(url_for("inbox.call_page", call_id=call.id))


@bp.route("/calls/<int:call_id>/milestones", methods=["POST"])
@web.requires(Role.EDITOR)
def add_milestone(call_id: int) -> Response | tuple[str, int]:
    session = web.db()
    call = _call_or_404(call_id)
    try:
        try:
            due_on = date.fromisoformat(request.form.get("due_on", ""))
        except ValueError:
            message = msg("give a date as YYYY-MM-DD")
            raise ValidationFailed(message, {"due_on": message}) from None
        inbox_service.add_milestone(
            session,
            call,
            request.form.get("title", ""),
            due_on,
            actor=web.require_user(),
            now=web.now(),
        )
    except ValidationFailed as exc:
        return _failed(call, exc, "milestone")
    session.commit()
    flash(_("Milestone added."), "info")
    return redirect(url_for("inbox.call_page", call_id=call.id) + "#milestones")


@bp.route("/calls/<int:call_id>/milestones/<int:milestone_id>/delete", methods=["POST"])
@web.requires(Role.EDITOR)
def delete_milestone(call_id: int, milestone_id: int) -> Response:
    session = web.db()
    call = _call_or_404(call_id)
    try:
        inbox_service.delete_milestone(session, milestone_id, call=call)
    except NotFound:
        abort(404)
    session.commit()
    flash(_("Milestone removed."), "info")
    return redirect(url_for("inbox.call_page", call_id=call.id) + "#milestones")

"""The deadline calendar: a month on screen and a personal iCalendar feed."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from tracker import web
from tracker.calltime import local_day
from tracker.errors import NotFound
from tracker.models import Role
from tracker.services.calendar import (
    calendar_entries,
    entries_by_day,
    feed_entries,
    feed_url,
    month_grid,
    render_ical,
    reset_calendar_token,
    user_by_calendar_token,
)
from tracker.views import labels

bp = Blueprint("calendar", __name__)
bp.record_once(lambda state: labels.register(state.app))


def _month(value: str | None, today: date) -> date:
    if not value:
        return today.replace(day=1)
    try:
        year, month = value.split("-")
        first = date(int(year), int(month), 1)
    except ValueError:
        abort(400)
    if not 1900 < first.year < 2200:
        abort(400)
    return first


@bp.route("/calendar")
@web.requires(Role.VIEWER)
def month() -> str:
    user = web.require_user()
    tz = web.settings().tz
    now = web.now()
    today = local_day(now, tz)
    grid = month_grid(_month(request.args.get("month"), today))
    end = grid.next
    entries = calendar_entries(web.db(), user, start=grid.first, end=end, tz=tz)
    return render_template(
        "calendar/month.html",
        grid=grid,
        days=entries_by_day(entries),
        entries=entries,
        today=today,
        feed_url=feed_url(web.settings().mail.base_url, user),
        now=now,
    )


@bp.route("/calendar/<token>.ics")
@web.public
def feed(token: str) -> Response:
    session = web.db()
    try:
        user = user_by_calendar_token(session, token)
    except NotFound:
        abort(404)
    settings = web.settings()
    now = web.now()
    domain = urlsplit(settings.mail.base_url).hostname or "tracker"
    # Calendar programs fetch the feed without a session: its words follow the owner's language.
    with force_locale(user.language):
        body = render_ical(
            feed_entries(session, user, now=now, tz=settings.tz, domain=domain),
            now=now,
            tz=settings.tz,
            calendar_name=_("Funding deadlines – %(name)s", name=user.display_name),
            call_url=settings.mail.base_url.rstrip("/") + "/calls/{id}",
            reminder_label=_("Deadline in a week"),
        )
    return Response(
        body,
        mimetype="text/calendar",
        headers={
            "Content-Type": "text/calendar; charset=utf-8",
            "Content-Disposition": 'inline; filename="tracker.ics"',
            "Cache-Control": "private, max-age=300",
        },
    )


@bp.route("/calendar/reset-token", methods=["POST"])
@web.requires(Role.VIEWER)
def reset_token() -> Response:
    session = web.db()
    reset_calendar_token(session, web.require_user(), now=web.now())
    session.commit()
    flash(_("Your calendar has a new address. The old one no longer works."), "info")
    return redirect(url_for("calendar.month"))

"""The report for politicians: what the municipality applies for and wins, as a page with
charts and as JSON, CSV and Excel files holding the same figures."""

from __future__ import annotations

import io

from flask import Blueprint, jsonify, render_template, request
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker import web
from tracker.models import Delegation, Office, Project, Role
from tracker.services.financing import rate_from_settings
from tracker.services.projects import active_focus_areas
from tracker.services.reports import Report, compute_report, report_csv, write_report_xlsx
from tracker.views import formatting
from tracker.views.charts import Series, bar_chart

bp = Blueprint("reports", __name__, url_prefix="/reports")
formatting.install(bp)


def _year() -> int | None:
    text = request.args.get("year", "")
    return int(text) if text.isdigit() and 1900 <= int(text) <= 2200 else None


def _report() -> Report:
    return compute_report(
        web.db(),
        year=_year(),
        sek_per_eur=rate_from_settings(web.settings().reports.sek_per_eur),
    )


def _filename(extension: str) -> str:
    year = _year()
    return f"tracker-report-{year if year is not None else 'all'}.{extension}"


@bp.route("/")
@web.requires(Role.VIEWER)
def index() -> str:
    session = web.db()
    report = _report()
    years = sorted(
        {d.year for d in session.scalars(select(Project.submitted_on)) if d is not None}
        | {d.year for d in session.scalars(select(Delegation.visited_on))},
        reverse=True,
    )
    language = web.current_language()
    offices = {o.slug: o.name(language) for o in session.scalars(select(Office))}
    areas = {a.slug: a.name(language) for a in active_focus_areas(session)}
    return render_template(
        "reports/index.html",
        report=report,
        years=years,
        year=report.year,
        office_names=offices,
        area_names=areas,
        charts=_charts(report, offices, areas),
    )


def _charts(report: Report, offices: dict[str, str], areas: dict[str, str]) -> dict[str, Markup]:
    count_series = (_("Applications"), _("Awarded"))
    years = [str(y) for y in report.by_year]
    programmes = [p or _("No programme") for p in report.by_programme]

    def count(v: float) -> str:
        return formatting.amount(v, 0)

    def eur(v: float) -> str:
        return formatting.amount(v, 0) + " €"

    def share(v: float) -> str:
        return formatting.percent(v / 100, 0)

    charts: dict[str, Markup] = {
        "per_year": bar_chart(
            chart_id="chart-per-year",
            title=_("Applications and awards per year of submission"),
            description=_("Bars per year: number of applications and of awarded projects."),
            categories=years,
            series=[
                Series(count_series[0], [f.applications for f in report.by_year.values()]),
                Series(count_series[1], [f.awarded for f in report.by_year.values()]),
            ],
            value_format=count,
        ),
        "grants": bar_chart(
            chart_id="chart-grants",
            title=_("EU grant applied for and won per year (EUR)"),
            description=_("Bars per year: EU grant applied for and EU grant awarded, in euros."),
            categories=years,
            series=[
                Series(_("Applied for"), [f.eu_grant_applied_eur for f in report.by_year.values()]),
                Series(_("Won"), [f.eu_grant_awarded_eur for f in report.by_year.values()]),
            ],
            value_format=eur,
        ),
        "programmes": bar_chart(
            chart_id="chart-programmes",
            title=_("Success rate per programme"),
            description=_("Bars per programme: awarded projects as a share of the decided ones."),
            categories=programmes,
            series=[
                Series(
                    _("Success rate"),
                    [
                        None if f.success_rate is None else f.success_rate * 100
                        for f in report.by_programme.values()
                    ],
                )
            ],
            value_format=share,
            maximum=100.0,
        ),
        "offices": bar_chart(
            chart_id="chart-offices",
            title=_("Applications and awards per lead office"),
            description=_("Bars per office: number of applications and of awarded projects."),
            categories=[offices.get(k, k) for k in report.by_office],
            series=[
                Series(count_series[0], [f.applications for f in report.by_office.values()]),
                Series(count_series[1], [f.awarded for f in report.by_office.values()]),
            ],
            value_format=count,
        ),
        "areas": bar_chart(
            chart_id="chart-areas",
            title=_("Applications and awards per focus area"),
            description=_("Bars per focus area: number of applications and of awarded projects."),
            categories=[areas.get(k, k) for k in report.by_focus_area],
            series=[
                Series(count_series[0], [f.applications for f in report.by_focus_area.values()]),
                Series(count_series[1], [f.awarded for f in report.by_focus_area.values()]),
            ],
            value_format=count,
        ),
        "delegations": bar_chart(
            chart_id="chart-delegations",
            title=_("Official delegations and international visits per year"),
            description=_("Bars per year: official delegations and other international visits."),
            categories=[str(y) for y in report.delegations_by_year],
            series=[
                Series(
                    _("Official delegations"),
                    [c["delegation"] for c in report.delegations_by_year.values()],
                ),
                Series(
                    _("International visits"),
                    [c["visit"] for c in report.delegations_by_year.values()],
                ),
            ],
            value_format=count,
        ),
    }
    return charts


@bp.route("/report.json")
@web.requires(Role.VIEWER)
def as_json() -> Response:
    return jsonify(_report().as_dict())


@bp.route("/report.csv")
@web.requires(Role.VIEWER)
def as_csv() -> Response:
    return Response(
        report_csv(_report()),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_filename("csv")}"'},
    )


@bp.route("/report.xlsx")
@web.requires(Role.VIEWER)
def as_xlsx() -> Response:
    buffer = io.BytesIO()
    write_report_xlsx(_report(), buffer)
    return Response(
        buffer.getvalue(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{_filename("xlsx")}"'},
    )

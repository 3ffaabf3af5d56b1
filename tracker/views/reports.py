"""The report for politicians: what the municipality applies for and wins, as a page with
charts and as JSON, CSV and Excel files holding the same figures."""

from __future__ import annotations

import io
from collections.abc import Collection, Sequence

from flask import Blueprint, jsonify, render_template, request
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker import web
from tracker.calltime import format_money
from tracker.models import Delegation, Office, Project, Role
from tracker.services.financing import rate_from_settings
from tracker.services.partner_memory import network_yield
from tracker.services.projects import active_focus_areas
from tracker.services.reports import Figures, Report, compute_report, report_csv, write_report_xlsx
from tracker.spreadsheets import XLSX_MIMETYPE, csv_dialect
from tracker.views import formatting
from tracker.views.charts import Series, bar_chart

bp = Blueprint("reports", __name__, url_prefix="/reports")
formatting.install(bp)


def _year() -> int | None:
    text = request.args.get("year", "")
    return int(text) if len(text) == 4 and text.isdecimal() and 1900 <= int(text) <= 2200 else None


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
        network_yield=network_yield(session),
    )


def _charts(report: Report, offices: dict[str, str], areas: dict[str, str]) -> dict[str, Markup]:
    years = [str(y) for y in report.by_year]
    programmes = [p or _("No programme") for p in report.by_programme]

    def count(v: float) -> str:
        return formatting.amount(v, 0)

    def eur(v: float) -> str:
        return format_money(v, web.current_language(), currency="€")

    def share(v: float) -> str:
        return formatting.percent(v / 100, 0)

    def counts_chart(
        chart_id: str,
        title: str,
        description: str,
        categories: Sequence[str],
        figures: Collection[Figures],
    ) -> Markup:
        """Applications and awarded projects per category (figures in category order)."""
        return bar_chart(
            chart_id=chart_id,
            title=title,
            description=description,
            categories=categories,
            series=[
                Series(_("Applications"), [f.applications for f in figures]),
                Series(_("Awarded"), [f.awarded for f in figures]),
            ],
            value_format=count,
        )

    charts: dict[str, Markup] = {
        "per_year": counts_chart(
            "chart-per-year",
            _("Applications and awards per year of submission"),
            _("Bars per year: number of applications and of awarded projects."),
            years,
            report.by_year.values(),
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
        "offices": counts_chart(
            "chart-offices",
            _("Applications and awards per lead office"),
            _("Bars per office: number of applications and of awarded projects."),
            [offices.get(k, k) for k in report.by_office],
            report.by_office.values(),
        ),
        "areas": counts_chart(
            "chart-areas",
            _("Applications and awards per focus area"),
            _("Bars per focus area: number of applications and of awarded projects."),
            [areas.get(k, k) for k in report.by_focus_area],
            report.by_focus_area.values(),
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
        report_csv(_report(), csv_dialect(request.args.get("separator"), web.current_language())),
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
        mimetype=XLSX_MIMETYPE,
        headers={"Content-Disposition": f'attachment; filename="{_filename("xlsx")}"'},
    )

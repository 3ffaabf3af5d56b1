"""The figures the strategy asks for: what the municipality applies for and wins.

Definitions (every figure covers the projects *submitted* in the chosen year, or all years):

- ``applications``: projects with a submission date whose status is past preparation
  (submitted, awarded, rejected, withdrawn, running or closed);
- ``decided``: of those, the awarded, rejected, running or closed ones;
- ``awarded``: the awarded, running or closed ones;
- ``success_rate``: awarded / decided (null when nothing is decided yet);
- ``eu_grant_applied_eur`` / ``eu_grant_awarded_eur``: the municipality's EU grant summed
  over the applications / the awarded ones;
- ``own_contribution_awarded_eur``: own contribution (cash + in kind) of the awarded ones;
- ``leverage``: EU grant awarded / own contribution awarded (null when the latter is zero);
- ``non_eu_cofinancing_eur``: secured (decided or paid) co-financing of the awarded ones from
  funders that are neither EU programmes nor the municipality's own budget;
- ``non_eu_cofinancing_share``: that amount / all external money of the awarded ones (EU
  grant + secured lines from EU and non-EU funders; own budget excluded), null when none.

SEK amounts are converted at ``[reports] sek_per_eur``. Money is rounded to cents and ratios
to four decimals only at the end. Delegations are counted by the year of the visit.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tracker.models import CoFinancingLine, FunderKind, Project
from tracker.services.delegations import count_by_year, list_delegations
from tracker.services.financing import CENT, to_eur
from tracker.spreadsheets import EXCEL_EN, Column, CsvDialect, Kind, write_csv, write_xlsx

FIGURE_KEYS = (
    "applications",
    "decided",
    "awarded",
    "success_rate",
    "eu_grant_applied_eur",
    "eu_grant_awarded_eur",
    "own_contribution_awarded_eur",
    "leverage",
    "non_eu_cofinancing_eur",
    "non_eu_cofinancing_share",
)
RATIO = Decimal("0.0001")


@dataclass(frozen=True)
class Figures:
    applications: int
    decided: int
    awarded: int
    success_rate: float | None
    eu_grant_applied_eur: float
    eu_grant_awarded_eur: float
    own_contribution_awarded_eur: float
    leverage: float | None
    non_eu_cofinancing_eur: float
    non_eu_cofinancing_share: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Report:
    year: int | None
    sek_per_eur: Decimal
    total: Figures
    by_programme: dict[str, Figures]
    by_year: dict[int, Figures]
    by_office: dict[str, Figures]
    by_focus_area: dict[str, Figures]
    delegations_by_year: dict[int, dict[str, int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape printed by ``tracker report --json`` and served by the web page."""
        return {
            "year": self.year,
            "currency": "EUR",
            "sek_per_eur": float(self.sek_per_eur),
            **self.total.as_dict(),
            "by_programme": {k: v.as_dict() for k, v in self.by_programme.items()},
            "by_year": {str(k): v.as_dict() for k, v in self.by_year.items()},
            "by_office": {k: v.as_dict() for k, v in self.by_office.items()},
            "by_focus_area": {k: v.as_dict() for k, v in self.by_focus_area.items()},
            "delegations_by_year": {str(k): v for k, v in self.delegations_by_year.items()},
            "delegations": sum(v["total"] for v in self.delegations_by_year.values()),
        }


def _money(value: Decimal) -> float:
    return float(value.quantize(CENT, ROUND_HALF_UP))


def _ratio(numerator: Decimal, denominator: Decimal) -> float | None:
    if denominator == 0:
        return None
    return float((numerator / denominator).quantize(RATIO, ROUND_HALF_UP))


def _is_secured_external(line: CoFinancingLine) -> bool:
    return line.is_secured and line.funder.kind is not FunderKind.OWN_BUDGET


def compute_figures(projects: Iterable[Project], *, sek_per_eur: Decimal) -> Figures:
    """The figures over ``projects``; those that are not applications are ignored."""
    applications = [p for p in projects if p.is_application]
    decided = [p for p in applications if p.is_decided]
    awarded = [p for p in applications if p.is_awarded]
    eu_applied = sum(
        (to_eur(p.eu_grant, p.currency, sek_per_eur) for p in applications), Decimal(0)
    )
    eu_awarded = sum((to_eur(p.eu_grant, p.currency, sek_per_eur) for p in awarded), Decimal(0))
    own_awarded = sum(
        (to_eur(p.own_contribution, p.currency, sek_per_eur) for p in awarded), Decimal(0)
    )
    eu_lines = Decimal(0)
    non_eu_lines = Decimal(0)
    for project in awarded:
        for line in project.lines:
            if not _is_secured_external(line):
                continue
            amount = to_eur(line.amount, line.currency, sek_per_eur)
            if line.funder.is_eu:
                eu_lines += amount
            else:
                non_eu_lines += amount
    return Figures(
        applications=len(applications),
        decided=len(decided),
        awarded=len(awarded),
        success_rate=_ratio(Decimal(len(awarded)), Decimal(len(decided))),
        eu_grant_applied_eur=_money(eu_applied),
        eu_grant_awarded_eur=_money(eu_awarded),
        own_contribution_awarded_eur=_money(own_awarded),
        leverage=_ratio(eu_awarded, own_awarded),
        non_eu_cofinancing_eur=_money(non_eu_lines),
        non_eu_cofinancing_share=_ratio(non_eu_lines, eu_awarded + eu_lines + non_eu_lines),
    )


def _group(
    projects: list[Project], keys: Callable[[Project], Iterable[str | int]]
) -> dict[Any, list[Project]]:
    groups: dict[Any, list[Project]] = {}
    for project in projects:
        for key in keys(project):
            groups.setdefault(key, []).append(project)
    return groups


def report_projects(session: Session, *, year: int | None) -> list[Project]:
    """The applications a report covers, with what the figures need loaded."""
    query = (
        select(Project)
        .where(Project.submitted_on.is_not(None))
        .options(
            selectinload(Project.lines).selectinload(CoFinancingLine.funder),
            selectinload(Project.lead_office),
        )
    )
    if year is not None:
        query = query.where(
            Project.submitted_on >= date(year, 1, 1), Project.submitted_on <= date(year, 12, 31)
        )
    return [p for p in session.scalars(query.order_by(Project.id)) if p.is_application]


def compute_report(session: Session, *, year: int | None, sek_per_eur: Decimal) -> Report:
    """Every figure of the report for the projects submitted in ``year`` (all when None)."""
    projects = report_projects(session, year=year)

    def figures(group: list[Project]) -> Figures:
        return compute_figures(group, sek_per_eur=sek_per_eur)

    def by(keys: Callable[[Project], Iterable[str | int]]) -> dict[Any, Figures]:
        groups = _group(projects, keys)
        return {key: figures(groups[key]) for key in sorted(groups)}

    return Report(
        year=year,
        sek_per_eur=sek_per_eur,
        total=figures(projects),
        by_programme=by(lambda p: [p.programme or ""]),
        by_year=by(lambda p: [p.submitted_on.year] if p.submitted_on else []),
        by_office=by(lambda p: [p.lead_office.slug]),
        by_focus_area=by(lambda p: list(dict.fromkeys(p.focus_areas))),
        delegations_by_year=count_by_year(list_delegations(session, year=year)),
    )


# --- the same figures as a table ------------------------------------------------------------

REPORT_COLUMNS = ("section", "key", "metric", "value")


def report_rows(report: Report) -> list[tuple[str, str, str, Any]]:
    """The report in long form, one figure per row: (section, key, metric, value)."""
    rows: list[tuple[str, str, str, Any]] = [("total", "", "year", report.year)]
    rows.append(("total", "", "sek_per_eur", float(report.sek_per_eur)))
    sections: list[tuple[str, dict[str, Figures]]] = [
        ("total", {"": report.total}),
        ("year", {str(k): v for k, v in report.by_year.items()}),
        ("programme", report.by_programme),
        ("office", report.by_office),
        ("focus_area", report.by_focus_area),
    ]
    for section, groups in sections:
        for key, figures in groups.items():
            values = figures.as_dict()
            rows.extend((section, key, metric, values[metric]) for metric in FIGURE_KEYS)
    for year, counts in report.delegations_by_year.items():
        rows.extend(("delegations", str(year), kind, n) for kind, n in counts.items())
    return rows


REPORT_COLUMN_TYPES = (
    Column("section", width=14),
    Column("key", width=30),
    Column("metric", width=30),
    Column("value", Kind.NUMBER),
)


def write_report_csv(report: Report, stream: IO[str], dialect: CsvDialect = EXCEL_EN) -> None:
    write_csv(stream, REPORT_COLUMN_TYPES, report_rows(report), dialect)


def report_csv(report: Report, dialect: CsvDialect = EXCEL_EN) -> str:
    """The report as CSV for Excel: BOM, ``dialect``'s separator and decimal mark."""
    buffer = io.StringIO()
    write_report_csv(report, buffer, dialect)
    return buffer.getvalue()


def write_report_xlsx(report: Report, target: Path | IO[bytes]) -> None:
    write_xlsx(target, "report", REPORT_COLUMN_TYPES, report_rows(report))

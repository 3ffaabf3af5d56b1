"""Every report figure against values computed by hand from a small, varied log.

The log (SEK converts at 11.5 per euro):

| project | submitted  | status    | programme       | office | EU grant        | own (cash+kind) |
|---------|------------|-----------|-----------------|--------|-----------------|-----------------|
| P1      | 2024-02-01 | awarded   | Creative Europe | kultur | 80 000 EUR      | 15 000 + 5 000  |
| P2      | 2024-05-10 | rejected  | Creative Europe | kultur | 50 000 EUR      | 10 000          |
| P3      | 2024-09-01 | running   | Erasmus+        | utb    | 1 150 000 SEK   | 230 000 SEK     |
| P4      | 2024-11-15 | submitted | Erasmus+        | utb    | 40 000 EUR      | 8 000           |
| P5      | 2024-03-01 | withdrawn | Interreg Europe | utb    | 30 000 EUR      | -               |
| P6      | 2025-01-20 | awarded   | Interreg Europe | kultur | 60 000 EUR      | -               |
| P7      | 2024-06-01 | preparing | Erasmus+        | utb    | 99 999 EUR      | (not sent yet)  |
| P8      | -          | idea      | -               | utb    | -               |                 |
| P9      | -          | withdrawn | Creative Europe | kultur | 10 000 EUR      | (never sent)    |

Lines: P1 region 10 000 EUR decided, own budget 20 000 EUR decided, foundation 5 000 EUR
asked; P3 ERUF 115 000 SEK paid (10 000 EUR, EU money), region 230 000 SEK paid (20 000 EUR).
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from tests.factories import make_office
from tests.factories.projects import make_delegation, make_funder, make_line, make_project
from tracker.models import Currency, DelegationKind, FunderKind, LineStatus, ProjectStatus
from tracker.services.reports import compute_report, report_csv, report_rows, write_report_xlsx

RATE = Decimal("11.5")


@pytest.fixture()
def log(session: Session) -> None:
    kultur = make_office(session, slug="kultur")
    utb = make_office(session, slug="utb")
    own = make_funder(session, kind=FunderKind.OWN_BUDGET)
    region = make_funder(session, kind=FunderKind.REGION)
    eruf = make_funder(session, kind=FunderKind.EU_SHARED, forbids_double_eu_funding=True)
    foundation = make_funder(session, kind=FunderKind.FOUNDATION)

    p1 = make_project(
        session,
        kultur,
        submitted_on=date(2024, 2, 1),
        status=ProjectStatus.AWARDED,
        programme="Creative Europe",
        eu_grant=Decimal("80000"),
        own_contribution_cash=Decimal("15000"),
        own_contribution_in_kind=Decimal("5000"),
        focus_areas=["culture-music"],
    )
    make_line(session, p1, region, "10000", status=LineStatus.DECIDED)
    make_line(session, p1, own, "20000", status=LineStatus.DECIDED)
    make_line(session, p1, foundation, "5000", status=LineStatus.ASKED)
    make_project(
        session,
        kultur,
        submitted_on=date(2024, 5, 10),
        status=ProjectStatus.REJECTED,
        programme="Creative Europe",
        eu_grant=Decimal("50000"),
        own_contribution_cash=Decimal("10000"),
        focus_areas=["culture-music", "inclusion-migration"],
    )
    p3 = make_project(
        session,
        utb,
        submitted_on=date(2024, 9, 1),
        status=ProjectStatus.RUNNING,
        programme="Erasmus+",
        currency=Currency.SEK,
        eu_grant=Decimal("1150000"),
        own_contribution_cash=Decimal("230000"),
        focus_areas=["education"],
    )
    make_line(session, p3, eruf, "115000", currency=Currency.SEK, status=LineStatus.PAID)
    make_line(session, p3, region, "230000", currency=Currency.SEK, status=LineStatus.PAID)
    make_project(
        session,
        utb,
        submitted_on=date(2024, 11, 15),
        status=ProjectStatus.SUBMITTED,
        programme="Erasmus+",
        eu_grant=Decimal("40000"),
        own_contribution_cash=Decimal("8000"),
        focus_areas=["education"],
    )
    make_project(
        session,
        utb,
        submitted_on=date(2024, 3, 1),
        status=ProjectStatus.WITHDRAWN,
        programme="Interreg Europe",
        eu_grant=Decimal("30000"),
    )
    make_project(
        session,
        kultur,
        submitted_on=date(2025, 1, 20),
        status=ProjectStatus.AWARDED,
        programme="Interreg Europe",
        eu_grant=Decimal("60000"),
        focus_areas=["regional-development"],
    )
    make_project(
        session,
        utb,
        submitted_on=date(2024, 6, 1),
        status=ProjectStatus.PREPARING,
        programme="Erasmus+",
        eu_grant=Decimal("99999"),
    )
    make_project(session, utb, submitted_on=None, status=ProjectStatus.IDEA, programme=None)
    make_project(
        session,
        kultur,
        submitted_on=None,
        status=ProjectStatus.WITHDRAWN,
        eu_grant=Decimal("10000"),
    )
    make_delegation(session, date(2024, 4, 2))
    make_delegation(session, date(2024, 10, 9))
    make_delegation(session, date(2024, 12, 31), kind=DelegationKind.VISIT)
    make_delegation(session, date(2025, 1, 1))


def figures(**values: Any) -> dict[str, Any]:
    return values


CREATIVE_EUROPE_2024 = figures(
    applications=2,
    decided=2,
    awarded=1,
    success_rate=0.5,
    eu_grant_applied_eur=130000.0,
    eu_grant_awarded_eur=80000.0,
    own_contribution_awarded_eur=20000.0,
    leverage=4.0,
    non_eu_cofinancing_eur=10000.0,
    non_eu_cofinancing_share=0.1111,  # 10 000 / (80 000 + 10 000)
)
ERASMUS_2024 = figures(
    applications=2,
    decided=1,
    awarded=1,
    success_rate=1.0,
    eu_grant_applied_eur=140000.0,
    eu_grant_awarded_eur=100000.0,
    own_contribution_awarded_eur=20000.0,
    leverage=5.0,
    non_eu_cofinancing_eur=20000.0,
    non_eu_cofinancing_share=0.1538,  # 20 000 / (100 000 + 10 000 ERUF + 20 000)
)
INTERREG_2024 = figures(
    applications=1,
    decided=0,
    awarded=0,
    success_rate=None,
    eu_grant_applied_eur=30000.0,
    eu_grant_awarded_eur=0.0,
    own_contribution_awarded_eur=0.0,
    leverage=None,
    non_eu_cofinancing_eur=0.0,
    non_eu_cofinancing_share=None,
)
TOTAL_2024 = figures(
    applications=5,
    decided=3,
    awarded=2,
    success_rate=0.6667,
    eu_grant_applied_eur=300000.0,
    eu_grant_awarded_eur=180000.0,
    own_contribution_awarded_eur=40000.0,
    leverage=4.5,
    non_eu_cofinancing_eur=30000.0,
    non_eu_cofinancing_share=0.1364,  # 30 000 / (180 000 + 10 000 + 30 000)
)


@pytest.mark.usefixtures("log")
def test_the_figures_of_one_year(session: Session) -> None:
    data = compute_report(session, year=2024, sek_per_eur=RATE).as_dict()
    assert {key: data[key] for key in TOTAL_2024} == TOTAL_2024
    assert data["year"] == 2024 and data["currency"] == "EUR" and data["sek_per_eur"] == 11.5
    assert data["by_programme"] == {
        "Creative Europe": CREATIVE_EUROPE_2024,
        "Erasmus+": ERASMUS_2024,
        "Interreg Europe": INTERREG_2024,
    }
    assert data["by_year"] == {"2024": TOTAL_2024}
    assert {k: (v["applications"], v["awarded"]) for k, v in data["by_office"].items()} == {
        "kultur": (2, 1),
        "utb": (3, 1),
    }
    assert data["by_office"]["utb"]["eu_grant_applied_eur"] == 170000.0
    assert {k: (v["applications"], v["awarded"]) for k, v in data["by_focus_area"].items()} == {
        "culture-music": (2, 1),
        "education": (2, 1),
        "inclusion-migration": (1, 0),
    }
    assert data["delegations_by_year"] == {"2024": {"delegation": 2, "visit": 1, "total": 3}}
    assert data["delegations"] == 3


@pytest.mark.usefixtures("log")
def test_the_figures_of_all_years(session: Session) -> None:
    data = compute_report(session, year=None, sek_per_eur=RATE).as_dict()
    assert {key: data[key] for key in TOTAL_2024} == figures(
        applications=6,
        decided=4,
        awarded=3,
        success_rate=0.75,
        eu_grant_applied_eur=360000.0,
        eu_grant_awarded_eur=240000.0,
        own_contribution_awarded_eur=40000.0,
        leverage=6.0,
        non_eu_cofinancing_eur=30000.0,
        non_eu_cofinancing_share=0.1071,  # 30 000 / (240 000 + 10 000 + 30 000)
    )
    assert data["by_year"]["2024"] == TOTAL_2024
    assert data["by_year"]["2025"] == figures(
        applications=1,
        decided=1,
        awarded=1,
        success_rate=1.0,
        eu_grant_applied_eur=60000.0,
        eu_grant_awarded_eur=60000.0,
        own_contribution_awarded_eur=0.0,
        leverage=None,  # no own contribution
        non_eu_cofinancing_eur=0.0,
        non_eu_cofinancing_share=0.0,
    )
    interreg = data["by_programme"]["Interreg Europe"]
    assert (interreg["applications"], interreg["decided"], interreg["awarded"]) == (2, 1, 1)
    assert data["delegations_by_year"] == {
        "2024": {"delegation": 2, "visit": 1, "total": 3},
        "2025": {"delegation": 1, "visit": 0, "total": 1},
    }


@pytest.mark.usefixtures("log")
def test_a_year_without_applications_has_nulls_not_zero_divisions(session: Session) -> None:
    data = compute_report(session, year=2023, sek_per_eur=RATE).as_dict()
    assert data["applications"] == 0
    assert data["success_rate"] is None
    assert data["leverage"] is None
    assert data["non_eu_cofinancing_share"] is None
    assert data["by_programme"] == {} and data["by_year"] == {}
    assert data["delegations"] == 0


@pytest.mark.usefixtures("log")
def test_the_exchange_rate_changes_only_sek_amounts(session: Session) -> None:
    data = compute_report(session, year=2024, sek_per_eur=Decimal("10")).as_dict()
    # P3's 1 150 000 SEK is now 115 000 EUR; the EUR projects stay as they were.
    assert data["eu_grant_awarded_eur"] == 80000.0 + 115000.0
    assert data["own_contribution_awarded_eur"] == 20000.0 + 23000.0


@pytest.mark.usefixtures("log")
def test_csv_and_xlsx_hold_the_same_figures_as_the_json(session: Session) -> None:
    report = compute_report(session, year=2024, sek_per_eur=RATE)
    text = report_csv(report)
    assert text.startswith("\ufeff")  # Excel reads å, ä and ö right
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == ["section", "key", "metric", "value"]
    table = {(s, k, m): v for s, k, m, v in rows[1:]}
    assert table[("total", "", "applications")] == "5"
    assert table[("total", "", "success_rate")] == "0.6667"
    assert table[("total", "", "eu_grant_awarded_eur")] == "180000"
    assert table[("programme", "Interreg Europe", "success_rate")] == ""
    assert table[("programme", "Erasmus+", "leverage")] == "5"
    assert table[("office", "utb", "applications")] == "3"
    assert table[("focus_area", "education", "awarded")] == "1"
    assert table[("delegations", "2024", "total")] == "3"
    assert len(rows) - 1 == len(report_rows(report))

    buffer = io.BytesIO()
    write_report_xlsx(report, buffer)
    sheet = load_workbook(io.BytesIO(buffer.getvalue())).active
    assert sheet is not None
    cells = [tuple(row) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert len(cells) == len(report_rows(report))
    by_key = {(s, k or "", m): v for s, k, m, v in cells}
    assert by_key[("total", "", "leverage")] == 4.5
    assert by_key[("programme", "Creative Europe", "applications")] == 2

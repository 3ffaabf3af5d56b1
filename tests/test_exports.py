"""Every export (calls, projects, report; CSV and xlsx) opens right in Excel: no formula from
a title, no control character that breaks the workbook, numbers in full, a BOM and the
separator of the user's Excel, and an xlsx sheet that is ready to read (widths, frozen
header, filter, links). Files are opened with csv and openpyxl, as a user's Excel would."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.orm import Session

from tests.factories import login, make_office, make_profile, make_user
from tests.factories.inbox import in_days, make_matched_call
from tests.factories.projects import make_project
from tracker.models import ProjectStatus, Role, User
from tracker.spreadsheets import (
    EXCEL_EN,
    EXCEL_SV,
    Column,
    Kind,
    Link,
    csv_text,
    plain_number,
    xlsx_bytes,
)

HOSTILE = ["=1+2", "+SUM(A1)", "-2+3", "@SUM(A1)", "\tTab", "\rReturn"]
EXPORTS = [
    "/calls/export.{fmt}?state=all&status=all",
    "/projects/export.{fmt}",
    "/reports/report.{fmt}",
]


def _user(session: Session, client: FlaskClient, language: str) -> User:
    user = make_user(session, Role.EDITOR, language=language)
    login(client, user)
    return user


@pytest.fixture()
def hostile_data(session: Session) -> None:
    """Calls and projects whose titles and programmes start like formulas or hold control
    characters, and a budget that a float format would print as 1.23457e+07."""
    make_profile(session)
    office = make_office(session, slug="kultur")
    for n, text in enumerate(HOSTILE):
        make_matched_call(
            session,
            {"education": 70},
            title=f"{text} call",
            budget_total_eur=Decimal("12345678") if n == 0 else Decimal("1234.5"),
            deadlines=[in_days(10 + n)],
        )
        make_project(
            session,
            office,
            title=f"{text} project",
            programme=f"{text} programme",
            status=ProjectStatus.AWARDED,
            submitted_on=date(2025, 3, 1),
            decision_on=date(2025, 9, 1),
            eu_grant=Decimal("12345678.00"),
            total_budget=Decimal("20000000.00"),
        )
    make_matched_call(session, {"education": 80}, title="Bell\x07 and vertical\x0b tab")
    make_project(session, office, title="Escape\x1b and bell\x07 project")


def _csv_rows(client: FlaskClient, url: str) -> tuple[str, list[list[str]]]:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.headers["Content-Type"].startswith("text/csv")
    text = response.get_data(as_text=True)
    delimiter = ";" if text.split("\r\n", 1)[0].count(";") else ","
    return text, list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=delimiter))


def _sheet(client: FlaskClient, url: str) -> Worksheet:
    response = client.get(url)
    assert response.status_code == 200, url
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert isinstance(sheet, Worksheet)
    return sheet


@pytest.mark.usefixtures("hostile_data")
@pytest.mark.parametrize("url", EXPORTS)
@pytest.mark.parametrize("language", ["sv", "en"])
def test_no_csv_cell_starts_like_a_formula_and_every_csv_has_a_bom(
    client: FlaskClient, session: Session, url: str, language: str
) -> None:
    _user(session, client, language)
    text, rows = _csv_rows(client, url.format(fmt="csv"))
    assert text.startswith("\ufeff")  # Excel reads å, ä and ö as UTF-8
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    guarded = [c for c in cells if c.startswith("'")]
    # Every hostile title (calls, projects) or programme (report) is there, guarded.
    assert len({c.split(" ")[0] for c in guarded}) == len(HOSTILE)
    assert not [c for c in cells if "\x07" in c or "\x0b" in c or "\x1b" in c]


@pytest.mark.usefixtures("hostile_data")
@pytest.mark.parametrize("url", EXPORTS)
def test_no_xlsx_cell_is_a_formula_and_control_characters_do_not_break_the_workbook(
    client: FlaskClient, session: Session, url: str
) -> None:
    _user(session, client, "sv")
    sheet = _sheet(client, url.format(fmt="xlsx"))
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = [c for c in cells if isinstance(c.value, str)]
    # (XML reads a carriage return back as a line feed.)
    hostile = [c for c in texts if c.value.startswith(("=", "+", "-", "@", "\t", "\r", "\n"))]
    # Shown as written, and kept as text when someone edits the cell (Excel's quote prefix).
    assert len(hostile) >= len(HOSTILE)
    assert all(c.data_type == "s" and c.quotePrefix for c in hostile)
    assert not [c.value for c in texts if any(ch in c.value for ch in "\x07\x0b\x1b")]


@pytest.mark.usefixtures("hostile_data")
def test_numbers_are_written_in_full_and_in_the_users_excel(
    client: FlaskClient, session: Session
) -> None:
    _user(session, client, "sv")
    text, rows = _csv_rows(client, "/calls/export.csv?state=all&status=all")
    assert rows[0][0] == "Utlysningssida" and len(rows[0]) == 15  # semicolons, for Swedish Excel
    budgets = {row[13] for row in rows[1:]}
    assert "12345678,00" in budgets and "1234,50" in budgets
    assert "e+" not in text
    _, english = _csv_rows(client, "/calls/export.csv?state=all&status=all&separator=comma")
    assert {row[13] for row in english[1:]} >= {"12345678.00", "1234.50"}

    sheet = _sheet(client, "/calls/export.xlsx?state=all&status=all")
    budget_cells = [row[13] for row in sheet.iter_rows(min_row=2)]
    assert 12345678 in [c.value for c in budget_cells]
    assert all(c.data_type == "n" for c in budget_cells if c.value is not None)

    _, projects = _csv_rows(client, "/projects/export.csv")
    eu_grant = projects[0].index("eu_grant")
    assert {row[eu_grant] for row in projects[1:]} >= {"12345678,00"}


@pytest.mark.usefixtures("hostile_data")
def test_an_english_user_gets_commas_and_may_ask_for_swedish_excel(
    client: FlaskClient, session: Session
) -> None:
    _user(session, client, "en")
    text, rows = _csv_rows(client, "/projects/export.csv")
    assert text.split("\r\n", 1)[0].startswith("\ufefftitle,acronym,programme")
    assert "12345678.00" in {cell for row in rows for cell in row}
    text, rows = _csv_rows(client, "/projects/export.csv?separator=semicolon")
    assert text.split("\r\n", 1)[0].startswith("\ufefftitle;acronym;programme")
    assert "12345678,00" in {cell for row in rows for cell in row}
    page = client.get("/calls").get_data(as_text=True)
    assert "CSV with semicolons, for Swedish Excel" in page


@pytest.mark.usefixtures("hostile_data")
def test_the_calls_workbook_is_ready_to_read(client: FlaskClient, session: Session) -> None:
    _user(session, client, "sv")
    sheet = _sheet(client, "/calls/export.xlsx?state=all&status=all")
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:O{sheet.max_row}"
    header = [c.value for c in sheet[1]]
    deadline = header.index("Nästa sista dag") + 1
    # Wide enough for "2026-12-01 17:00" (Excel shows ######## in a default-width column).
    assert (sheet.column_dimensions["G"].width or 0) >= 16 and deadline == 7
    assert (sheet.column_dimensions["C"].width or 0) >= 40  # the title
    page, official = sheet["A2"], sheet["O2"]
    assert page.hyperlink is not None and page.hyperlink.target == page.value
    assert page.value.startswith("http://localhost/calls/")
    assert official.hyperlink is not None and official.hyperlink.target.startswith("https://")
    assert sheet["G2"].is_date and sheet["G2"].number_format == "yyyy-mm-dd hh:mm"

    projects = _sheet(client, "/projects/export.xlsx")
    assert projects.freeze_panes == "A2" and projects.auto_filter.ref
    assert projects["G2"].is_date  # submitted_on, a real date


def test_the_helper_never_writes_exponents_nor_keeps_control_characters() -> None:
    assert plain_number(12345678.0) == "12345678"
    assert plain_number(1.5e-05) == "0.000015"
    assert plain_number(Decimal("1234.50"), ",") == "1234,50"
    assert plain_number(1e20) == "100000000000000000000"
    columns = [Column("Title"), Column("Amount", Kind.NUMBER), Column("Link", Kind.LINK)]
    rows = [["NUL\x00 title", 1e20, Link("javascript:alert(1)")], ["=cmd", -5, ""]]
    text = csv_text(columns, rows, EXCEL_SV)
    assert text == (
        "\ufeffTitle;Amount;Link\r\nNUL title;100000000000000000000;javascript:alert(1)\r\n"
        "'=cmd;-5;\r\n"
    )
    assert csv_text(columns, [[None, 0.5, None]], EXCEL_EN).endswith(",0.5,\r\n")
    sheet = load_workbook(io.BytesIO(xlsx_bytes("x", columns, rows))).active
    assert sheet is not None
    assert sheet["A2"].value == "NUL title"
    assert sheet["B3"].value == -5  # a number, not text, and not guarded
    assert sheet["C2"].hyperlink is None  # only http and https links are made clickable

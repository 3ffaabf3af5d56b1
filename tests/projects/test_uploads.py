"""Uploads that could take the server down are refused early, with a message the user can
act on, and the documented 5,000-row project import goes through (in the background)."""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import Workbook
from sqlalchemy import Connection, event, func, select
from sqlalchemy.orm import Session

from tests.factories import NOW, login, make_office, make_user
from tests.factories.spreadsheets import OFFICES, project_xlsx, xlsx_bomb
from tracker.models import AuditEvent, Organisation, Project, ProjectPartner, Role
from tracker.services.project_import import (
    ImportFileError,
    export_projects,
    import_projects,
    list_for_export,
    read_table,
)
from tracker.spreadsheets import EXCEL_SV


@pytest.fixture()
def offices(session: Session) -> None:
    for slug in OFFICES:
        make_office(session, slug=slug)


@pytest.fixture()
def editor(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session, role=Role.EDITOR, language="en"))


def _post_import(client: FlaskClient, csrf: str, data: bytes, name: str, **form: str) -> Any:
    return client.post(
        "/projects/import",
        data={"csrf_token": csrf, "file": (io.BytesIO(data), name), **form},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_an_xlsx_bomb_is_refused_unopened_and_memory_stays_low() -> None:
    bomb = xlsx_bomb(200)
    assert len(bomb) < 400_000  # 200 MB of sheet in a few hundred kilobytes
    tracemalloc.start()
    try:
        with pytest.raises(ImportFileError, match="unpacks to 200 MB, more than the 48 MB"):
            read_table(bomb, "projects.xlsx")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * 1024 * 1024


def test_a_small_bomb_is_refused_by_how_tightly_it_is_packed() -> None:
    with pytest.raises(ImportFileError, match="refused as a possible zip bomb"):
        read_table(xlsx_bomb(8), "projects.xlsx")


@pytest.mark.usefixtures("editor")
def test_the_import_page_says_why_a_bomb_was_refused(client: FlaskClient, csrf: str) -> None:
    response = _post_import(client, csrf, xlsx_bomb(100), "projects.xlsx")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "workbook unpacks to 100 MB, more than the 48 MB allowed" in page


def test_the_call_sheet_upload_refuses_a_bomb(
    client: FlaskClient, session: Session, csrf: str
) -> None:
    login(client, make_user(session, role=Role.EDITOR, language="en"))
    response = client.post(
        "/admin/manual-calls",
        data={
            "action": "upload",
            "csrf_token": csrf,
            "sheet": (io.BytesIO(xlsx_bomb(8)), "c.xlsx"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "possible zip bomb" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([["title", "lead_office", *["x"] * 250]], "more than 200 columns"),
        ([["title", "lead_office"]] + [[f"P{n}", "kultur"] for n in range(10_001)], "rows"),
    ],
    ids=["columns", "rows"],
)
def test_sheets_beyond_the_caps_are_refused_while_they_are_read(
    rows: list[list[object]], message: str
) -> None:
    with pytest.raises(ImportFileError, match=message):
        read_table(_xlsx(rows), "projects.xlsx")


def test_a_csv_line_of_a_million_separators_is_refused_before_it_is_split() -> None:
    data = b"title,lead_office\n" + b"," * 1_000_000 + b"\n"
    with pytest.raises(ImportFileError, match="more than 200 columns"):
        read_table(data, "projects.csv")
    with pytest.raises(ImportFileError, match="more than 32767 characters"):
        read_table(b"title,lead_office\n" + b"y" * 40_000 + b",kultur\n", "projects.csv")
    with pytest.raises(ImportFileError, match="cannot be read"):
        read_table(b"title,lead_office\n" + b"y" * 200_000 + b",kultur\n", "projects.csv")


@pytest.fixture()
def statements(connection: Connection) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(connection, "before_cursor_execute", count)
    yield seen
    event.remove(connection, "before_cursor_execute", count)


@pytest.mark.usefixtures("offices", "editor")
def test_the_documented_5000_row_import_succeeds(
    client: FlaskClient, session: Session, csrf: str, statements: list[str]
) -> None:
    data = project_xlsx(5000)

    response = _post_import(client, csrf, data, "projects.xlsx")

    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert "<dt>Created</dt><dd>5000</dd>" in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Project)) == 5000
    assert session.scalar(select(func.count()).select_from(Organisation)) == 5
    links = session.scalar(select(func.count()).select_from(ProjectPartner)) or 0
    audited = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    assert audited == 5000 + 5 + links  # every project, partner and partner link audited
    # Reads and audit rows in bulk, not per row. (SQLite's driver still runs the projects'
    # INSERT once per row to hand back each id in order, in the same statement.)
    queries = [s for s in statements if not s.lstrip().upper().startswith("INSERT")]
    assert len(queries) < 100, queries[:20]
    inserts = {s for s in statements if s.lstrip().upper().startswith("INSERT")}
    assert len(inserts) < 20


@pytest.mark.usefixtures("offices")
def test_a_swedish_excel_export_reads_back_unchanged(session: Session) -> None:
    table = read_table(project_xlsx(3), "projects.xlsx")
    assert import_projects(session, table, actor=None, now=NOW).ok
    first = session.scalars(select(Project).order_by(Project.id)).first()
    assert first is not None
    first.title = "=Formula-like title"
    session.flush()

    exported = export_projects(list_for_export(session), "projects.csv", dialect=EXCEL_SV)
    text = exported.decode("utf-8")
    assert text.startswith("\ufefftitle;acronym;") and "'=Formula-like title;" in text

    back = read_table(exported, "projects.csv")
    result = import_projects(session, back, actor=None, now=NOW, dry_run=True)
    assert result.errors == [] and len(result.unchanged) == 3

"""The project log's spreadsheet: its columns, reading a .csv or .xlsx file into a table, and
writing the projects back out in the same shape (``project_import`` checks and applies what
is read).

One project per row, a header row naming the columns in any order (``COLUMNS``); extra
columns are reported and ignored. Dates are ISO 8601, amounts plain numbers, ``partners``
is ``Name (CC); Name (CC)``. Rows are numbered as the spreadsheet numbers them (the header
is row 1).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tracker.errors import ValidationFailed
from tracker.i18n import Message, msg
from tracker.models import Project, ProjectPartner
from tracker.services.fields import clean
from tracker.services.organisations import format_partner_list
from tracker.spreadsheets import (
    EXCEL_EN,
    Column,
    CsvDialect,
    Kind,
    UnreadableSpreadsheet,
    csv_delimiter,
    csv_text,
    iter_csv_rows,
    iter_xlsx_rows,
    strip_formula_guard,
    xlsx_bytes,
)

COLUMNS = (
    "title",
    "acronym",
    "programme",
    "role",
    "status",
    "lead_office",
    "submitted_on",
    "decision_on",
    "start_on",
    "end_on",
    "currency",
    "total_budget",
    "municipality_budget",
    "eu_grant",
    "own_contribution",
    "partners",
    "focus_areas",
)
REQUIRED_COLUMNS = ("title", "lead_office")
MAX_ROWS = 5000
# Rows of the sheet read at most, blank ones included (the data rows are capped at MAX_ROWS).
MAX_SHEET_ROWS = 2 * MAX_ROWS
AMOUNT_COLUMNS = ("total_budget", "municipality_budget", "eu_grant", "own_contribution")
DATE_COLUMNS = ("submitted_on", "decision_on", "start_on", "end_on")
# Where a rule broken by a project field is reported in the file.


class ImportFileError(ValidationFailed):
    """The file as a whole cannot be read (format, header)."""


@dataclass(frozen=True)
class Table:
    """A sheet read from a file: the normalised header and the rows as column -> cell."""

    header: list[str]
    rows: list[tuple[int, dict[str, object]]]
    decimal_comma: bool = False  # amounts written 1234,50 (a semicolon-separated CSV)


@dataclass(frozen=True)
class RowError:
    row: int
    column: str | None
    message: Message

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.message}"


# --- reading files --------------------------------------------------------------------------


def _normalise_header(cell: object) -> str:
    return clean(cell).lower().replace(" ", "_").replace("-", "_")


def _table(raw_rows: Iterable[tuple[int, list[object]]]) -> Table:
    iterator = iter(raw_rows)
    for _number, cells in iterator:
        if any(clean(c) for c in cells):
            header = [_normalise_header(c) for c in cells]
            break
    else:
        raise ImportFileError(msg("the file is empty"))
    while header and not header[-1]:
        header.pop()
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            raise ImportFileError(msg("the column %(column)s appears twice", column=name))
        seen.add(name)
    rows: list[tuple[int, dict[str, object]]] = []
    for number, cells in iterator:
        if not any(clean(c) for c in cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise ImportFileError(msg("the file has more than %(count)d rows", count=MAX_ROWS))
        values = {name: cells[i] if i < len(cells) else None for i, name in enumerate(header)}
        rows.append((number, {k: v for k, v in values.items() if k}))
    return Table(header=[h for h in header if h], rows=rows)


def read_csv(data: bytes) -> Table:
    """A CSV file as saved by Excel (UTF-8 with or without BOM, or Windows-1252; comma,
    semicolon or tab separated; a semicolon file has decimal commas, as Swedish Excel writes
    it). A cell that our own export guarded with an apostrophe is read as it was."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    try:
        table = _table(
            (number, [strip_formula_guard(c) if isinstance(c, str) else c for c in cells])
            for number, cells in iter_csv_rows(text, max_rows=MAX_SHEET_ROWS)
        )
    except UnreadableSpreadsheet as exc:
        raise ImportFileError(exc.message) from None
    return dataclasses.replace(table, decimal_comma=csv_delimiter(text) == ";")


def read_xlsx(data: bytes) -> Table:
    """The first sheet of an Excel workbook, streamed; typed cells (dates, numbers) are kept.
    A workbook that would unpack to far more than its rows need is refused unopened."""
    try:
        return _table(iter_xlsx_rows(data, max_rows=MAX_SHEET_ROWS))
    except UnreadableSpreadsheet as exc:
        raise ImportFileError(exc.message) from None


def read_table(data: bytes, filename: str) -> Table:
    """A table from the bytes of a .csv or .xlsx file (chosen by the file name)."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        return read_csv(data)
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(data)
    raise ImportFileError(msg("only .csv and .xlsx files can be imported"))


# --- export ---------------------------------------------------------------------------------


def _plain(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def export_row(project: Project) -> dict[str, Any]:
    """A project in the import's columns (strings; amounts as plain numbers)."""
    own = (
        None
        if project.own_contribution_cash is None and project.own_contribution_in_kind is None
        else project.own_contribution
    )
    return {
        "title": project.title,
        "acronym": project.acronym or "",
        "programme": project.programme or "",
        "role": project.role.value,
        "status": project.status.value,
        "lead_office": project.lead_office.slug,
        **{key: _iso(getattr(project, key)) for key in DATE_COLUMNS},
        "currency": project.currency.value,
        "total_budget": _plain(project.total_budget),
        "municipality_budget": _plain(project.municipality_budget),
        "eu_grant": _plain(project.eu_grant),
        "own_contribution": _plain(own),
        "partners": format_partner_list(p.organisation for p in project.partners),
        "focus_areas": "; ".join(project.focus_areas),
    }


def _iso(value: date | None) -> str:
    return value.isoformat() if value else ""


def export_columns() -> list[Column]:
    """The import's columns, typed for the spreadsheet."""
    kinds = {key: Kind.DATE for key in DATE_COLUMNS}
    kinds |= {key: Kind.NUMBER for key in AMOUNT_COLUMNS}
    widths = {"title": 50, "partners": 50, "programme": 28}
    return [Column(key, kinds.get(key, Kind.TEXT), widths.get(key)) for key in COLUMNS]


def export_values(project: Project) -> list[object]:
    """A project in the import's columns as typed values (dates, amounts, text)."""
    row = export_row(project)
    return [_typed_cell(key, row[key]) for key in COLUMNS]


def export_projects(
    projects: Iterable[Project], filename: str, *, dialect: CsvDialect = EXCEL_EN
) -> bytes:
    """The projects as a .csv (in ``dialect``) or .xlsx file in the shape the import reads."""
    rows = [export_values(p) for p in projects]
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        return csv_text(export_columns(), rows, dialect).encode("utf-8")
    if suffix == ".xlsx":
        return xlsx_bytes("projects", export_columns(), rows)
    raise ImportFileError(msg("only .csv and .xlsx files can be exported"))


def _typed_cell(key: str, value: str) -> object:
    """Dates and amounts as real spreadsheet values so Excel can sort and add them."""
    if not value:
        return None
    if key in DATE_COLUMNS:
        return date.fromisoformat(value)
    if key in AMOUNT_COLUMNS:
        return Decimal(value)
    return value


def list_for_export(session: Session) -> list[Project]:
    return list(
        session.scalars(
            select(Project)
            .options(
                selectinload(Project.partners).selectinload(ProjectPartner.organisation),
                selectinload(Project.lead_office),
            )
            .order_by(Project.id)
        )
    )

"""Writing CSV and xlsx files that open right in Excel: the one helper every export uses.

What it guarantees, whatever the data:

- text that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is never read
  as a formula: CSV cells get a leading apostrophe, xlsx cells are typed text with Excel's
  "quote prefix" (the value stays as written, and stays text when someone edits the cell);
- control characters (NUL and the like, which make an xlsx file unreadable) are removed;
- numbers are numbers, written in full (12345678, never 1.23457e+07);
- a CSV starts with a UTF-8 BOM (so Excel reads å, ä and ö) and uses the separator and
  decimal mark of the chosen Excel: Swedish Excel expects ``;`` and a decimal comma, and puts
  a comma-separated file into one column;
- an xlsx sheet has column widths that fit dates and amounts, a frozen header row, a filter
  on the header, and clickable links.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import IO, Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from tracker.i18n import Message, msg

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# What XML 1.0 (and so xlsx) cannot hold, and what no spreadsheet cell should: C0 controls
# other than tab, line feed and carriage return, DEL, and lone surrogates.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv; charset=utf-8"
BOM = "\ufeff"


class Kind(StrEnum):
    """What a column holds, which decides how it is written and how wide it is."""

    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"
    LINK = "link"


_WIDTHS = {Kind.TEXT: 24, Kind.NUMBER: 15, Kind.DATE: 12, Kind.DATETIME: 17, Kind.LINK: 40}
_FORMATS = {Kind.DATE: "yyyy-mm-dd", Kind.DATETIME: "yyyy-mm-dd hh:mm"}


@dataclass(frozen=True)
class Column:
    title: str
    kind: Kind = Kind.TEXT
    width: int | None = None  # characters; by default what the kind needs

    @property
    def display_width(self) -> int:
        return max(self.width or _WIDTHS[self.kind], min(len(self.title) + 2, 40))


@dataclass(frozen=True)
class CsvDialect:
    """The separator and decimal mark an Excel expects."""

    name: str
    delimiter: str
    decimal: str


EXCEL_SV = CsvDialect("semicolon", ";", ",")
EXCEL_EN = CsvDialect("comma", ",", ".")
DIALECTS = {d.name: d for d in (EXCEL_SV, EXCEL_EN)}


@dataclass(frozen=True)
class Link:
    """A clickable cell: ``text`` shown, ``url`` opened (only http and https)."""

    url: str
    text: str | None = None


def csv_dialect(choice: str | None, language: str) -> CsvDialect:
    """The dialect asked for (``semicolon`` or ``comma``), else the one of the user's
    language: Swedish Excel for the Swedish interface, comma-separated for English."""
    if choice in DIALECTS:
        return DIALECTS[choice]
    return EXCEL_SV if language == "sv" else EXCEL_EN


def clean_text(value: str) -> str:
    """``value`` without the control characters a spreadsheet cannot hold."""
    return _CONTROL.sub("", value)


def is_formula_like(value: str) -> bool:
    return value.startswith(FORMULA_START)


def safe_csv_text(value: str) -> str:
    """Text for a CSV cell: cleaned, and with a leading apostrophe when Excel would read it
    as a formula (Excel shows the apostrophe; the text stays inert)."""
    value = clean_text(value)
    return "'" + value if is_formula_like(value) else value


def strip_formula_guard(value: str) -> str:
    """The text a guarded CSV cell stood for (an import reading our own export back)."""
    if value.startswith("'") and is_formula_like(value[1:]):
        return value[1:]
    return value


def plain_number(value: int | float | Decimal, decimal_mark: str = ".") -> str:
    """A number in full positional notation: 12345678, 0.000012, 1234.5 (never exponents)."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    number = Decimal(repr(value)) if isinstance(value, float) else value
    if not number.is_finite():
        return ""
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".") if isinstance(value, float) else text
    return text.replace(".", decimal_mark) if decimal_mark != "." else text


def csv_cell(value: Any, dialect: CsvDialect) -> str:
    if value is None:
        return ""
    if isinstance(value, Link):
        return safe_csv_text(value.url)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        return plain_number(value, dialect.decimal)
    return safe_csv_text(str(value))


def iter_csv(
    columns: Sequence[Column | str], rows: Iterable[Sequence[Any]], dialect: CsvDialect
) -> Iterator[str]:
    """The CSV file in chunks of a few hundred rows, BOM first: for streamed responses."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=dialect.delimiter, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([safe_csv_text(_title(c)) for c in columns])
    for n, row in enumerate(rows):
        writer.writerow([csv_cell(v, dialect) for v in row])
        if n % 200 == 199:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_csv(
    stream: IO[str],
    columns: Sequence[Column | str],
    rows: Iterable[Sequence[Any]],
    dialect: CsvDialect,
) -> None:
    for chunk in iter_csv(columns, rows, dialect):
        stream.write(chunk)


def csv_text(
    columns: Sequence[Column | str], rows: Iterable[Sequence[Any]], dialect: CsvDialect
) -> str:
    return "".join(iter_csv(columns, rows, dialect))


def _title(column: Column | str) -> str:
    return column.title if isinstance(column, Column) else column


def _column(column: Column | str) -> Column:
    return column if isinstance(column, Column) else Column(column)


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: Any, kind: Kind) -> WriteOnlyCell:
    if isinstance(value, Link):
        text = clean_text(value.text if value.text is not None else value.url)
        cell = WriteOnlyCell(sheet, value=text)
        cell.data_type = "s"
        if value.url.lower().startswith(("http://", "https://")):
            cell.hyperlink = clean_text(value.url)
            cell.style = "Hyperlink"
        return cell
    if isinstance(value, str):
        text = clean_text(value)
        cell = WriteOnlyCell(sheet, value=text)
        cell.data_type = "s"  # text, even when it starts with "="
        if is_formula_like(text):
            cell.quotePrefix = True  # and stays text when someone edits the cell
        return cell
    if isinstance(value, float) and not Decimal(repr(value)).is_finite():
        value = None
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, datetime):
        cell.number_format = _FORMATS[Kind.DATETIME]
    elif isinstance(value, date):
        cell.number_format = _FORMATS[Kind.DATE]
    elif isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        # Full digits: amounts with two decimals, whole numbers without.
        cell.number_format = "#,##0" if _is_whole(value) else "#,##0.00##"
    return cell


def _is_whole(value: int | float | Decimal) -> bool:
    return isinstance(value, int) or value == int(value)


def write_xlsx(
    target: IO[bytes] | Any,
    sheet_title: str,
    columns: Sequence[Column | str],
    rows: Iterable[Sequence[Any]],
) -> None:
    """One sheet: a bold frozen header with a filter, widths per column, typed cells, links.
    Written in openpyxl's write-only mode, so memory grows with the file, not the objects."""
    specs = [_column(c) for c in columns]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(clean_text(sheet_title)[:31] or "Sheet")
    for index, spec in enumerate(specs, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = spec.display_width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for spec in specs:
        cell = _xlsx_cell(sheet, spec.title, Kind.TEXT)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in rows:
        sheet.append([_xlsx_cell(sheet, v, s.kind) for v, s in zip(row, specs, strict=False)])
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(max(len(specs), 1))}{count + 1}"
    workbook.save(target)


def xlsx_bytes(
    sheet_title: str, columns: Sequence[Column | str], rows: Iterable[Sequence[Any]]
) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(buffer, sheet_title, columns, rows)
    return buffer.getvalue()


# --- reading uploaded workbooks -----------------------------------------------------------------

# An xlsx file is a zip archive of XML. A 1.5 MB upload can declare 1.5 GB of XML, and
# openpyxl holds every shared string in memory, so the archive's declared sizes are checked
# before any of it is opened (zipfile stops at a member's declared size, so they cannot lie).
MAX_UNCOMPRESSED_BYTES = 48 * 1024 * 1024
# Real workbooks compress their XML 5 to 30 times; a bomb compresses it a thousand times.
MAX_COMPRESSION_RATIO = 100
RATIO_CHECKED_FROM_BYTES = 1024 * 1024
MAX_COLUMNS = 200
MAX_CELL_CHARS = 32_767  # Excel's own limit for a cell


class UnreadableSpreadsheet(ValueError):
    """An upload refused before or while it is read; ``message`` says why in words a user
    can act on (and translates)."""

    def __init__(self, message: Message) -> None:
        super().__init__(message)
        self.message = message


def check_xlsx_archive(data: bytes) -> None:
    """Refuse an xlsx whose archive would expand beyond what a real workbook needs."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnreadableSpreadsheet(
            msg("the file is not an Excel workbook (.xlsx): %(error)s", error=str(exc))
        ) from None
    total = sum(m.file_size for m in members)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise UnreadableSpreadsheet(
            msg(
                "the workbook unpacks to %(size)d MB, more than the %(limit)d MB allowed; "
                "save it again without images or unused sheets, or split it",
                size=total // (1024 * 1024),
                limit=MAX_UNCOMPRESSED_BYTES // (1024 * 1024),
            )
        )
    for member in members:
        if (
            member.file_size > RATIO_CHECKED_FROM_BYTES
            and member.file_size > MAX_COMPRESSION_RATIO * max(member.compress_size, 1)
        ):
            raise UnreadableSpreadsheet(
                msg(
                    "the workbook is packed %(ratio)d times tighter than a real spreadsheet "
                    "(part %(part)s); it was refused as a possible zip bomb",
                    ratio=member.file_size // max(member.compress_size, 1),
                    part=member.filename,
                )
            )


def iter_xlsx_rows(
    data: bytes, *, max_rows: int, max_columns: int = MAX_COLUMNS
) -> Iterator[tuple[int, list[object]]]:
    """The first sheet's rows as (row number, values), read as a stream (openpyxl's
    read-only mode): the archive is checked first, and a sheet with more than ``max_rows``
    rows (blank ones included), more than ``max_columns`` columns used, or a cell longer
    than Excel allows stops the reading with UnreadableSpreadsheet."""
    check_xlsx_archive(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise UnreadableSpreadsheet(
            msg("the file is not an Excel workbook (.xlsx): %(error)s", error=str(exc))
        ) from None
    try:
        if not workbook.worksheets:
            raise UnreadableSpreadsheet(msg("the file is empty"))
        sheet = workbook.worksheets[0]
        # max_col bounds each row: a sheet that claims column XFD is not padded to 16,384.
        rows = sheet.iter_rows(values_only=True, max_col=max_columns + 1)
        for number, row in enumerate(rows, start=1):
            values = list(row)
            if number > max_rows:
                if any(v not in (None, "") for v in values):
                    raise UnreadableSpreadsheet(
                        msg("the file has more than %(count)d rows", count=max_rows - 1)
                    )
                if number > 4 * max_rows:  # a run of blank rows to the end of the sheet
                    break
                continue
            check_row(values, max_columns)
            yield number, values
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        if isinstance(exc, UnreadableSpreadsheet):
            raise
        raise UnreadableSpreadsheet(
            msg("the file is not an Excel workbook (.xlsx): %(error)s", error=str(exc))
        ) from None
    finally:
        workbook.close()


def check_row(values: list[object], max_columns: int = MAX_COLUMNS) -> None:
    """Refuse a row wider than ``max_columns`` or with a cell longer than Excel allows; the
    blank cells beyond ``max_columns`` are dropped."""
    if len(values) > max_columns and any(v not in (None, "") for v in values[max_columns:]):
        raise UnreadableSpreadsheet(
            msg("the file has more than %(count)d columns", count=max_columns)
        )
    for value in values:
        if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
            raise UnreadableSpreadsheet(
                msg("a cell holds more than %(count)d characters", count=MAX_CELL_CHARS)
            )
    del values[max_columns:]


def iter_csv_rows(
    text: str, *, max_rows: int, max_columns: int = MAX_COLUMNS
) -> Iterator[tuple[int, list[object]]]:
    """The rows of CSV ``text`` as (row number, values), with the separator the first line
    uses most (``;``, ``,`` or tab), checked like ``iter_xlsx_rows``."""
    delimiter = csv_delimiter(text)
    for line in text.splitlines():
        # Before parsing: a line of a million separators would be a list of a million cells.
        if line.count(delimiter) > 4 * max_columns:
            raise UnreadableSpreadsheet(
                msg("the file has more than %(count)d columns", count=max_columns)
            )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for number, row in enumerate(reader, start=1):
            values: list[object] = list(row)
            if number > max_rows and any(v for v in row):
                raise UnreadableSpreadsheet(
                    msg("the file has more than %(count)d rows", count=max_rows - 1)
                )
            check_row(values, max_columns)
            yield number, values
    except csv.Error as exc:
        raise UnreadableSpreadsheet(
            msg("the CSV file cannot be read: %(error)s", error=str(exc))
        ) from None


def csv_delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    return max((";", ",", "\t"), key=first_line.count)

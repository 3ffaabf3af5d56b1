"""Hostile and large spreadsheets built on the fly, for the upload tests and
bench/bench_uploads.py: an xlsx "zip bomb" (a small file whose sheet unpacks to hundreds of
megabytes), and project sheets of thousands of rows."""

from __future__ import annotations

import io
import random
import zipfile

from openpyxl import Workbook

from tracker.services.project_sheets import COLUMNS

SHEET = "xl/worksheets/sheet1.xml"
# Rows and cells may leave out their positions ("r"): every row is the same bytes.
_ROW = '<row><c t="inlineStr"><is><t>{text}</t></is></c></row>'


def xlsx_bomb(unpacked_mb: int, *, text: str = "x" * 30_000) -> bytes:
    """A valid xlsx whose first sheet is ``unpacked_mb`` MB of identical rows, packed about
    a thousand times (the deflate limit), so that 1,500 MB arrive as 1.5 MB."""
    template = Workbook()
    sheet = template.active
    assert sheet is not None
    sheet.append(["title", "lead_office"])
    plain = io.BytesIO()
    template.save(plain)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(plain) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb,
    ):
        for item in source.infolist():
            if item.filename != SHEET:
                bomb.writestr(item, source.read(item))
                continue
            with bomb.open(SHEET, "w", force_zip64=True) as part:
                part.write(
                    b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns='
                    b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                )
                chunk = _ROW.format(text=text).encode() * 32
                for _ in range(unpacked_mb * 1024 * 1024 // len(chunk) + 1):
                    part.write(chunk)
                part.write(b"</sheetData></worksheet>")
    return out.getvalue()


OFFICES = ("kultur", "utb", "vof")
PROGRAMMES = ("Creative Europe", "Erasmus+", "CERV", "Interreg Europe", "LIFE")
PARTNERS = ("Riga (LV)", "Linz (AT)", "Tampere (FI)", "Odense (DK)", "Gdańsk (PL)")


def project_rows(count: int, *, seed: int = 7) -> list[list[object]]:
    """``count`` valid project rows in the import's columns (header first)."""
    rng = random.Random(seed)
    rows: list[list[object]] = [list(COLUMNS)]
    for n in range(count):
        total = rng.randrange(100_000, 5_000_000)
        municipal = total // rng.randrange(2, 8)
        grant = municipal * rng.randrange(50, 80) // 100
        rows.append(
            [
                f"Projekt {n} – samverkan för Östergötland",
                f"P{n}",
                rng.choice(PROGRAMMES),
                rng.choice(("lead", "partner", "associated")),
                rng.choice(("submitted", "awarded", "rejected", "running", "closed")),
                rng.choice(OFFICES),
                f"{2015 + n % 11}-0{1 + n % 9}-15",
                "",
                "",
                "",
                rng.choice(("EUR", "SEK")),
                str(total),
                str(municipal),
                str(grant),
                str(municipal - grant),
                "; ".join(rng.sample(PARTNERS, rng.randrange(0, 4))),
            ]
        )
    return rows


def project_xlsx(count: int) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("projects")
    for row in project_rows(count):
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()

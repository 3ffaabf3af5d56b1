"""``tracker projects import|export|list`` and ``tracker report`` against the test database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import sessionmaker

from tests.conftest import TrackerCli
from tests.factories import make_office
from tracker.db import session_scope
from tracker.models import Project

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "projects"


@pytest.fixture()
def offices(engine: Engine, runner: TrackerCli) -> None:
    """Offices committed for the CLI's own connection (the runner empties the tables after)."""
    with session_scope(sessionmaker(bind=engine)) as session:
        make_office(session, slug="kultur")
        make_office(session, slug="utb")


def project_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(Project)) or 0


@pytest.mark.usefixtures("offices")
def test_import_dry_run_then_import_then_list_and_report(
    runner: TrackerCli, engine: Engine
) -> None:
    spreadsheet = str(FIXTURES / "office-spreadsheet.csv")
    result = runner("projects", "import", spreadsheet, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run, nothing written: 3 created, 0 updated, 0 unchanged, 5 new partner(s)" in (
        result.output
    )
    assert "ignored column(s): kommentar" in result.output
    assert project_count(engine) == 0

    result = runner("projects", "import", spreadsheet)
    assert result.exit_code == 0, result.output
    assert "imported 3 row(s): 3 created" in result.output
    assert project_count(engine) == 3

    rows = json.loads(runner("projects", "list", "--json").output)
    assert [r["title"] for r in rows] == [
        "Skolutbyte i Norden",
        "Young voices in Europe",
        "Music bridges across the Baltic",
    ]
    music = rows[2]
    assert music["lead_office"] == "kultur" and music["status"] == "awarded"
    assert music["eu_grant"] == "96000.00" and music["currency"] == "EUR"
    assert [p["name"] for p in music["partners"]] == ["Riga", "Linz"]
    only_kultur = json.loads(runner("projects", "list", "--json", "--office", "kultur").output)
    assert len(only_kultur) == 2

    result = runner("report", "--json", "--year", "2024")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    expected = {
        "applications": 2,
        "decided": 2,
        "awarded": 1,
        "success_rate": 0.5,
        "eu_grant_applied_eur": 132000.0,
        "eu_grant_awarded_eur": 96000.0,
        "own_contribution_awarded_eur": 24000.0,
        "leverage": 4.0,
    }
    assert {key: report[key] for key in expected} == expected
    assert report["by_programme"] == {
        "CERV": report["by_programme"]["CERV"] | {"applications": 1, "awarded": 0},
        "Creative Europe": report["by_programme"]["Creative Europe"]
        | {"applications": 1, "awarded": 1},
    }
    # The SEK project was submitted in 2025: 60 000 SEK own contribution, not yet decided.
    all_years = json.loads(runner("report", "--json").output)
    assert all_years["applications"] == 3 and all_years["awarded"] == 1


@pytest.mark.usefixtures("offices")
def test_a_bad_file_is_refused_with_row_numbers_and_nothing_is_written(
    runner: TrackerCli, engine: Engine, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "title,lead_office,status,submitted_on,programme\n"
        "Fine,kultur,submitted,2025-01-01,CERV\n"
        "Broken,kultur,submitted,2025-02-30,CERV\n",
        encoding="utf-8",
    )
    result = runner("projects", "import", str(bad))
    assert result.exit_code == 1
    assert "row 3, submitted_on: '2025-02-30' is not a date written YYYY-MM-DD" in result.output
    assert "nothing imported: 1 error(s)" in result.output
    assert "Traceback" not in result.output
    assert project_count(engine) == 0
    odd = tmp_path / "projects.ods"
    odd.write_bytes(b"x")
    result = runner("projects", "import", str(odd))
    assert result.exit_code == 1 and "only .csv and .xlsx" in result.output


@pytest.mark.usefixtures("offices")
def test_export_writes_the_import_shape(runner: TrackerCli, tmp_path: Path) -> None:
    assert runner("projects", "import", str(FIXTURES / "office-spreadsheet.csv")).exit_code == 0
    target = tmp_path / "out.xlsx"
    result = runner("projects", "export", str(target))
    assert result.exit_code == 0 and "exported 3 project(s)" in result.output
    sheet = load_workbook(target).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["title", "acronym", "programme"] and header[-2:] == [
        "partners",
        "focus_areas",
    ]
    csv_target = tmp_path / "out.csv"
    assert runner("projects", "export", str(csv_target)).exit_code == 0
    again = runner("projects", "import", str(csv_target), "--dry-run")
    assert "0 created, 0 updated, 3 unchanged" in again.output


def test_report_writes_a_table_file_and_refuses_other_formats(
    runner: TrackerCli, tmp_path: Path
) -> None:
    target = tmp_path / "report.csv"
    result = runner("report", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert "applications" in result.output
    # A BOM first, so that Excel reads the file as UTF-8.
    assert target.read_text(encoding="utf-8").startswith("\ufeffsection,key,metric,value\n")
    assert runner("report", "--output", str(tmp_path / "r.pdf")).exit_code == 1

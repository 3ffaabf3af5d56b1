"""Moving a spreadsheet into the tracker: any column order, extra columns reported, errors
with row numbers, all rows or none, dry runs, updates, and an export that reads back."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories import NOW, make_office, make_profile, make_user
from tests.factories.projects import make_organisation
from tracker.models import (
    AuditEvent,
    Currency,
    Organisation,
    OrganisationKind,
    Project,
    ProjectRole,
    ProjectStatus,
)
from tracker.services.project_import import (
    COLUMNS,
    ImportFileError,
    export_projects,
    import_projects,
    list_for_export,
    parse_code,
    read_table,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "projects"


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def count(session: Session, model: type[Project] | type[Organisation]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture()
def offices(session: Session) -> None:
    make_office(session, slug="kultur", name_sv="Kultur- och fritidskontoret")
    make_office(session, slug="utb", name_sv="Utbildningskontoret")


@pytest.mark.usefixtures("offices")
def test_an_office_spreadsheet_is_imported_with_its_partners(session: Session) -> None:
    editor = make_user(session)
    make_organisation(session, name="Riga", country_code="LV", kind=OrganisationKind.MUNICIPALITY)
    table = read_table((FIXTURES / "office-spreadsheet.csv").read_bytes(), "projekt.csv")
    result = import_projects(session, table, actor=editor, now=NOW)
    assert result.errors == []
    assert result.extra_columns == ["kommentar"]
    assert result.missing_columns == ["focus_areas"]
    assert result.created == [
        "Music bridges across the Baltic",
        "Young voices in Europe",
        "Skolutbyte i Norden",
    ]
    # Riga was registered already; the four others are new.
    assert sorted(result.new_partners) == [
        "Esslingen am Neckar (DE)",
        "Linz (AT)",
        "Odense (DK)",
        "Tampere (FI)",
    ]
    music = session.scalars(select(Project).where(Project.acronym == "MUSBRIDGE")).one()
    assert music.status is ProjectStatus.AWARDED and music.role is ProjectRole.LEAD
    assert music.lead_office.slug == "kultur"
    assert (music.submitted_on, music.end_on) == (date(2024, 2, 1), date(2026, 8, 31))
    assert music.eu_grant == Decimal("96000.00")
    assert music.own_contribution_cash == Decimal("24000.00")
    assert [p.organisation.label for p in music.partners] == ["Riga (LV)", "Linz (AT)"]
    school = session.scalars(select(Project).where(Project.title == "Skolutbyte i Norden")).one()
    assert school.currency is Currency.SEK and school.eu_grant is None
    assert school.acronym is None
    imported = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "project.created")
    ).all()
    assert len(imported) == 3
    assert all(e.details["source"] == "import" and e.actor_id == editor.id for e in imported)


@pytest.mark.usefixtures("offices")
def test_one_bad_row_stops_the_whole_import_and_every_error_has_its_row(
    session: Session,
) -> None:
    before = (count(session, Project), count(session, Organisation))
    table = read_table(
        csv_bytes(
            "title,lead_office,status,submitted_on,programme,currency,eu_grant,partners",
            "Good one,kultur,submitted,2025-01-10,Erasmus+,EUR,1000,Riga (LV)",
            "Bad date,kultur,submitted,10/01/2025,Erasmus+,EUR,1000,",
            "Bad status,utb,won,2025-01-10,Erasmus+,EUR,1000,",
            ",utb,idea,,,,,",
            "Bad amount,nowhere,idea,,,EUR,1 000,",
            "No country,utb,idea,,,,,Riga",
            "No currency,utb,idea,,,,500,",
            "No date,utb,awarded,,Erasmus+,EUR,,",
        ),
        "projects.csv",
    )
    result = import_projects(session, table, actor=None, now=NOW)
    assert not result.ok and not result.written
    assert [(e.row, e.column) for e in result.errors] == [
        (3, "submitted_on"),
        (4, "status"),
        (5, "title"),
        (6, "lead_office"),
        (6, "eu_grant"),
        (7, "partners"),
        (8, "currency"),
        (9, "submitted_on"),
    ]
    messages = [str(e) for e in result.errors]
    assert messages[0] == "row 3, submitted_on: '10/01/2025' is not a date written YYYY-MM-DD"
    assert "'won' is not one of: idea, preparing, submitted" in messages[1]
    assert "no office 'nowhere'" in messages[3]
    assert "'1 000' is not a plain number" in messages[4]
    assert "'Riga' lacks its country" in messages[5]
    assert (count(session, Project), count(session, Organisation)) == before


@pytest.mark.usefixtures("offices")
def test_a_dry_run_reports_without_writing(session: Session) -> None:
    table = read_table(
        csv_bytes("title,lead_office,partners", "Only checked,utb,Linz (AT)"), "p.csv"
    )
    result = import_projects(session, table, actor=None, now=NOW, dry_run=True)
    assert result.ok and not result.written
    assert result.created == ["Only checked"] and result.new_partners == ["Linz (AT)"]
    assert result.missing_columns == [
        c for c in COLUMNS if c not in ("title", "lead_office", "partners")
    ]
    assert count(session, Project) == 0 and count(session, Organisation) == 0


@pytest.mark.usefixtures("offices")
def test_a_row_matching_a_project_updates_only_the_columns_in_the_file(session: Session) -> None:
    first = read_table(
        csv_bytes(
            "title,lead_office,status,submitted_on,programme,currency,eu_grant,partners",
            "Music bridges,kultur,submitted,2025-01-10,Creative Europe,EUR,5000,Riga (LV)",
        ),
        "a.csv",
    )
    assert import_projects(session, first, actor=None, now=NOW).created == ["Music bridges"]
    project = session.scalars(select(Project)).one()
    project.registry_number = "KFN 2025/17"  # not a column of the file: must survive
    session.flush()
    second = read_table(
        csv_bytes(
            "Title,Lead Office,Status,Partners,Eu_grant,currency",
            "MUSIC BRIDGES,kultur,awarded,Linz (AT),4500,EUR",
            "Other project,kultur,idea,,,",
        ),
        "b.csv",
    )
    result = import_projects(session, second, actor=None, now=NOW)
    assert result.ok
    assert result.updated == ["MUSIC BRIDGES"] and result.created == ["Other project"]
    session.refresh(project)
    assert project.status is ProjectStatus.AWARDED
    assert project.eu_grant == Decimal("4500.00")
    assert project.registry_number == "KFN 2025/17"
    assert project.programme == "Creative Europe"
    # Partners in the file are added; none are removed.
    assert sorted(p.organisation.label for p in project.partners) == ["Linz (AT)", "Riga (LV)"]
    update = session.scalars(select(AuditEvent).where(AuditEvent.action == "project.updated")).one()
    assert update.details["changes"]["status"] == ["submitted", "awarded"]
    again = import_projects(session, second, actor=None, now=NOW, dry_run=True)
    assert again.unchanged == ["MUSIC BRIDGES", "Other project"]


@pytest.mark.usefixtures("offices")
def test_the_same_project_twice_in_a_file_is_an_error(session: Session) -> None:
    table = read_table(
        csv_bytes("title,lead_office", "Twice,kultur", "twice,kultur", "Twice,utb"), "t.csv"
    )
    result = import_projects(session, table, actor=None, now=NOW)
    assert [(e.row, str(e.message)) for e in result.errors] == [(3, "the same project as row 2")]


@pytest.mark.usefixtures("offices")
def test_an_xlsx_with_typed_cells_is_read(session: Session) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(
        [
            "lead_office",
            "title",
            "submitted_on",
            "status",
            "programme",
            "currency",
            "total_budget",
            "eu_grant",
            "own_contribution",
        ]
    )
    sheet.append(
        [
            "utb",
            "Excel project",
            date(2025, 4, 1),
            "submitted",
            "Erasmus+",
            "SEK",
            1_200_000,
            480000.5,
            120000.10000000001,
        ]
    )
    sheet.append([None] * 9)  # blank rows are skipped
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = import_projects(
        session, read_table(buffer.getvalue(), "projects.xlsx"), actor=None, now=NOW
    )
    assert result.errors == []
    project = session.scalars(select(Project)).one()
    assert project.submitted_on == date(2025, 4, 1)
    assert project.total_budget == Decimal("1200000.00")
    assert project.eu_grant == Decimal("480000.50")
    assert project.own_contribution_cash == Decimal("120000.10")


def test_files_that_cannot_be_read_say_why() -> None:
    with pytest.raises(ImportFileError, match=r"only \.csv and \.xlsx"):
        read_table(b"x", "projects.ods")
    with pytest.raises(ImportFileError, match="not an Excel workbook"):
        read_table(b"not a zip", "projects.xlsx")
    with pytest.raises(ImportFileError, match="empty"):
        read_table(b"\n\n", "projects.csv")
    with pytest.raises(ImportFileError, match="appears twice"):
        read_table(csv_bytes("title,title,lead_office"), "projects.csv")


@pytest.mark.usefixtures("offices")
def test_a_header_without_title_or_office_is_refused(session: Session) -> None:
    table = read_table(csv_bytes("name,office", "x,kultur"), "p.csv")
    with pytest.raises(ImportFileError, match="title, lead_office"):
        import_projects(session, table, actor=None, now=NOW)


@pytest.mark.usefixtures("offices")
@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_an_export_reads_back_unchanged(session: Session, extension: str) -> None:
    table = read_table((FIXTURES / "office-spreadsheet.csv").read_bytes(), "projekt.csv")
    assert import_projects(session, table, actor=None, now=NOW).ok
    exported = export_projects(list_for_export(session), f"projects.{extension}")
    back = read_table(exported, f"projects.{extension}")
    assert back.header == list(COLUMNS)
    result = import_projects(session, back, actor=None, now=NOW, dry_run=True)
    assert result.errors == [] and result.created == [] and result.updated == []
    assert len(result.unchanged) == 3
    if extension == "csv":
        text = exported.decode("utf-8")
        assert "Music bridges across the Baltic,MUSBRIDGE,Creative Europe,lead,awarded" in text
        assert "Riga (LV); Linz (AT)" in text
        assert ",24000.00," in text


@pytest.mark.usefixtures("offices")
def test_titles_and_partners_match_whatever_the_case_of_swedish_letters(session: Session) -> None:
    first = read_table(
        csv_bytes("title,lead_office,partners", "Ökad delaktighet,utb,Föreningen Ärlig (SE)"),
        "a.csv",
    )
    assert import_projects(session, first, actor=None, now=NOW).created == ["Ökad delaktighet"]
    second = read_table(
        csv_bytes("title,lead_office,partners", "ÖKAD DELAKTIGHET,utb,FÖRENINGEN ÄRLIG (SE)"),
        "b.csv",
    )
    result = import_projects(session, second, actor=None, now=NOW)
    # The same project (its title now spelt as in the file) and the same partner.
    assert result.updated == ["ÖKAD DELAKTIGHET"] and result.new_partners == []
    assert count(session, Project) == 1 and count(session, Organisation) == 1
    assert session.scalars(select(Project.title)).one() == "ÖKAD DELAKTIGHET"


@pytest.mark.usefixtures("offices")
def test_status_and_role_may_be_written_in_swedish_or_english(session: Session) -> None:
    assert parse_code("Beviljad", ProjectStatus) is ProjectStatus.AWARDED
    assert parse_code("pågående", ProjectStatus) is ProjectStatus.RUNNING
    assert parse_code("awarded", ProjectStatus) is ProjectStatus.AWARDED
    table = read_table(
        csv_bytes(
            "title,lead_office,status,role",
            "Musik i vänorterna,kultur,idé,koordinator",
            "Bussar,kultur,Förbereds,partner",
            "Skolor,utb,preparing,lead",
            "Fel,utb,kanske,partner",
        ),
        "projekt.csv",
    )
    result = import_projects(session, table, actor=make_user(session), now=NOW)
    assert [(e.row, e.column) for e in result.errors] == [(5, "status")]
    assert "beviljad" in str(result.errors[0].message)  # the Swedish words are named
    fixed = read_table(
        csv_bytes(
            "title,lead_office,status,role",
            "Musik i vänorterna,kultur,idé,koordinator",
            "Bussar,kultur,Förbereds,partner",
            "Skolor,utb,preparing,lead",
        ),
        "projekt.csv",
    )
    assert import_projects(session, fixed, actor=make_user(session), now=NOW).errors == []
    statuses = {p.title: (p.status, p.role) for p in session.scalars(select(Project))}
    assert statuses == {
        "Musik i vänorterna": (ProjectStatus.IDEA, ProjectRole.LEAD),
        "Bussar": (ProjectStatus.PREPARING, ProjectRole.PARTNER),
        "Skolor": (ProjectStatus.PREPARING, ProjectRole.LEAD),
    }


@pytest.mark.usefixtures("offices")
def test_a_focus_area_column_takes_names_or_short_names(session: Session) -> None:
    make_profile(session, ("culture-music", "education"))
    table = read_table(
        csv_bytes(
            "title,lead_office,focus_areas",
            'Musik,kultur,"Education and learning; CULTURE-MUSIC"',
            "Fel,utb,space",
        ),
        "projekt.csv",
    )
    result = import_projects(session, table, actor=make_user(session), now=NOW)
    assert [(e.row, e.column) for e in result.errors] == [(3, "focus_areas")]
    good = read_table(
        csv_bytes("title,lead_office,focus_areas", "Musik,kultur,Utbildning och lärande"), "p.csv"
    )
    assert import_projects(session, good, actor=make_user(session), now=NOW).errors == []
    music = session.scalars(select(Project).where(Project.title == "Musik")).one()
    assert music.focus_areas == ["education"]

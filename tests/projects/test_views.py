"""The pages: who may read and change what, forms that keep what was typed, the financing plan
as an officer sees it, spreadsheets in and out, and the report with its charts."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories import NOW, login, make_office, make_user
from tests.factories.projects import (
    add_partner,
    make_delegation,
    make_funder,
    make_line,
    make_organisation,
    make_project,
)
from tracker.models import (
    AuditEvent,
    Delegation,
    Funder,
    FunderKind,
    LineStatus,
    Office,
    Organisation,
    OrganisationKind,
    Project,
    ProjectStatus,
    Role,
    SisterCityRelation,
)
from tracker.services.organisations import set_membership, set_sister_city


@pytest.fixture()
def office(session: Session) -> Office:
    return make_office(
        session, slug="kultur", name_sv="Kultur- och fritidskontoret", name_en="Culture and leisure"
    )


@pytest.fixture()
def project(session: Session, office: Office) -> Project:
    return make_project(session, office, title="Music bridges", municipality_budget=Decimal("1000"))


def html_of(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


READ_PAGES = (
    "/projects/",
    "/projects/{project}",
    "/organisations/",
    "/organisations/{organisation}",
    "/funders/",
    "/delegations/",
    "/reports/",
    "/reports/report.json",
    "/reports/report.csv",
    "/reports/report.xlsx",
    "/projects/export.csv",
    "/projects/export.xlsx",
)
EDITOR_PAGES = (
    "/projects/new",
    "/projects/{project}/edit",
    "/projects/import",
    "/organisations/new",
    "/organisations/{organisation}/edit",
    "/delegations/new",
)
ADMIN_PAGES = ("/funders/new", "/funders/{funder}/edit")


@pytest.mark.parametrize(
    ("role", "reads", "edits", "administers"),
    [
        (Role.VIEWER, 200, 403, 403),
        (Role.EDITOR, 200, 200, 403),
        (Role.ADMIN, 200, 200, 200),
    ],
)
def test_viewers_read_editors_edit_and_admins_manage_funders(
    client: FlaskClient,
    session: Session,
    project: Project,
    role: Role,
    reads: int,
    edits: int,
    administers: int,
) -> None:
    ids = {
        "project": project.id,
        "organisation": make_organisation(session).id,
        "funder": make_funder(session).id,
    }
    login(client, make_user(session, role=role))
    for pages, status in ((READ_PAGES, reads), (EDITOR_PAGES, edits), (ADMIN_PAGES, administers)):
        for page in pages:
            assert client.get(page.format(**ids)).status_code == status, page


def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient, project: Project) -> None:
    for page in ("/projects/", f"/projects/{project.id}", "/reports/report.json"):
        response = client.get(page)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_viewer_cannot_change_anything(
    client: FlaskClient, session: Session, project: Project, csrf: str
) -> None:
    login(client, make_user(session, role=Role.VIEWER))
    posts = {
        "/projects/new": {"title": "x"},
        f"/projects/{project.id}/edit": {"title": "x"},
        f"/projects/{project.id}/lines": {"amount": "1"},
        f"/projects/{project.id}/partners": {"organisation_id": "1"},
        f"/projects/{project.id}/delete": {},
        "/delegations/new": {"origin": "x"},
        "/funders/new": {"name": "x"},
    }
    for path, form in posts.items():
        assert client.post(path, data={**form, "csrf_token": csrf}).status_code == 403, path
    assert session.scalar(select(func.count()).select_from(Project)) == 1


def test_posts_without_the_csrf_token_are_rejected(
    client: FlaskClient, session: Session, office: Office
) -> None:
    login(client, make_user(session, role=Role.ADMIN))
    form = {
        "title": "Forged",
        "status": "idea",
        "role": "partner",
        "currency": "EUR",
        "lead_office": "kultur",
    }
    assert client.post("/projects/new", data=form).status_code == 400
    assert client.post("/projects/new", data={**form, "csrf_token": "wrong"}).status_code == 400
    assert (
        client.post("/funders/new", data={"name": "Forged", "kind": "private"}).status_code == 400
    )
    assert session.scalar(select(func.count()).select_from(Project)) == 0
    assert session.scalar(select(func.count()).select_from(Funder)) == 0


def test_an_editor_adds_a_project_and_a_form_error_keeps_what_was_typed(
    client: FlaskClient, session: Session, office: Office, csrf: str
) -> None:
    editor = make_user(session, role=Role.EDITOR, language="en", office=office)
    login(client, editor)
    form = {
        "csrf_token": csrf,
        "title": "Music bridges",
        "acronym": "MUSBRIDGE",
        "programme": "",
        "status": "submitted",
        "role": "lead",
        "currency": "EUR",
        "lead_office": "kultur",
        "submitted_on": "2026-01-15",
        "municipality_budget": "120 000,50",
        "outcome": "Waiting for the agency",
    }
    response = client.post("/projects/new", data=form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'value="Music bridges"' in html and 'value="MUSBRIDGE"' in html
    assert 'value="120 000,50"' in html and "Waiting for the agency" in html
    assert "needs its programme" in html
    assert 'aria-invalid="true" aria-describedby="e-programme"' in html
    response = client.post("/projects/new", data={**form, "programme": "Creative Europe"})
    assert response.status_code == 302
    project = session.scalars(select(Project)).one()
    assert response.headers["Location"].endswith(f"/projects/{project.id}")
    assert project.municipality_budget == Decimal("120000.50")
    assert project.lead_office_id == office.id
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "project.created")).one()
    assert event.actor_id == editor.id


def test_editing_a_project_shows_its_history(
    client: FlaskClient, session: Session, project: Project, csrf: str
) -> None:
    login(client, make_user(session, role=Role.EDITOR, language="en", display_name="Eva Ek"))
    edit = html_of(client, f"/projects/{project.id}/edit")
    assert 'value="Music bridges"' in edit and 'value="2025-03-01"' in edit
    form = dict(re.findall(r'<input id="f-(\w+)" name="\w+" type="[a-z]+" value="([^"]*)"', edit))
    form.update(
        csrf_token=csrf,
        status="awarded",
        role="partner",
        currency="EUR",
        lead_office="kultur",
        decision_on="2025-06-30",
    )
    response = client.post(f"/projects/{project.id}/edit", data=form)
    assert response.status_code == 302
    session.refresh(project)
    assert project.status is ProjectStatus.AWARDED and project.decision_on == date(2025, 6, 30)
    page = html_of(client, f"/projects/{project.id}")
    assert "Project changed" in page and "Eva Ek" in page
    assert "submitted → awarded" in page


def test_the_plan_shows_coverage_breaches_and_warnings(
    client: FlaskClient, session: Session, project: Project
) -> None:
    savings = make_funder(
        session, name="Sparbanksstiftelsen Test", excludes_ordinary_municipal_tasks=True
    )
    project.covers_ordinary_municipal_tasks = True
    make_line(session, project, savings, "400", status=LineStatus.ASKED)
    login(client, make_user(session, role=Role.VIEWER, language="en"))
    html = html_of(client, f"/projects/{project.id}")
    assert "Sparbanksstiftelsen Test does not fund ordinary municipal tasks" in html
    # 400 of 1 000: 600 missing, written the reader's way.
    covered = "the own contribution and the lines cover 400 of the municipality&#39;s budget"
    assert f"The EU grant, {covered} of 1,000 EUR" in html
    assert "600 EUR is missing" in html
    assert "Breaks a funder's rule (see above)" in html


def test_an_editor_adds_a_line_and_a_partner_and_bad_lines_keep_their_values(
    client: FlaskClient, session: Session, project: Project, csrf: str
) -> None:
    funder = make_funder(session, name="Region Östergötland", kind=FunderKind.REGION)
    riga = make_organisation(session, name="Riga", country_code="LV")
    login(client, make_user(session, role=Role.EDITOR, language="en"))
    response = client.post(
        f"/projects/{project.id}/partners",
        data={"csrf_token": csrf, "organisation_id": str(riga.id), "role": "lead"},
    )
    assert response.status_code == 302
    line = {
        "csrf_token": csrf,
        "funder_id": str(funder.id),
        "amount": "abc",
        "currency": "SEK",
        "contribution": "cash",
        "status": "asked",
        "decision_body": "Regionala utvecklingsnämnden",
        "meeting_on": "2026-02-10",
        "applicant_id": str(riga.id),
    }
    response = client.post(f"/projects/{project.id}/lines", data=line)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'value="abc"' in html and 'value="Regionala utvecklingsnämnden"' in html
    assert "is not a plain number" in html
    response = client.post(f"/projects/{project.id}/lines", data={**line, "amount": "11500"})
    assert response.status_code == 302
    session.refresh(project)
    assert [(ln.amount, ln.currency.value, ln.applicant_id) for ln in project.lines] == [
        (Decimal("11500.00"), "SEK", riga.id)
    ]
    edit = f"/projects/{project.id}/lines/{project.lines[0].id}/edit"
    assert 'value="Regionala utvecklingsnämnden"' in html_of(client, edit)
    response = client.post(edit, data={**line, "amount": "11500", "status": "decided"})
    assert response.status_code == 302
    session.refresh(project.lines[0])
    assert project.lines[0].status is LineStatus.DECIDED


def test_only_an_admin_deletes_a_project(
    client: FlaskClient, session: Session, project: Project, csrf: str
) -> None:
    login(client, make_user(session, role=Role.EDITOR))
    assert (
        client.post(f"/projects/{project.id}/delete", data={"csrf_token": csrf}).status_code == 403
    )
    login(client, make_user(session, role=Role.ADMIN))
    assert (
        client.post(f"/projects/{project.id}/delete", data={"csrf_token": csrf}).status_code == 302
    )
    assert session.scalar(select(func.count()).select_from(Project)) == 0


def test_an_admin_manages_funders_and_their_rules(
    client: FlaskClient, session: Session, csrf: str
) -> None:
    login(client, make_user(session, role=Role.ADMIN, language="en"))
    form = {
        "csrf_token": csrf,
        "name": "Stiftelsen Test",
        "kind": "foundation",
        "programmes": "Projektbidrag\nProjektbidrag\nResebidrag",
        "typical_max_rate": "50",
        "requires_civil_society_partner": "1",
        "rules_text": "Ideella föreningar söker.",
        "url": "ftp://nope",
        "is_active": "1",
    }
    response = client.post("/funders/new", data=form)
    assert response.status_code == 422
    assert 'value="Stiftelsen Test"' in response.get_data(as_text=True)
    response = client.post("/funders/new", data={**form, "url": "https://stiftelsen.example"})
    assert response.status_code == 302
    funder = session.scalars(select(Funder)).one()
    assert funder.programmes == ["Projektbidrag", "Resebidrag"]
    assert funder.requires_civil_society_partner and not funder.municipalities_may_apply
    assert funder.typical_max_rate == Decimal("50.00")
    page = html_of(client, "/funders/")
    assert "A civil-society partner is required" in page and "Municipalities may not apply" in page
    response = client.post(
        f"/funders/{funder.id}/edit",
        data={**form, "url": "", "municipalities_may_apply": "1", "is_active": ""},
    )
    assert response.status_code == 302
    session.refresh(funder)
    assert funder.municipalities_may_apply and not funder.is_active


def test_partners_page_lists_networks_and_sister_cities(
    client: FlaskClient, session: Session, csrf: str
) -> None:
    network = make_organisation(
        session, name="EUniverCities", kind=OrganisationKind.NETWORK, country_code=None
    )
    set_membership(
        session,
        network,
        since_year=2012,
        focus_areas=["knowledge-city"],
        description="With Linköping University",
        actor=None,
        now=NOW,
    )
    riga = make_organisation(session, name="Riga", country_code="LV")
    set_sister_city(session, riga, relation=SisterCityRelation.TWIN_TOWN, actor=None, now=NOW)
    login(client, make_user(session, role=Role.EDITOR, language="en"))
    page = html_of(client, "/organisations/")
    assert "EUniverCities" in page and "2012" in page and "With Linköping University" in page
    assert "Riga" in page and "Latvia" in page and "Twin town" in page
    response = client.post(
        "/organisations/new",
        data={"csrf_token": csrf, "name": "Riga", "kind": "municipality", "country_code": "lv"},
    )
    assert response.status_code == 422
    assert "already registered" in response.get_data(as_text=True)
    response = client.post(
        "/organisations/new",
        data={
            "csrf_token": csrf,
            "name": "Föreningen Musik",
            "kind": "ngo",
            "country_code": "se",
            "city": "Norrköping",
        },
    )
    assert response.status_code == 302
    created = session.scalars(
        select(Organisation).where(Organisation.name == "Föreningen Musik")
    ).one()
    assert created.country_code == "SE" and created.kind is OrganisationKind.NGO
    response = client.post(
        f"/organisations/{network.id}/edit",
        data={
            "csrf_token": csrf,
            "name": "EUniverCities",
            "kind": "network",
            "is_member": "1",
            "since_year": "2012",
            "ended_year": "2020",
        },
    )
    assert response.status_code == 302
    session.refresh(network)
    assert network.membership is not None and network.membership.ended_year == 2020


def test_delegations_are_logged_and_counted_per_year(
    client: FlaskClient, session: Session, office: Office, csrf: str
) -> None:
    make_delegation(session, date(2024, 5, 1))
    login(client, make_user(session, role=Role.EDITOR, language="en"))
    form = {
        "csrf_token": csrf,
        "visited_on": "2025-09-12",
        "kind": "visit",
        "origin": "",
        "country_code": "CN",
        "topic": "Music education",
        "host_office_id": str(office.id),
    }
    response = client.post("/delegations/new", data=form)
    assert response.status_code == 422
    assert 'value="2025-09-12"' in response.get_data(as_text=True)
    response = client.post("/delegations/new", data={**form, "origin": "Xuzhou"})
    assert response.status_code == 302
    delegation = session.scalars(select(Delegation).where(Delegation.origin == "Xuzhou")).one()
    assert delegation.country_code == "CN" and delegation.host_office_id == office.id
    page = html_of(client, "/delegations/")
    assert "Xuzhou" in page and "China" in page and "Culture and leisure" in page
    assert re.search(r">2024</a></th><td class=\"num\">1</td><td class=\"num\">0</td>", page)
    assert re.search(r">2025</a></th><td class=\"num\">0</td><td class=\"num\">1</td>", page)


def test_the_report_page_has_accessible_charts_tables_and_the_same_figures_as_json(
    client: FlaskClient, session: Session, office: Office
) -> None:
    make_project(
        session,
        office,
        programme="Creative Europe",
        status=ProjectStatus.AWARDED,
        eu_grant=Decimal("80000"),
        own_contribution_cash=Decimal("20000"),
        submitted_on=date(2025, 2, 1),
    )
    make_project(
        session,
        office,
        programme="Creative Europe",
        status=ProjectStatus.REJECTED,
        eu_grant=Decimal("50000"),
        submitted_on=date(2025, 5, 1),
    )
    make_project(
        session,
        office,
        programme="CERV",
        status=ProjectStatus.SUBMITTED,
        eu_grant=Decimal("10000"),
        submitted_on=date(2024, 5, 1),
    )
    login(client, make_user(session, role=Role.VIEWER, language="en"))
    page = html_of(client, "/reports/?year=2025")
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"') == 6
    assert '<title id="chart-programmes-title">Success rate per programme</title>' in page
    assert 'aria-labelledby="chart-programmes-title chart-programmes-desc"' in page
    assert "<caption>Success rate per programme</caption>" in page
    assert "CERV" not in page  # submitted in 2024
    assert "50.0\u00a0%" in page  # one of two decided Creative Europe applications won
    data = client.get("/reports/report.json?year=2025").get_json()
    assert (data["applications"], data["awarded"], data["success_rate"]) == (2, 1, 0.5)
    assert data["eu_grant_applied_eur"] == 130000.0 and data["leverage"] == 4.0
    assert data["by_programme"]["Creative Europe"]["applications"] == 2
    assert client.get("/reports/report.json").get_json()["applications"] == 3
    response = client.get("/reports/report.csv?year=2025")
    assert (
        response.headers["Content-Disposition"] == 'attachment; filename="tracker-report-2025.csv"'
    )
    # Commas for the English interface; Swedish Excel's semicolons and decimal commas asked.
    assert "total,,eu_grant_awarded_eur,80000\r\n" in response.get_data(as_text=True)
    assert "total,,success_rate,0.5\r\n" in response.get_data(as_text=True)
    swedish = client.get("/reports/report.csv?year=2025&separator=semicolon").get_data(as_text=True)
    assert "total;;success_rate;0,5\r\n" in swedish
    sheet = load_workbook(io.BytesIO(client.get("/reports/report.xlsx").data)).active
    assert sheet is not None and sheet["A1"].value == "section"


def test_an_office_imports_a_spreadsheet_through_the_browser(
    client: FlaskClient, session: Session, office: Office, csrf: str
) -> None:
    login(client, make_user(session, role=Role.EDITOR, language="en"))
    good = b"title,lead_office,status,kommentar\nFrom the web,kultur,idea,x\n"
    bad = b"title,lead_office,status\nFrom the web,kultur,won\n"
    response = client.post(
        "/projects/import",
        data={"csrf_token": csrf, "file": (io.BytesIO(bad), "p.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Nothing was imported" in html and "<td>2</td><td>status</td>" in html
    response = client.post(
        "/projects/import",
        data={"csrf_token": csrf, "dry_run": "1", "file": (io.BytesIO(good), "p.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Ignored columns: kommentar" in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Project)) == 0
    response = client.post(
        "/projects/import",
        data={"csrf_token": csrf, "file": (io.BytesIO(good), "p.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert session.scalars(select(Project.title)).all() == ["From the web"]
    export = client.get("/projects/export.csv")
    assert export.headers["Content-Type"].startswith("text/csv")
    assert "From the web,,,partner,idea,kultur" in export.get_data(as_text=True)


def test_pages_speak_swedish_by_default(
    client: FlaskClient, session: Session, project: Project
) -> None:
    add_partner(session, project, make_organisation(session, name="Riga", country_code="LV"))
    login(client, make_user(session, role=Role.VIEWER))
    page = html_of(client, f"/projects/{project.id}")
    assert "Medfinansieringsplan" in page and "Lettland" in page and "Inlämnad" in page
    assert "Projekt" in html_of(client, "/projects/")
    assert "Rapporter" in html_of(client, "/reports/")


def test_a_checked_file_is_imported_with_one_button(
    client: FlaskClient, session: Session, office: Office, csrf: str
) -> None:
    login(client, make_user(session, role=Role.EDITOR, language="en"))
    page = client.get("/projects/import").get_data(as_text=True)
    assert 'name="dry_run" value="1">' in page  # "check only" is not ticked
    good = b"title,lead_office,status\nChecked first,kultur,id\xc3\xa9\n"
    response = client.post(
        "/projects/import",
        data={"csrf_token": csrf, "dry_run": "1", "file": (io.BytesIO(good), "p.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Import now" in html
    token = re.search(r'name="token" value="([^"]+)"', html)
    assert token is not None
    assert session.scalar(select(func.count()).select_from(Project)) == 0
    # The same user imports it without choosing the file again.
    response = client.post(
        "/projects/import",
        data={"csrf_token": csrf, "token": token[1]},
        follow_redirects=True,
    )
    assert response.status_code == 200 and "Imported" in response.get_data(as_text=True)
    assert session.scalars(select(Project.title)).all() == ["Checked first"]
    again = client.post(
        "/projects/import",
        data={"csrf_token": csrf, "token": token[1]},
        follow_redirects=True,
    )
    assert again.status_code == 422  # used once
    assert session.scalar(select(func.count()).select_from(Project)) == 1

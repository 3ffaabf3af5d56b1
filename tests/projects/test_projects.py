"""Projects: the rules a project must follow, its partners, and the audit of every change."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import NOW, make_call, make_office, make_profile, make_user
from tests.factories.projects import make_funder, make_line, make_organisation
from tracker.errors import NotFound, ValidationFailed
from tracker.models import AuditEvent, ProjectRole, ProjectStatus
from tracker.services.projects import (
    Document,
    ProjectData,
    add_partner,
    check_project,
    create_project,
    delete_project,
    get_project,
    list_projects,
    parse_documents,
    project_as_dict,
    read_project_form,
    remove_partner,
    update_project,
)


def test_a_submitted_project_needs_its_date_and_programme(session: Session) -> None:
    office = make_office(session)
    data = ProjectData(title="Music bridges", lead_office_id=office.id)
    assert check_project(session, data) == {}  # an idea needs little
    submitted = dataclasses.replace(data, status=ProjectStatus.SUBMITTED)
    assert set(check_project(session, submitted)) == {"submitted_on", "programme"}
    # Withdrawn before submission is allowed without a date.
    withdrawn = dataclasses.replace(data, status=ProjectStatus.WITHDRAWN)
    assert check_project(session, withdrawn) == {}


def test_dates_and_amounts_must_be_consistent(session: Session) -> None:
    office = make_office(session)
    data = ProjectData(
        title="x",
        lead_office_id=office.id,
        submitted_on=date(2025, 5, 1),
        decision_on=date(2025, 4, 1),
        start_on=date(2025, 9, 1),
        end_on=date(2025, 8, 31),
        total_budget=Decimal("100"),
        municipality_budget=Decimal("200"),
        eu_grant=Decimal("300"),
        own_contribution_cash=Decimal("150"),
        own_contribution_in_kind=Decimal("100"),
    )
    errors = check_project(session, data)
    assert set(errors) == {
        "decision_on",
        "end_on",
        "municipality_budget",
        "eu_grant",
        "own_contribution_cash",
    }
    assert "cannot exceed the total budget" in errors["municipality_budget"]


def test_focus_areas_come_from_the_active_strategy_profile(session: Session) -> None:
    office = make_office(session)
    data = ProjectData(title="x", lead_office_id=office.id, focus_areas=("culture-music", "sport"))
    # Without a profile any well-formed slug is kept.
    assert check_project(session, data) == {}
    make_profile(session, ("culture-music", "education"))
    errors = check_project(session, data)
    assert errors == {"focus_areas": "unknown focus area: sport"}


def test_the_form_reads_swedish_amounts_links_and_the_call(session: Session) -> None:
    office = make_office(session, slug="kultur")
    call = make_call(session, identifier="CREA-CULT-2026-COOP")
    data = read_project_form(
        session,
        {
            "title": " Music bridges ",
            "status": "submitted",
            "role": "lead",
            "currency": "SEK",
            "lead_office": "kultur",
            "call": "crea-cult-2026-coop",
            "programme": "Creative Europe",
            "submitted_on": "2026-01-15",
            "municipality_budget": "1 150 000,50",
            "eu_grant_rate": "80 %",
            "covers_ordinary_municipal_tasks": "1",
            "documents": "Application | https://intranet.example/app.pdf\nhttps://example.org/x",
        },
        ["culture-music", "culture-music"],
    )
    assert data.title == "Music bridges"
    assert data.lead_office_id == office.id and data.call_id == call.id
    assert data.municipality_budget == Decimal("1150000.50")
    assert data.eu_grant_rate == Decimal("80.00")
    assert data.covers_ordinary_municipal_tasks is True
    assert data.focus_areas == ("culture-music",)
    assert data.documents == (
        Document("Application", "https://intranet.example/app.pdf"),
        Document("https://example.org/x", "https://example.org/x"),
    )


def test_the_form_names_every_unreadable_field(session: Session) -> None:
    with pytest.raises(ValidationFailed) as excinfo:
        read_project_form(
            session,
            {
                "title": "x",
                "status": "won",
                "role": "boss",
                "currency": "USD",
                "lead_office": "nowhere",
                "submitted_on": "1/2/2025",
                "eu_grant": "lots",
                "eu_grant_rate": "120",
                "call": "NO-SUCH-CALL",
                "documents": "javascript:alert(1)",
            },
        )
    assert set(excinfo.value.errors) == {
        "status",
        "role",
        "currency",
        "lead_office",
        "submitted_on",
        "eu_grant",
        "eu_grant_rate",
        "call",
        "documents",
    }


def test_every_change_is_audited_with_old_and_new_values(session: Session) -> None:
    editor = make_user(session)
    office = make_office(session)
    data = ProjectData(title="Music bridges", lead_office_id=office.id)
    project = create_project(session, data, actor=editor, now=NOW)
    changes = update_project(
        session,
        project,
        dataclasses.replace(
            data,
            status=ProjectStatus.SUBMITTED,
            submitted_on=date(2026, 1, 15),
            programme="Creative Europe",
            eu_grant=Decimal("50000"),
        ),
        actor=editor,
        now=NOW,
    )
    assert changes == {
        "status": ["idea", "submitted"],
        "submitted_on": [None, "2026-01-15"],
        "programme": [None, "Creative Europe"],
        "eu_grant": [None, "50000"],
    }
    # Saving the same values again records nothing.
    assert (
        update_project(session, project, ProjectData.from_project(project), actor=editor, now=NOW)
        == {}
    )
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "project").order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == ["project.created", "project.updated"]
    assert events[1].details["changes"]["status"] == ["idea", "submitted"]
    assert events[1].actor_id == editor.id


def test_an_invalid_update_changes_nothing(session: Session) -> None:
    office = make_office(session)
    project = create_project(
        session, ProjectData(title="Kept", lead_office_id=office.id), actor=None, now=NOW
    )
    with pytest.raises(ValidationFailed):
        update_project(
            session,
            project,
            ProjectData(title="", lead_office_id=office.id),
            actor=None,
            now=NOW,
        )
    assert project.title == "Kept"


def test_partners_are_added_with_a_role_and_removed(session: Session) -> None:
    office = make_office(session)
    project = create_project(
        session, ProjectData(title="x", lead_office_id=office.id), actor=None, now=NOW
    )
    riga = make_organisation(session, name="Riga", country_code="LV")
    link = add_partner(session, project, riga, ProjectRole.LEAD, actor=None, now=NOW)
    assert add_partner(session, project, riga, ProjectRole.LEAD, actor=None, now=NOW) is link
    add_partner(session, project, riga, ProjectRole.PARTNER, actor=None, now=NOW)
    assert [(p.organisation.name, p.role) for p in project.partners] == [
        ("Riga", ProjectRole.PARTNER)
    ]
    # A partner that applies for a co-financing line stays until the line changes.
    line = make_line(session, project, make_funder(session), "100", applicant_id=riga.id)
    with pytest.raises(ValidationFailed):
        remove_partner(session, project, link.id, actor=None, now=NOW)
    project.lines.remove(line)
    session.flush()
    remove_partner(session, project, link.id, actor=None, now=NOW)
    assert project.partners == []
    with pytest.raises(NotFound):
        remove_partner(session, project, link.id, actor=None, now=NOW)
    actions = session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.entity_id == str(project.id), AuditEvent.entity_type == "project")
        .order_by(AuditEvent.id)
    ).all()
    assert actions == [
        "project.created",
        "project.partner_added",
        "project.partner_changed",
        "project.partner_removed",
    ]


def test_listing_filters_and_orders_by_latest_submission(session: Session) -> None:
    kultur = make_office(session)
    utb = make_office(session)

    def add(title: str, office_id: int, submitted: date | None, status: ProjectStatus) -> None:
        create_project(
            session,
            ProjectData(
                title=title,
                lead_office_id=office_id,
                status=status,
                submitted_on=submitted,
                programme="Erasmus+" if submitted else None,
            ),
            actor=None,
            now=NOW,
        )

    add("Early", kultur.id, date(2024, 1, 1), ProjectStatus.REJECTED)
    add("Late", utb.id, date(2025, 6, 1), ProjectStatus.SUBMITTED)
    add("Idea", kultur.id, None, ProjectStatus.IDEA)
    assert [p.title for p in list_projects(session)] == ["Late", "Early", "Idea"]
    assert [p.title for p in list_projects(session, office_id=kultur.id)] == ["Early", "Idea"]
    assert [p.title for p in list_projects(session, year=2024)] == ["Early"]
    assert [p.title for p in list_projects(session, status=ProjectStatus.IDEA)] == ["Idea"]
    assert [p.title for p in list_projects(session, text="LAT")] == ["Late"]


def test_a_project_as_json_has_every_field(session: Session) -> None:
    office = make_office(session, slug="kultur")
    project = create_project(
        session,
        ProjectData(
            title="x",
            lead_office_id=office.id,
            eu_grant=Decimal("12.50"),
            documents=(Document("Plan", "https://example.org/plan"),),
        ),
        actor=None,
        now=NOW,
    )
    data = project_as_dict(get_project(session, project.id))
    assert data["lead_office"] == "kultur"
    assert data["eu_grant"] == "12.50"
    assert data["documents"] == [{"label": "Plan", "url": "https://example.org/plan"}]
    assert data["partners"] == [] and data["cofinancing"] == []
    delete_project(session, project, actor=None, now=NOW)
    with pytest.raises(NotFound):
        get_project(session, project.id)


def test_document_links_must_be_web_addresses() -> None:
    with pytest.raises(ValueError):
        parse_documents("Plan | file:///etc/passwd")
    assert parse_documents("\n\n") == ()

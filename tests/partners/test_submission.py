"""Submitting a call's application through the triage form makes its consortium draft the
project's partner list, without anyone typing the partners again."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import NOW, login, make_office, make_user
from tests.factories.partners import build_world, culture_call
from tests.factories.projects import make_project
from tracker.models import (
    ConsortiumDraft,
    FundingCall,
    Project,
    ProjectRole,
    ProjectStatus,
    Role,
)


def _projects(session: Session, call: FundingCall) -> list[Project]:
    return list(session.scalars(select(Project).where(Project.call_id == call.id)))


def _triage(client: FlaskClient, csrf: str, call: FundingCall, state: str) -> str:
    response = client.post(
        f"/calls/{call.id}/triage",
        data={"csrf_token": csrf, "state": state},
        follow_redirects=True,
    )
    assert response.status_code == 200, state
    return response.get_data(as_text=True)


def _draft(client: FlaskClient, csrf: str, call: FundingCall, members: dict[int, str]) -> None:
    client.post(
        f"/calls/{call.id}/consortium",
        data={"csrf_token": csrf, "idea": "Music in public space", "our_role": "lead"},
    )
    for organisation_id, role in members.items():
        client.post(
            f"/calls/{call.id}/consortium/members",
            data={"csrf_token": csrf, "organisation_id": str(organisation_id), "role": role},
        )


def test_submitting_the_call_creates_the_project_with_the_draft_partners(
    session: Session, client: FlaskClient, csrf: str
) -> None:
    world = build_world(session)
    call = culture_call(session)
    office = make_office(session)
    login(client, make_user(session, Role.EDITOR, language="en", office=office))
    _draft(client, csrf, call, {world.aarhus.id: "partner", world.bologna.id: "associated"})
    _triage(client, csrf, call, "preparing")
    assert _projects(session, call) == []

    page = _triage(client, csrf, call, "submitted")

    session.expire_all()
    project = session.scalars(select(Project).where(Project.call_id == call.id)).one()
    assert "The consortium draft is now the partner list of" in page
    assert project.status is ProjectStatus.SUBMITTED
    assert project.submitted_on == NOW.date()
    assert project.role is ProjectRole.LEAD
    assert project.lead_office_id == office.id
    assert project.programme == "Creative Europe (CREA)"
    assert {(p.organisation.name, p.role) for p in project.partners} == {
        ("Aarhus Musikhus", ProjectRole.PARTNER),
        ("Comune di Bologna", ProjectRole.ASSOCIATED),
    }
    draft = session.scalars(select(ConsortiumDraft).where(ConsortiumDraft.call_id == call.id)).one()
    assert draft.project_id == project.id
    # The project page lists them as its partners.
    detail = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "Aarhus Musikhus" in detail and "Comune di Bologna" in detail


def test_a_project_being_prepared_is_marked_submitted_and_takes_the_partners(
    session: Session, client: FlaskClient, csrf: str
) -> None:
    world = build_world(session)
    call = culture_call(session)
    project = make_project(
        session, title="Music Cities", call_id=call.id, status=ProjectStatus.PREPARING
    )
    login(client, make_user(session, Role.EDITOR, language="en"))
    _draft(client, csrf, call, {world.aarhus.id: "partner"})
    _triage(client, csrf, call, "preparing")
    _triage(client, csrf, call, "submitted")
    session.expire_all()
    assert _projects(session, call) == [project]
    assert project.status is ProjectStatus.SUBMITTED
    assert [p.organisation.name for p in project.partners] == ["Aarhus Musikhus"]


def test_submitting_twice_hands_over_once(session: Session, client: FlaskClient, csrf: str) -> None:
    world = build_world(session)
    call = culture_call(session)
    login(client, make_user(session, Role.EDITOR, language="en", office=make_office(session)))
    _draft(client, csrf, call, {world.aarhus.id: "partner"})
    _triage(client, csrf, call, "preparing")
    _triage(client, csrf, call, "submitted")
    # Sent twice (a second tab): the workflow refuses the second, nothing is added.
    again = client.post(f"/calls/{call.id}/triage", data={"csrf_token": csrf, "state": "submitted"})
    assert again.status_code in (409, 422)
    session.expire_all()
    assert len(_projects(session, call)) == 1
    # Withdrawn and prepared again, then submitted anew: still one project, one partner each.
    _triage(client, csrf, call, "withdrawn")
    _triage(client, csrf, call, "preparing")
    _draft(client, csrf, call, {world.bologna.id: "partner"})
    _triage(client, csrf, call, "submitted")
    session.expire_all()
    (project,) = _projects(session, call)
    assert sorted(p.organisation.name for p in project.partners) == [
        "Aarhus Musikhus",
        "Comune di Bologna",
    ]


def test_a_refused_submission_creates_no_project(
    session: Session, client: FlaskClient, csrf: str
) -> None:
    world = build_world(session)
    call = culture_call(session)
    login(client, make_user(session, Role.EDITOR, language="en", office=make_office(session)))
    _draft(client, csrf, call, {world.aarhus.id: "partner"})
    # A new call cannot jump to submitted: the workflow refuses, and nothing is handed over.
    response = client.post(
        f"/calls/{call.id}/triage", data={"csrf_token": csrf, "state": "submitted"}
    )
    assert response.status_code in (409, 422)
    session.expire_all()
    assert _projects(session, call) == []


def test_submitting_a_call_without_a_draft_creates_no_project(
    session: Session, client: FlaskClient, csrf: str
) -> None:
    call = culture_call(session)
    login(client, make_user(session, Role.EDITOR, language="en", office=make_office(session)))
    _triage(client, csrf, call, "preparing")
    page = _triage(client, csrf, call, "submitted")
    assert "partner list" not in page
    session.expire_all()
    assert _projects(session, call) == []

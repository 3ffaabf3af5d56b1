"""Submitting a call's application through the triage form makes its consortium draft the
project's partner list, without anyone typing the partners again."""

from __future__ import annotations

import re
from decimal import Decimal

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import NOW, login, make_office, make_user
from tests.factories.partners import build_world, culture_call
from tests.factories.projects import make_project
from tracker.models import (
    CallReview,
    ConsortiumDraft,
    ConsortiumMember,
    FundingCall,
    Project,
    ProjectRole,
    ProjectStatus,
    Role,
    TriageState,
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


def test_the_draft_partners_and_budget_shares_show_in_the_co_financing_plan(
    session: Session, client: FlaskClient, csrf: str
) -> None:
    world = build_world(session)
    call = culture_call(session)
    project = make_project(
        session,
        title="Music Cities",
        call_id=call.id,
        status=ProjectStatus.PREPARING,
        total_budget=Decimal("200000"),
        municipality_budget=Decimal("50000"),
    )
    login(client, make_user(session, Role.EDITOR, language="en"))
    client.post(
        f"/calls/{call.id}/consortium",
        data={"csrf_token": csrf, "idea": "Music", "our_role": "lead", "our_budget_share": "40"},
    )
    for organisation, role, share in (
        (world.aarhus, "partner", "35"),
        (world.bologna, "associated", "12,5"),
    ):
        client.post(
            f"/calls/{call.id}/consortium/members",
            data={
                "csrf_token": csrf,
                "organisation_id": str(organisation.id),
                "role": role,
                "budget_share": share,
            },
        )
    consortium_page = client.get(f"/calls/{call.id}/consortium").get_data(as_text=True)
    assert "12.5 %" in consortium_page

    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    plan = page[page.index('id="h-financing"') :]
    shares = plan[
        plan.index('id="consortium-shares"') : plan.index(
            "</table>", plan.index('id="consortium-shares"')
        )
    ]
    rows = [" ".join(row.split()) for row in re.findall(r"<tr>(.*?)</tr>", shares, re.S)]
    texts = [re.sub(r"<[^>]+>", " ", row) for row in rows]
    assert any(
        "Norrköpings kommun" in t and "Lead" in t and "40.0 %" in t and "80,000.00" in t
        for t in texts
    )
    assert any(
        "Aarhus Musikhus" in t and "Partner" in t and "35.0 %" in t and "70,000.00" in t
        for t in texts
    )
    assert any(
        "Comune di Bologna" in t and "Associated" in t and "12.5 %" in t and "25,000.00" in t
        for t in texts
    )
    # 40 + 35 + 12.5 leaves 12.5 per cent unshared, and our 40 per cent is more than our budget.
    assert "12.5 per cent of the total budget is not yet shared out" in plan
    assert "gives the municipality 40 per cent of the total budget" in plan

    client.post(
        f"/calls/{call.id}/consortium",
        data={"csrf_token": csrf, "idea": "Music", "our_role": "lead", "our_budget_share": "60"},
    )
    plan = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "budget shares add up to 107.5 per cent" in plan


def test_a_budget_share_over_100_is_refused(
    session: Session, client: FlaskClient, csrf: str
) -> None:
    world = build_world(session)
    call = culture_call(session)
    login(client, make_user(session, Role.EDITOR, language="en"))
    page = client.post(
        f"/calls/{call.id}/consortium/members",
        data={
            "csrf_token": csrf,
            "organisation_id": str(world.aarhus.id),
            "role": "partner",
            "budget_share": "120",
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "a rate is a percentage between 0 and 100" in page
    assert session.scalars(select(ConsortiumMember)).all() == []


def test_a_project_that_cannot_be_submitted_stops_the_submission_with_the_reason(
    session: Session, client: FlaskClient, csrf: str
) -> None:
    world = build_world(session)
    call = culture_call(session)
    # A project whose figures do not hold cannot be marked submitted as it stands.
    project = make_project(
        session,
        call_id=call.id,
        status=ProjectStatus.PREPARING,
        total_budget=Decimal("1000"),
        municipality_budget=Decimal("5000"),
    )
    login(client, make_user(session, Role.EDITOR, language="en"))
    _draft(client, csrf, call, {world.aarhus.id: "partner"})
    _triage(client, csrf, call, "preparing")
    response = client.post(
        f"/calls/{call.id}/triage", data={"csrf_token": csrf, "state": "submitted"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "could not be marked submitted" in page
    assert "cannot exceed the total budget" in page
    session.expire_all()
    assert project.status is ProjectStatus.PREPARING and project.partners == []
    review = session.scalars(select(CallReview).where(CallReview.call_id == call.id)).one()
    assert review.state is TriageState.PREPARING

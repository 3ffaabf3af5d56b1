"""The partner pages as staff use them: the call's rules with their sentences, staff
corrections that survive a changed call, suggestions, the consortium draft with its check
and invitations, and the network pages."""

from __future__ import annotations

import io

from flask.testing import FlaskClient
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import login, make_user
from tests.factories.partners import build_world, culture_call, twinning_call
from tests.factories.projects import make_project
from tracker.models import (
    ConsortiumDraft,
    ConsortiumMember,
    NetworkMember,
    Organisation,
    PartnerRuleOverride,
    ProjectStatus,
    Role,
)


def _text(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_the_call_page_shows_the_rules_with_their_sentence_in_both_languages(
    session: Session, client: FlaskClient
) -> None:
    build_world(session)
    call = culture_call(session)
    user = make_user(session, Role.VIEWER, language="sv")
    login(client, user)
    page = _text(client, f"/calls/{call.id}")
    assert "Regler för partner" in page
    assert "Minsta antal partner" in page
    assert "The consortium must be composed of minimum 3 independent entities" in page
    assert "EU:s medlemsländer" in page
    assert "okänt" in page  # who may lead: the call does not say
    assert "Korrigera reglerna" not in page  # viewers do not edit
    # Suggestions: the awarded Creative Europe partner, and the one kept apart.
    assert "Aarhus Musikhus" in page
    assert "Xuzhou" in page and "är inte stödberättigat" in page
    user.language = "en"
    session.flush()
    page = _text(client, f"/calls/{call.id}")
    assert "Minimum number of partners" in page and "EU member states" in page
    assert "Partner in our project Sounds of Cities in the same programme (Awarded)" in page


def test_a_staff_value_wins_and_survives_a_changed_call(
    session: Session, client: FlaskClient, csrf: str
) -> None:
    call = culture_call(session)
    editor = make_user(session, Role.EDITOR, language="en")
    login(client, editor)
    form = {
        "csrf_token": csrf,
        "min_partners": "4",
        "min_partners_note": "Guide p. 12",
        "lead": "public",
    }
    response = client.post(f"/calls/{call.id}/partner-rules", data=form)
    assert response.status_code == 302
    rows = session.scalars(
        select(PartnerRuleOverride).where(PartnerRuleOverride.call_id == call.id)
    )
    assert {r.kind: r.value for r in rows} == {"min_partners": 4, "lead": ["public"]}
    # The source changes the call's text: the staff values stay, the rest is read again.
    call.description_text = (
        "The consortium must be composed of minimum 5 independent entities from 5 different "
        "eligible countries."
    )
    session.flush()
    page = _text(client, f"/calls/{call.id}")
    row = page.split('data-rule="min_partners"')[1].split("</tr>")[0]
    assert "<strong>4</strong>" in row and "set by staff" in row and "Guide p. 12" in row
    countries = page.split('data-rule="min_countries"')[1].split("</tr>")[0]
    assert "<strong>5</strong>" in countries
    # "?" says the call does not state it; a blank field goes back to the reading.
    client.post(f"/calls/{call.id}/partner-rules", data={"csrf_token": csrf, "min_countries": "?"})
    page = _text(client, f"/calls/{call.id}")
    countries = page.split('data-rule="min_countries"')[1].split("</tr>")[0]
    assert "unknown" in countries and "set by staff" in countries
    row = page.split('data-rule="min_partners"')[1].split("</tr>")[0]
    assert "<strong>5</strong>" in row


def test_a_bad_staff_value_is_refused_with_the_rule_named(
    session: Session, client: FlaskClient, csrf: str
) -> None:
    call = culture_call(session)
    login(client, make_user(session, Role.EDITOR, language="en"))
    response = client.post(
        f"/calls/{call.id}/partner-rules",
        data={"csrf_token": csrf, "min_partners": "three", "eligible_countries": "EU, Narnia"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Minimum number of partners" in page and "Eligible countries" in page
    assert session.scalars(select(PartnerRuleOverride)).all() == []


def test_viewers_cannot_post_and_forms_need_the_csrf_token(
    session: Session, client: FlaskClient, csrf: str
) -> None:
    call = culture_call(session)
    login(client, make_user(session, Role.VIEWER))
    for path in (
        f"/calls/{call.id}/partner-rules",
        f"/calls/{call.id}/consortium",
        f"/calls/{call.id}/consortium/members",
        "/networks/import",
    ):
        assert client.post(path, data={"csrf_token": csrf}).status_code == 403, path
    login(client, make_user(session, Role.EDITOR))
    assert (
        client.post(f"/calls/{call.id}/partner-rules", data={"min_partners": "3"}).status_code
        == 400
    )


def test_the_consortium_draft_says_what_is_missing_and_drafts_invitations(
    session: Session, client: FlaskClient, csrf: str
) -> None:
    world = build_world(session)
    call = twinning_call(session)
    login(client, make_user(session, Role.EDITOR, language="en"))
    client.post(
        f"/calls/{call.id}/consortium",
        data={
            "csrf_token": csrf,
            "idea": "Young people's councils across the border",
            "our_role": "lead",
        },
    )
    client.post(
        f"/calls/{call.id}/consortium/members",
        data={
            "csrf_token": csrf,
            "organisation_id": str(world.bologna.id),
            "role": "partner",
            "task": "Youth panels",
        },
    )
    page = _text(client, f"/calls/{call.id}/consortium")
    # Sweden and Italy are not Latvia or Lithuania.
    assert "Comune di Bologna is in Italy, which the call does not accept" in page
    assert "Norrköpings kommun is in Sweden" in page
    assert "Dear colleagues at Comune di Bologna" in page
    assert "Young people&#39;s councils across the border" in page
    assert "Hej Comune di Bologna" in page and "med ansvar för: Youth panels" in page
    draft = session.scalars(select(ConsortiumDraft).where(ConsortiumDraft.call_id == call.id)).one()
    member = draft.members[0]
    client.post(
        f"/calls/{call.id}/consortium/members/{member.id}/delete", data={"csrf_token": csrf}
    )
    session.expire_all()
    assert session.scalars(select(ConsortiumMember)).all() == []


def test_the_submitted_project_takes_the_draft_partners(
    session: Session, client: FlaskClient, csrf: str
) -> None:
    world = build_world(session)
    call = culture_call(session)
    project = make_project(
        session, title="Music Cities", call_id=call.id, status=ProjectStatus.PREPARING
    )
    login(client, make_user(session, Role.EDITOR, language="en"))
    for org in (world.aarhus, world.bologna):
        client.post(
            f"/calls/{call.id}/consortium/members",
            data={"csrf_token": csrf, "organisation_id": str(org.id), "role": "partner"},
        )
    plan = _text(client, f"/projects/{project.id}")
    assert "consortium draft has 2 partners:" in plan
    assert "Aarhus Musikhus (DK) (Partner)" in plan
    response = client.post(
        f"/calls/{call.id}/consortium/hand-over",
        data={"csrf_token": csrf, "project_id": str(project.id)},
        follow_redirects=True,
    )
    assert "once the application is submitted" in response.get_data(as_text=True)
    assert project.partners == []
    project.status = ProjectStatus.SUBMITTED
    session.flush()
    client.post(
        f"/calls/{call.id}/consortium/hand-over",
        data={"csrf_token": csrf, "project_id": str(project.id)},
    )
    session.expire_all()
    assert sorted(p.organisation.name for p in project.partners) == [
        "Aarhus Musikhus",
        "Comune di Bologna",
    ]
    # The organisation page remembers the call we considered them for.
    page = _text(client, f"/organisations/{world.bologna.id}")
    assert call.title in page


def test_network_members_are_added_on_the_page_and_imported_from_a_sheet(
    session: Session, client: FlaskClient, csrf: str
) -> None:
    world = build_world(session)
    login(client, make_user(session, Role.EDITOR, language="en"))
    page = _text(client, "/networks")
    assert "Services for the growing elderly population" in page
    client.post(
        f"/networks/{world.sern.id}/members",
        data={
            "csrf_token": csrf,
            "name": "Comune di Modena",
            "city": "Modena",
            "country_code": "it",
            "kind": "municipality",
            "contact_name": "Marco",
            "last_contact_on": "2026-10-01",
        },
    )
    page = _text(client, f"/networks/{world.sern.id}")
    assert "Comune di Modena" in page and "Marco" in page and "2026-10-01" in page
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["network", "name", "country", "city", "contact_name", "last_contact_on"])
    sheet.append(["SERN", "Comune di Reggio Emilia", "IT", "Reggio Emilia", "Anna", "2026-05-04"])
    sheet.append(["SERN", "Comune di Bologna", "IT", "Bologna", "Giulia", "2026-11-01"])
    data = io.BytesIO()
    book.save(data)
    response = client.post(
        "/networks/import",
        data={"csrf_token": csrf, "file": (io.BytesIO(data.getvalue()), "members.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "2 members recorded" in response.get_data(as_text=True)
    names = {
        m.organisation.name
        for m in session.scalars(
            select(NetworkMember).where(NetworkMember.network_id == world.sern.id)
        )
    }
    assert {"Comune di Reggio Emilia", "Comune di Bologna", "Comune di Modena"} <= names
    # A bad row: nothing is written and the row is named.
    bad = b"network,name,country\nSERN,Comune di Ferrara,XX\nNo such network,Comune di Rimini,IT\n"
    response = client.post(
        "/networks/import",
        data={"csrf_token": csrf, "file": (io.BytesIO(bad), "members.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "<td>2</td><td>country</td>" in text and "<td>3</td><td>network</td>" in text
    assert (
        session.scalars(select(Organisation).where(Organisation.name == "Comune di Rimini")).first()
        is None
    )


def test_editing_a_networks_themes_changes_who_is_suggested(
    session: Session, client: FlaskClient, csrf: str
) -> None:
    world = build_world(session)
    call = culture_call(session)
    login(client, make_user(session, Role.EDITOR, language="en"))
    page = _text(client, f"/calls/{call.id}")
    assert "its themes: Music in schools" not in page
    client.post(
        f"/networks/{world.sern.id}/themes",
        data={
            "csrf_token": csrf,
            "themes": "Music in schools | culture-music\nElderly | health-welfare",
        },
    )
    session.expire_all()
    assert world.sern.membership is not None
    assert world.sern.membership.themes[0] == {
        "theme": "Music in schools",
        "areas": ["culture-music"],
    }
    page = _text(client, f"/calls/{call.id}")
    assert "Member of SERN – its themes: Music in schools" in page
    # An unknown area is refused and the themes stay as they were.
    response = client.post(
        f"/networks/{world.sern.id}/themes",
        data={"csrf_token": csrf, "themes": "Sport | football"},
        follow_redirects=True,
    )
    assert "line 1" in response.get_data(as_text=True)
    session.expire_all()
    assert world.sern.membership is not None
    assert len(world.sern.membership.themes) == 2

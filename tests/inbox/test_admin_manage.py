"""Administrators manage users (role, office, language, deactivation) and offices."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.factories import login, make_office, make_user
from tracker.models import Role


def _form(**values: str) -> dict[str, str]:
    form = {
        "display_name": "Someone",
        "role": "viewer",
        "office": "",
        "language": "sv",
        "is_active": "1",
    }
    form.update(values)
    return form


def test_admin_changes_role_office_and_language(
    client: FlaskClient, session: Session, csrf: str
) -> None:
    admin = make_user(session, role=Role.ADMIN)
    office = make_office(session, slug="miljo", name_sv="Miljökontoret")
    user = make_user(session, role=Role.VIEWER, display_name="Vera")
    login(client, admin)
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert 'value="Vera"' in page and '<option value="viewer" selected>' in page
    response = client.post(
        f"/admin/users/{user.id}",
        data={
            **_form(display_name="Vera V", role="editor", office="miljo", language="en"),
            "csrf_token": csrf,
        },
    )
    assert response.status_code == 302
    session.refresh(user)
    assert (user.role, user.office_id, user.language, user.display_name) == (
        Role.EDITOR,
        office.id,
        "en",
        "Vera V",
    )
    assert f'href="/admin/users/{user.id}"' in client.get("/admin/users").get_data(as_text=True)


def test_a_deactivated_user_is_signed_out_and_cannot_sign_in(
    client: FlaskClient, session: Session, csrf: str
) -> None:
    admin = make_user(session, role=Role.ADMIN)
    user = make_user(session, role=Role.EDITOR)
    login(client, admin)
    response = client.post(
        f"/admin/users/{user.id}", data={**_form(role="editor", is_active=""), "csrf_token": csrf}
    )
    assert response.status_code == 302
    session.refresh(user)
    assert user.is_active is False
    login(client, user)
    assert client.get("/calls").status_code == 302  # back to the login page


def test_the_last_admin_cannot_be_demoted_nor_deactivate_themselves(
    client: FlaskClient, session: Session, csrf: str
) -> None:
    admin = make_user(session, role=Role.ADMIN)
    login(client, admin)
    response = client.post(
        f"/admin/users/{admin.id}", data={**_form(role="editor"), "csrf_token": csrf}
    )
    assert response.status_code == 422
    assert "en sista administratören" in response.get_data(as_text=True)
    make_user(session, role=Role.ADMIN)
    response = client.post(
        f"/admin/users/{admin.id}", data={**_form(role="admin", is_active=""), "csrf_token": csrf}
    )
    assert response.status_code == 422
    assert "Du kan inte avaktivera dig själv" in response.get_data(as_text=True)
    session.refresh(admin)
    assert admin.role == Role.ADMIN and admin.is_active


def test_admin_renames_and_closes_an_office(
    client: FlaskClient, session: Session, csrf: str
) -> None:
    office = make_office(session, slug="kultur", name_sv="Kultur", name_en="Culture")
    login(client, make_user(session, role=Role.ADMIN))
    bad = client.post(
        f"/admin/offices/{office.id}",
        data={
            "name_sv": "",
            "name_en": "x",
            "shared_mailbox": "not-an-address",
            "is_active": "1",
            "csrf_token": csrf,
        },
    )
    assert bad.status_code == 422
    response = client.post(
        f"/admin/offices/{office.id}",
        data={
            "name_sv": "Kultur- och fritidskontoret",
            "name_en": "Culture and leisure",
            "shared_mailbox": "kultur@norrkoping.test",
            "is_active": "",
            "csrf_token": csrf,
        },
    )
    assert response.status_code == 302
    session.refresh(office)
    assert office.name_sv == "Kultur- och fritidskontoret" and office.is_active is False
    assert office.shared_mailbox == "kultur@norrkoping.test"

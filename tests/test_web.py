from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.factories import NOW, TEST_PASSWORD, login, make_office, make_user
from tracker.config import settings_from_dict
from tracker.models import Role, User


def _csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "form has no csrf_token field"
    return match.group(1)


def test_login_page_is_swedish_by_default_and_has_the_form_fields(client: FlaskClient) -> None:
    response = client.get("/login")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="sv">' in html
    assert "Logga in" in html
    for name in ("email", "password", "csrf_token"):
        assert f'name="{name}"' in html


def test_sign_in_with_the_form_then_sign_out(client: FlaskClient, session: Session) -> None:
    user = make_user(session, role=Role.VIEWER, email="anna@norrkoping.test")
    token = _csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={"email": "Anna@Norrkoping.test", "password": TEST_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert user.display_name in page
    # The header of every page carries a logout form with its own CSRF token.
    assert 'action="/logout"' in page
    response = client.post("/logout", data={"csrf_token": _csrf_from(page)})
    assert response.status_code == 302
    assert client.get("/").status_code == 302  # back to the login page


def test_wrong_password_keeps_the_email_typed(client: FlaskClient, session: Session) -> None:
    make_user(session, email="bo@norrkoping.test")
    token = _csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": "bo@norrkoping.test", "password": "wrong", "csrf_token": token}
    )
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert 'value="bo@norrkoping.test"' in html
    assert "Fel e-postadress eller lösenord" in html


def test_login_is_rate_limited(client: FlaskClient, session: Session) -> None:
    make_user(session, email="cecilia@norrkoping.test")
    token = _csrf_from(client.get("/login").get_data(as_text=True))
    form = {"email": "cecilia@norrkoping.test", "password": "guess", "csrf_token": token}
    statuses = [client.post("/login", data=form).status_code for _ in range(11)]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    # Even the right password is refused while throttled.
    form["password"] = TEST_PASSWORD
    assert client.post("/login", data=form).status_code == 429


def test_form_without_csrf_token_is_rejected(client: FlaskClient, session: Session) -> None:
    make_user(session, email="dan@norrkoping.test")
    response = client.post(
        "/login", data={"email": "dan@norrkoping.test", "password": TEST_PASSWORD}
    )
    assert response.status_code == 400
    response = client.post(
        "/login",
        data={"email": "dan@norrkoping.test", "password": TEST_PASSWORD, "csrf_token": "forged"},
    )
    assert response.status_code == 400


def test_session_cookie_is_httponly_and_samesite(client: FlaskClient) -> None:
    response = client.get("/login")
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_secure_cookie_behind_https(database_url: str, session_factory: object) -> None:
    from tracker.app import create_app

    settings = settings_from_dict(
        {
            "app": {"secret_key": "x", "session_cookie_secure": True},
            "database": {"url": database_url},
        }
    )
    app = create_app(settings, session_factory=session_factory, testing=True)  # type: ignore[arg-type]
    cookie = app.test_client().get("/login").headers.get("Set-Cookie", "")
    assert "Secure" in cookie


def test_anonymous_visitor_is_sent_to_login(client: FlaskClient) -> None:
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/admin/users")


@pytest.mark.parametrize(
    ("role", "status"), [(Role.VIEWER, 403), (Role.EDITOR, 403), (Role.ADMIN, 200)]
)
def test_admin_pages_check_the_role(
    client: FlaskClient, session: Session, role: Role, status: int
) -> None:
    login(client, make_user(session, role=role))
    assert client.get("/admin/users").status_code == status
    assert client.get("/admin/offices").status_code == status


def test_admin_adds_a_user_and_a_form_error_keeps_what_was_typed(
    client: FlaskClient, session: Session, csrf: str
) -> None:
    office = make_office(
        session, slug="kultur", name_sv="Kultur- och fritidskontoret", name_en="Culture"
    )
    login(client, make_user(session, role=Role.ADMIN))
    response = client.post(
        "/admin/users",
        data={
            "email": "eva@norrkoping.test",
            "display_name": "Eva",
            "password": "short",
            "role": "editor",
            "office": "kultur",
            "language": "en",
            "csrf_token": csrf,
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'value="eva@norrkoping.test"' in html and 'value="Eva"' in html
    assert "10" in html  # the password rule is explained
    response = client.post(
        "/admin/users",
        data={
            "email": "eva@norrkoping.test",
            "display_name": "Eva",
            "password": "a long enough one",
            "role": "editor",
            "office": "kultur",
            "language": "en",
            "csrf_token": csrf,
        },
    )
    assert response.status_code == 302
    created = session.query(User).filter_by(email="eva@norrkoping.test").one()
    assert (
        created.role == Role.EDITOR and created.office_id == office.id and created.language == "en"
    )
    assert created.password_hash.startswith("$argon2")


def test_language_switch_to_english_is_remembered_for_the_user(
    client: FlaskClient, session: Session, csrf: str
) -> None:
    user = make_user(session, role=Role.VIEWER)
    login(client, user)
    assert "Översikt" in client.get("/").get_data(as_text=True)
    client.post("/language", data={"language": "en", "next": "/", "csrf_token": csrf})
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in html and "Overview" in html
    session.refresh(user)
    assert user.language == "en"


def test_healthz_reports_the_database(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "problems": []}


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path: object) -> None:
    from tracker.app import create_app

    settings = settings_from_dict(
        {
            "app": {"secret_key": "x"},
            "database": {"url": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"},
        }
    )
    response = create_app(settings, testing=True).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] != "ok"


def test_every_view_declares_who_may_see_it(app: Flask) -> None:
    undeclared = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        and not hasattr(app.view_functions[rule.endpoint], "_tracker_role")
    ]
    assert undeclared == []


def test_unknown_page_is_404(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session, role=Role.VIEWER))
    assert client.get("/no/such/page").status_code == 404


def test_concurrent_form_posts_on_sqlite_wait_for_each_other(tmp_path: Path) -> None:
    """Two sign-ins at the same moment both succeed instead of one failing with
    'database is locked' (SQLite upgrades a reading transaction to a writing one badly)."""
    from tracker.app import create_app
    from tracker.migrate import upgrade
    from tracker.services.users import create_user

    url = f"sqlite:///{tmp_path / 'concurrent.db'}"
    upgrade(url)
    app = create_app(settings_from_dict({"app": {"secret_key": "x"}, "database": {"url": url}}))
    factory = app.extensions["tracker"].session_factory
    with factory() as setup:
        for i in range(6):
            create_user(
                setup,
                f"u{i}@norrkoping.test",
                password=TEST_PASSWORD,
                role=Role.VIEWER,
                now=NOW,
            )
        setup.commit()

    def sign_in(i: int) -> int:
        client = app.test_client()
        with client.session_transaction() as flask_session:
            flask_session["csrf_token"] = "t"
        form = {"email": f"u{i}@norrkoping.test", "password": TEST_PASSWORD, "csrf_token": "t"}
        return client.post("/login", data=form).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(sign_in, range(6)))
    assert statuses == [302] * 6

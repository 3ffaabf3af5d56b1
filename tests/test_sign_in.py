"""Signing in under attack: throttling per account and per client address (behind a proxy
too), the same time for unknown accounts, and sessions that end at sign-out."""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from tests.conftest import make_settings
from tests.factories import TEST_PASSWORD, make_profile, make_user
from tests.factories.inbox import make_matched_call
from tracker import security
from tracker.app import create_app
from tracker.clock import FixedClock
from tracker.models import Role
from tracker.security import hash_password

CSRF = "sign-in-test-csrf"


def post_login(
    client: FlaskClient,
    email: str,
    password: str,
    *,
    address: str = "192.0.2.10",
    headers: dict[str, str] | None = None,
) -> TestResponse:
    """The sign-in form posted from the client address ``address`` (REMOTE_ADDR)."""
    with client.session_transaction() as flask_session:
        flask_session["csrf_token"] = CSRF
        flask_session["lang"] = "en"
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": CSRF},
        environ_base={"REMOTE_ADDR": address},
        headers=headers or {},
    )


def text_of(response: TestResponse) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def app_with(
    database_url: str,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    **sections: dict[str, Any],
) -> Flask:
    return create_app(
        make_settings(database_url, **sections),
        session_factory=session_factory,
        testing=True,
        clock=clock,
    )


# --- throttling ---------------------------------------------------------------------------

# Limits lowered where the number is not the point: fewer requests, a quicker suite.
QUICK_LIMIT = 3


@pytest.fixture()
def quick_app(
    database_url: str, session_factory: sessionmaker[Session], clock: FixedClock
) -> Flask:
    return app_with(
        database_url,
        session_factory,
        clock,
        app={"login_attempts_per_15_minutes": QUICK_LIMIT},
    )


def test_after_ten_failures_the_right_password_gets_a_clear_message_with_a_reset_link(
    client: FlaskClient, session: Session, clock: FixedClock
) -> None:
    make_user(session, email="cecilia@norrkoping.test")
    for _ in range(10):
        assert post_login(client, "cecilia@norrkoping.test", "guess").status_code == 401
    response = post_login(client, "cecilia@norrkoping.test", TEST_PASSWORD)
    assert response.status_code == 429
    assert (
        "Too many attempts for this account. Try again in 15 minutes or reset your password."
        in text_of(response).replace(" .", ".")  # the link ends just before the full stop
    )
    assert 'href="/account/forgot?email=cecilia@norrkoping.test"' in response.get_data(as_text=True)
    # The pause ends when the failures age out of the quarter of an hour.
    clock.advance(timedelta(minutes=10))
    assert "Try again in 5 minutes" in text_of(
        post_login(client, "cecilia@norrkoping.test", TEST_PASSWORD)
    )
    clock.advance(timedelta(minutes=5, seconds=1))
    assert post_login(client, "cecilia@norrkoping.test", TEST_PASSWORD).status_code == 302


def test_one_clients_failures_never_lock_out_another_client(
    quick_app: Flask, session: Session
) -> None:
    make_user(session, email="admin@norrkoping.test", role=Role.ADMIN)
    app, client = quick_app, quick_app.test_client()
    for _ in range(QUICK_LIMIT + 2):
        post_login(client, "admin@norrkoping.test", "guess", address="198.51.100.66")
    locked = post_login(client, "admin@norrkoping.test", TEST_PASSWORD, address="198.51.100.66")
    assert locked.status_code == 429
    other = app.test_client()
    response = post_login(other, "admin@norrkoping.test", TEST_PASSWORD, address="192.0.2.44")
    assert response.status_code == 302
    assert other.get("/").status_code == 200


def test_an_address_trying_many_accounts_is_paused_but_the_accounts_are_not(
    database_url: str, session_factory: sessionmaker[Session], clock: FixedClock, session: Session
) -> None:
    app = app_with(
        database_url,
        session_factory,
        clock,
        app={"login_attempts_per_address_per_15_minutes": 3},
    )
    users = [make_user(session) for _ in range(4)]
    attacker = app.test_client()
    for user in users[:3]:
        assert post_login(attacker, user.email, "guess", address="203.0.113.9").status_code == 401
    response = post_login(attacker, users[3].email, TEST_PASSWORD, address="203.0.113.9")
    assert response.status_code == 429
    assert "Too many failed sign-ins from your network address" in text_of(response)
    for user in users[:3]:
        assert post_login(app.test_client(), user.email, TEST_PASSWORD).status_code == 302


def test_a_guess_spread_over_many_addresses_pauses_the_account_for_everyone(
    database_url: str, session_factory: sessionmaker[Session], clock: FixedClock, session: Session
) -> None:
    app = app_with(
        database_url,
        session_factory,
        clock,
        app={"login_attempts_per_account_per_15_minutes": 4},
    )
    make_user(session, email="eva@norrkoping.test")
    for n in range(4):
        post_login(app.test_client(), "eva@norrkoping.test", "guess", address=f"203.0.113.{n}")
    response = post_login(app.test_client(), "eva@norrkoping.test", TEST_PASSWORD)
    assert response.status_code == 429
    assert "reset your password" in text_of(response)


def test_unknown_accounts_are_throttled_like_known_ones(quick_app: Flask, session: Session) -> None:
    """Otherwise the lock message would tell which accounts exist."""
    make_user(session, email="known@norrkoping.test")
    client = quick_app.test_client()
    for email in ("known@norrkoping.test", "nobody@norrkoping.test"):
        for _ in range(QUICK_LIMIT):
            post_login(client, email, "guess")
        assert post_login(client, email, "guess").status_code == 429


def test_a_success_forgives_that_clients_typos(quick_app: Flask, session: Session) -> None:
    make_user(session, email="frida@norrkoping.test")
    client = quick_app.test_client()
    for _ in range(QUICK_LIMIT - 1):
        post_login(client, "frida@norrkoping.test", "typo")
    assert post_login(client, "frida@norrkoping.test", TEST_PASSWORD).status_code == 302
    client.post("/logout", data={"csrf_token": CSRF})
    for _ in range(QUICK_LIMIT - 1):
        post_login(client, "frida@norrkoping.test", "typo")
    assert post_login(client, "frida@norrkoping.test", TEST_PASSWORD).status_code == 302


# --- behind a reverse proxy ---------------------------------------------------------------

PROXY = "127.0.0.1"


def test_behind_a_trusted_proxy_each_forwarded_client_is_throttled_on_its_own(
    database_url: str, session_factory: sessionmaker[Session], clock: FixedClock, session: Session
) -> None:
    make_user(session, email="greta@norrkoping.test", role=Role.ADMIN)
    limits = {"login_attempts_per_15_minutes": QUICK_LIMIT}
    proxied = app_with(database_url, session_factory, clock, web={"trusted_proxies": 1}, app=limits)
    attacker = proxied.test_client()
    for n in range(QUICK_LIMIT + 1):
        # Whatever the attacker writes first, the proxy appends the address it saw.
        forged = {"X-Forwarded-For": f"10.9.9.{n}, 198.51.100.66"}
        post_login(attacker, "greta@norrkoping.test", "guess", address=PROXY, headers=forged)
    locked = post_login(
        attacker,
        "greta@norrkoping.test",
        TEST_PASSWORD,
        address=PROXY,
        headers={"X-Forwarded-For": "10.9.9.99, 198.51.100.66"},
    )
    assert locked.status_code == 429
    admin = proxied.test_client()
    response = post_login(
        admin,
        "greta@norrkoping.test",
        TEST_PASSWORD,
        address=PROXY,
        headers={"X-Forwarded-For": "192.0.2.44"},
    )
    assert response.status_code == 302

    # Without trusted_proxies the same headers are ignored: everyone is the proxy, so the
    # attacker's failures lock the admin out too. This is the set-up the setting fixes.
    direct = app_with(database_url, session_factory, clock, app=limits)
    response = post_login(
        direct.test_client(),
        "greta@norrkoping.test",
        TEST_PASSWORD,
        address="198.51.100.66",
        headers={"X-Forwarded-For": "192.0.2.44"},
    )
    assert response.status_code == 429


def test_behind_a_trusted_proxy_links_use_the_public_scheme_and_host(
    database_url: str, session_factory: sessionmaker[Session], clock: FixedClock, session: Session
) -> None:
    make_profile(session)
    make_matched_call(session, {"education": 80})
    viewer = make_user(session, role=Role.VIEWER)
    forwarded = {
        "X-Forwarded-For": "192.0.2.44",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "tracker.norrkoping.se",
    }
    for proxies, expected in (
        (1, "https://tracker.norrkoping.se/calls/"),
        (0, "http://localhost/calls/"),
    ):
        client = app_with(
            database_url, session_factory, clock, web={"trusted_proxies": proxies}
        ).test_client()
        assert post_login(client, viewer.email, TEST_PASSWORD, headers=forwarded).status_code == 302
        export = client.get("/calls/export.csv", headers=forwarded).get_data(as_text=True)
        assert re.search(re.escape(expected) + r"\d+", export), export[:300]


# --- timing -------------------------------------------------------------------------------


@pytest.fixture()
def production_password_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The argon2 parameters of production (the suite's cheap ones would hide the gap)."""
    monkeypatch.setattr(security, "_hasher", PasswordHasher())
    security._dummy_hash.cache_clear()
    yield
    security._dummy_hash.cache_clear()


@pytest.mark.usefixtures("production_password_hashing")
def test_unknown_accounts_take_as_long_to_refuse_as_known_ones(
    client: FlaskClient, session: Session
) -> None:
    """Unknown and invited accounts cost one password check too. Medians of interleaved
    tries, so a busy machine slows every path alike."""
    make_user(session, email="known@norrkoping.test", password_hash=hash_password(TEST_PASSWORD))
    make_user(session, email="invited@norrkoping.test", password_hash="")
    emails = ("known@norrkoping.test", "nobody@norrkoping.test", "invited@norrkoping.test")
    times: dict[str, list[float]] = {email: [] for email in emails}
    for n in range(4):
        for email in emails:
            started = time.perf_counter()
            response = post_login(client, email, "wrong password", address=f"192.0.2.{n}")
            times[email].append(time.perf_counter() - started)
            assert response.status_code == 401
    medians = {email: statistics.median(values) for email, values in times.items()}
    assert max(medians.values()) / min(medians.values()) < 3, medians


# --- sessions -----------------------------------------------------------------------------


def test_a_cookie_copied_before_sign_out_no_longer_works_after(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    make_user(session, email="hanna@norrkoping.test")
    assert post_login(client, "hanna@norrkoping.test", TEST_PASSWORD).status_code == 302
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    assert thief.get("/").status_code == 200

    with client.session_transaction() as flask_session:
        token = flask_session["csrf_token"] = "logout-csrf"
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302

    response = thief.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    # Signing in again works and makes a new session.
    assert post_login(client, "hanna@norrkoping.test", TEST_PASSWORD).status_code == 302
    assert client.get("/").status_code == 200
    assert thief.get("/").status_code == 302


def test_a_cookie_without_the_session_nonce_signs_nobody_in(
    client: FlaskClient, session: Session
) -> None:
    """Cookies made before this release (or forged with a leaked user id only) are refused."""
    user = make_user(session)
    with client.session_transaction() as flask_session:
        flask_session["user_id"] = user.id
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("path", ["/account/password"])
def test_changing_the_password_needs_a_signed_in_user(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_an_overlong_forwarded_address_is_no_server_error(
    database_url: str, session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    """With more proxies configured than there are, the client writes the address."""
    client = app_with(
        database_url, session_factory, clock, web={"trusted_proxies": 2}
    ).test_client()
    forged = {"X-Forwarded-For": "x" * 500 + ", 192.0.2.44"}
    response = post_login(client, "nobody@norrkoping.test", "guess", address=PROXY, headers=forged)
    assert response.status_code == 401

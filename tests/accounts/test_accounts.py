"""Accounts by mail, through a real SMTP server: an invitation whose link sets the password
once and for 72 hours, "forgot password" that tells nobody who has an account, and changing
one's own password, which ends the account's other sessions."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from email.message import EmailMessage

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from tests.digests.conftest import BASE_URL, SENDER, SmtpServer
from tests.factories import NOW, TEST_PASSWORD, login, make_office, make_user
from tracker.clock import FixedClock
from tracker.models import AuditEvent, PasswordToken, Role, User
from tracker.security import verify_password
from tracker.services.maintenance import prune_password_links
from tracker.services.users import get_user_by_email

CSRF = "accounts-test-csrf"
NEW_PASSWORD = "a brand new passphrase"
LINK = re.compile(re.escape(BASE_URL) + r"(/account/set-password/[A-Za-z0-9_.\-]+)")


def with_csrf(client: FlaskClient, language: str = "en") -> FlaskClient:
    with client.session_transaction() as flask_session:
        flask_session["csrf_token"] = CSRF
        flask_session["lang"] = language
    return client


def post(client: FlaskClient, path: str, **form: str) -> TestResponse:
    with_csrf(client)
    return client.post(path, data={"csrf_token": CSRF, **form})


def sign_in(client: FlaskClient, email: str, password: str) -> TestResponse:
    return post(client, "/login", email=email, password=password)


def text_of(response: TestResponse) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def mails_to(smtp: SmtpServer, address: str, *, count: int = 1) -> list[EmailMessage]:
    """The messages ``address`` received, waiting up to ten seconds for ``count`` of them
    (the reset mail leaves beside the answer, not before it)."""
    deadline = time.monotonic() + 10
    while len(smtp.handler.to(address)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return [received.message for received in smtp.handler.to(address)]


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def link_path(message: EmailMessage) -> str:
    text, html = parts(message)
    found = LINK.search(text)
    assert found, text
    assert found.group(0) in html
    return found.group(1)


def invite(admin_client: FlaskClient, email: str, **form: str) -> TestResponse:
    values = {"email": email, "display_name": "Sara Holm", "role": "editor", "language": "en"}
    values.update(form)
    return post(admin_client, "/admin/users/invite", **values)


def admin_client(app: Flask, session: Session) -> FlaskClient:
    client = app.test_client()
    login(client, make_user(session, role=Role.ADMIN, display_name="Anna Admin", language="en"))
    return client


# --- invitations ----------------------------------------------------------------------------


def test_an_invitation_link_sets_the_password_signs_in_and_works_once(
    mail_app: Flask, session: Session, smtp: SmtpServer
) -> None:
    office = make_office(session, slug="culture", name_en="Culture office")
    admin = admin_client(mail_app, session)
    response = invite(admin, "Sara.Holm@norrkoping.test", office="culture")
    assert response.status_code == 302
    assert "Invitation sent to sara.holm@norrkoping.test" in text_of(
        admin.get(response.headers["Location"])
    )
    invited = get_user_by_email(session, "sara.holm@norrkoping.test")
    assert invited is not None and invited.role is Role.EDITOR and invited.office == office
    assert not invited.has_password

    (mail,) = mails_to(smtp, "sara.holm@norrkoping.test")
    assert mail["Subject"] == "You are invited to the funding tracker"
    assert SENDER in mail["From"] and mail["Content-Language"] == "en"
    text, _html = parts(mail)
    assert "Anna Admin has invited you" in text
    assert "sara.holm@norrkoping.test" in text
    assert "The link works once, until Tuesday 24 November 2026, 10:00 (Europe/Stockholm)" in text
    path = link_path(mail)

    # Before the password is chosen, nobody signs in as Sara, not even with an empty one.
    assert sign_in(mail_app.test_client(), "sara.holm@norrkoping.test", "").status_code == 401

    sara = with_csrf(mail_app.test_client())
    page = sara.get(path)
    assert page.status_code == 200
    assert "Choose your password" in text_of(page)
    response = post(sara, path, password=NEW_PASSWORD, password_again=NEW_PASSWORD)
    assert response.status_code == 302
    home = sara.get("/")
    assert home.status_code == 200 and "Sara Holm" in text_of(home)

    # The link is used up: opening it again (from any browser) says so.
    again = mail_app.test_client().get(path)
    assert again.status_code == 400
    assert "has expired or has already been used" in text_of(again)
    assert (
        post(
            mail_app.test_client(), path, password="someone else's", password_again="x"
        ).status_code
        == 400
    )
    # And the chosen password is the one that works.
    assert (
        sign_in(mail_app.test_client(), "sara.holm@norrkoping.test", NEW_PASSWORD).status_code
        == 302
    )
    actions = set(
        session.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == str(invited.id)))
    )
    assert {"user.created", "user.invited", "user.invitation_accepted"} <= actions


def test_an_invitation_expires_after_72_hours(
    mail_app: Flask, session: Session, smtp: SmtpServer, clock: FixedClock
) -> None:
    admin = admin_client(mail_app, session)
    invite(admin, "late@norrkoping.test")
    path = link_path(mails_to(smtp, "late@norrkoping.test")[0])
    clock.advance(timedelta(hours=71, minutes=59))
    # Opening the page does not use the link up (mail scanners open links too).
    assert mail_app.test_client().get(path).status_code == 200
    assert mail_app.test_client().get(path).status_code == 200
    clock.advance(timedelta(minutes=1))
    expired = mail_app.test_client().get(path)
    assert expired.status_code == 400
    assert "has expired" in text_of(expired)
    response = post(
        mail_app.test_client(), path, password=NEW_PASSWORD, password_again=NEW_PASSWORD
    )
    assert response.status_code == 400
    user = get_user_by_email(session, "late@norrkoping.test")
    assert user is not None and not user.has_password

    # The administrator sends a new one from the user's page; it works.
    response = post(admin, f"/admin/users/{user.id}/invite")
    assert response.status_code == 302
    fresh = link_path(mails_to(smtp, "late@norrkoping.test", count=2)[1])
    assert fresh != path
    assert (
        post(
            mail_app.test_client(), fresh, password=NEW_PASSWORD, password_again=NEW_PASSWORD
        ).status_code
        == 302
    )


def test_a_swedish_invitation_is_in_swedish(
    mail_app: Flask, session: Session, smtp: SmtpServer
) -> None:
    admin = admin_client(mail_app, session)
    invite(admin, "karin@norrkoping.test", display_name="Karin", language="sv")
    (mail,) = mails_to(smtp, "karin@norrkoping.test")
    assert mail["Content-Language"] == "sv"
    assert mail["Subject"] == "Du är inbjuden till Utlysningsbevakning"
    text, html = parts(mail)
    assert "Hej Karin!" in text and "Hej Karin!" in html
    assert (
        "Länken fungerar en gång, till och med tisdag 24 november 2026, 10:00 (Europe/Stockholm)"
        in text
    )
    assert "Välj ditt lösenord" in html
    words = (LINK.sub("", text) + LINK.sub("", html)).lower()
    for english in ("invited", "password", "link works"):
        assert english not in words


def test_a_link_that_was_tampered_with_is_refused(
    mail_app: Flask, session: Session, smtp: SmtpServer
) -> None:
    admin = admin_client(mail_app, session)
    invite(admin, "tamper@norrkoping.test")
    path = link_path(mails_to(smtp, "tamper@norrkoping.test")[0])
    token = path.rsplit("/", 1)[1]
    body, _, signature = token.rpartition(".")
    forged = f"{body}.{signature[:-2]}{'AA' if not signature.endswith('AA') else 'BB'}"
    assert mail_app.test_client().get(f"/account/set-password/{forged}").status_code == 400
    assert mail_app.test_client().get("/account/set-password/nonsense").status_code == 400


def test_a_weak_password_is_refused_and_the_link_still_works(
    mail_app: Flask, session: Session, smtp: SmtpServer
) -> None:
    admin = admin_client(mail_app, session)
    invite(admin, "weak@norrkoping.test")
    path = link_path(mails_to(smtp, "weak@norrkoping.test")[0])
    client = mail_app.test_client()
    response = post(client, path, password="short", password_again="short")
    assert response.status_code == 422
    assert "at least 10 characters" in text_of(response)
    response = post(client, path, password=NEW_PASSWORD, password_again="something else")
    assert response.status_code == 422
    assert "The two passwords are not the same." in text_of(response)
    assert post(client, path, password=NEW_PASSWORD, password_again=NEW_PASSWORD).status_code == 302


def test_an_invitation_that_could_not_be_sent_says_so_and_can_be_sent_again(
    mail_app: Flask, session: Session, smtp: SmtpServer
) -> None:
    smtp.handler.refuse["ghost@norrkoping.test"] = "550 5.1.1 no such mailbox"
    admin = admin_client(mail_app, session)
    response = invite(admin, "ghost@norrkoping.test")
    page = text_of(admin.get(response.headers["Location"]))
    assert "The invitation to ghost@norrkoping.test could not be sent" in page
    assert "550 5.1.1 no such mailbox" in page
    user = get_user_by_email(session, "ghost@norrkoping.test")
    assert user is not None
    assert "Invited, no password yet" in page
    del smtp.handler.refuse["ghost@norrkoping.test"]
    post(admin, f"/admin/users/{user.id}/invite")
    assert len(mails_to(smtp, "ghost@norrkoping.test")) == 1


def test_an_invitation_with_a_bad_address_keeps_what_was_typed(
    mail_app: Flask, session: Session, smtp: SmtpServer
) -> None:
    admin = admin_client(mail_app, session)
    response = invite(admin, "not-an-address", display_name="Nils")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'value="Nils"' in html and 'aria-invalid="true"' in html
    assert smtp.handler.received == []


def test_only_admins_invite(mail_app: Flask, session: Session, smtp: SmtpServer) -> None:
    editor = mail_app.test_client()
    login(editor, make_user(session, role=Role.EDITOR))
    assert invite(editor, "sneaky@norrkoping.test", role="admin").status_code == 403
    assert get_user_by_email(session, "sneaky@norrkoping.test") is None
    anonymous = with_csrf(mail_app.test_client())
    assert invite(anonymous, "sneaky@norrkoping.test").status_code == 302
    assert get_user_by_email(session, "sneaky@norrkoping.test") is None
    # And every form of these pages carries the CSRF token.
    without_token = mail_app.test_client()
    login(without_token, make_user(session, role=Role.ADMIN))
    assert (
        without_token.post("/admin/users/invite", data={"email": "x@norrkoping.test"}).status_code
        == 400
    )


# --- forgot password ------------------------------------------------------------------------


def test_forgot_password_answers_alike_and_mails_only_real_accounts(
    mail_app: Flask, session: Session, smtp: SmtpServer
) -> None:
    make_user(session, email="lena@norrkoping.test", display_name="Lena", language="en")
    answers = {}
    for email in ("nobody@norrkoping.test", "lena@norrkoping.test"):
        client = mail_app.test_client()
        response = post(client, "/account/forgot", email=email)
        assert response.status_code == 302
        answers[email] = text_of(client.get(response.headers["Location"])).replace(email, "X")
    assert answers["nobody@norrkoping.test"] == answers["lena@norrkoping.test"]
    assert (
        "If X has an account, a link to choose a new password is on its way."
        in (answers["lena@norrkoping.test"])
    )
    (mail,) = mails_to(smtp, "lena@norrkoping.test")
    assert mail["Subject"] == "Choose a new password for the funding tracker"
    assert smtp.handler.recipients_tried == ["lena@norrkoping.test"]

    # Lena is signed in on another device; the reset ends that session.
    elsewhere = mail_app.test_client()
    assert sign_in(elsewhere, "lena@norrkoping.test", TEST_PASSWORD).status_code == 302
    path = link_path(mail)
    assert "Choose a new password" in text_of(mail_app.test_client().get(path))
    lena = mail_app.test_client()
    assert post(lena, path, password=NEW_PASSWORD, password_again=NEW_PASSWORD).status_code == 302
    assert lena.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 302
    assert sign_in(mail_app.test_client(), "lena@norrkoping.test", TEST_PASSWORD).status_code == 401
    assert sign_in(mail_app.test_client(), "lena@norrkoping.test", NEW_PASSWORD).status_code == 302
    assert mail_app.test_client().get(path).status_code == 400


def test_a_reset_lifts_the_lockout_of_the_account(
    mail_app: Flask, session: Session, smtp: SmtpServer
) -> None:
    make_user(session, email="maja@norrkoping.test", language="en")
    client = mail_app.test_client()
    for _ in range(10):
        sign_in(client, "maja@norrkoping.test", "guess")
    locked = sign_in(client, "maja@norrkoping.test", TEST_PASSWORD)
    assert locked.status_code == 429
    reset_page = re.search(r'href="(/account/forgot\?email=[^"]+)"', locked.get_data(as_text=True))
    assert reset_page
    form = client.get(reset_page.group(1))
    assert 'value="maja@norrkoping.test"' in form.get_data(as_text=True)
    post(client, "/account/forgot", email="maja@norrkoping.test")
    path = link_path(mails_to(smtp, "maja@norrkoping.test")[0])
    post(mail_app.test_client(), path, password=NEW_PASSWORD, password_again=NEW_PASSWORD)
    assert sign_in(client, "maja@norrkoping.test", NEW_PASSWORD).status_code == 302


def test_a_newer_reset_link_replaces_the_older_and_the_form_cannot_flood_a_mailbox(
    mail_app: Flask, session: Session, smtp: SmtpServer
) -> None:
    make_user(session, email="nora@norrkoping.test")
    for _ in range(5):
        post(mail_app.test_client(), "/account/forgot", email="nora@norrkoping.test")
    mails = mails_to(smtp, "nora@norrkoping.test", count=3)
    time.sleep(0.3)
    assert len(smtp.handler.to("nora@norrkoping.test")) == 3
    # Only the newest link works (the mails may arrive in any order).
    statuses = sorted(mail_app.test_client().get(link_path(m)).status_code for m in mails)
    assert statuses == [200, 400, 400]


# --- changing one's own password ----------------------------------------------------------


def test_changing_the_password_needs_the_current_one_and_ends_the_other_sessions(
    app: Flask, session: Session
) -> None:
    make_user(session, email="olle@norrkoping.test", language="en")
    here, there = app.test_client(), app.test_client()
    for client in (here, there):
        assert sign_in(client, "olle@norrkoping.test", TEST_PASSWORD).status_code == 302
    page = here.get("/account/password")
    assert page.status_code == 200 and 'name="csrf_token"' in page.get_data(as_text=True)

    wrong = post(
        here,
        "/account/password",
        current_password="not it at all",
        password=NEW_PASSWORD,
        password_again=NEW_PASSWORD,
    )
    assert wrong.status_code == 422
    assert "The current password is not right." in text_of(wrong)
    assert there.get("/").status_code == 200

    changed = post(
        here,
        "/account/password",
        current_password=TEST_PASSWORD,
        password=NEW_PASSWORD,
        password_again=NEW_PASSWORD,
    )
    assert changed.status_code == 302
    assert "You are signed out everywhere else." in text_of(here.get("/"))
    assert here.get("/").status_code == 200
    assert there.get("/").status_code == 302
    assert sign_in(app.test_client(), "olle@norrkoping.test", TEST_PASSWORD).status_code == 401
    assert sign_in(app.test_client(), "olle@norrkoping.test", NEW_PASSWORD).status_code == 302


def test_guessing_the_current_password_from_a_borrowed_session_is_throttled(
    app: Flask, session: Session
) -> None:
    user = make_user(session, email="per@norrkoping.test", language="en")
    client = app.test_client()
    login(client, user)
    for _ in range(10):
        post(
            client,
            "/account/password",
            current_password="guess",
            password=NEW_PASSWORD,
            password_again=NEW_PASSWORD,
        )
    response = post(
        client,
        "/account/password",
        current_password=TEST_PASSWORD,
        password=NEW_PASSWORD,
        password_again=NEW_PASSWORD,
    )
    assert response.status_code == 429
    assert "Too many wrong passwords. Try again in 15 minutes." in text_of(response)
    session.refresh(user)
    assert verify_password(user.password_hash, TEST_PASSWORD)


# --- housekeeping ---------------------------------------------------------------------------


def test_old_password_links_are_pruned(mail_app: Flask, session: Session, smtp: SmtpServer) -> None:
    admin = admin_client(mail_app, session)
    invite(admin, "old@norrkoping.test")
    user = session.scalar(select(User).where(User.email == "old@norrkoping.test"))
    assert user is not None
    assert prune_password_links(session, now=NOW + timedelta(days=30)) == 0
    assert prune_password_links(session, now=NOW + timedelta(days=34)) == 1
    assert (
        session.scalars(select(PasswordToken).where(PasswordToken.user_id == user.id)).all() == []
    )

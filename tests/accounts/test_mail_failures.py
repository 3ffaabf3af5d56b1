"""Invitation and password-reset mails that the mail server refuses (aiosmtpd): the reset page
answers exactly as for an unknown address and does not wait for the server, and the failure is
recorded and shown to admins (banner on every page, /healthz) with the server's reason, until
a mail goes out again."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from tests.accounts.test_accounts import admin_client, invite, mails_to, post, text_of
from tests.conftest import empty_all_tables
from tests.digests.conftest import SmtpServer
from tests.factories import NOW, make_user
from tracker import web
from tracker.app import create_app
from tracker.background import BackgroundFetches
from tracker.clock import FixedClock
from tracker.config import Settings
from tracker.db import make_session_factory
from tracker.models import AuditEvent, Role
from tracker.services.account_mail import MAIL_FAILED, MAIL_SENT

REFUSAL = "550 5.7.1 relay refuses the sender"


def forgot(client: FlaskClient, email: str) -> tuple[int, str]:
    response = post(client, "/account/forgot", email=email)
    return response.status_code, text_of(client.get(response.headers["Location"]))


def test_a_refused_reset_mail_answers_like_an_unknown_address_and_warns_the_admins(
    mail_app: Flask, session: Session, smtp: SmtpServer
) -> None:
    make_user(session, email="known@norrkoping.test", language="en")
    admin = admin_client(mail_app, session)
    smtp.handler.refuse_sender = REFUSAL

    known = forgot(mail_app.test_client(), "known@norrkoping.test")
    unknown = forgot(mail_app.test_client(), "nobody@norrkoping.test")

    assert known[0] == unknown[0] == 302
    assert known[1].replace("known@", "X@") == unknown[1].replace("nobody@", "X@")
    assert smtp.handler.received == [] and len(smtp.handler.senders_tried) == 1
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == MAIL_FAILED)).one()
    assert event.details["recipient"] == "known@norrkoping.test"
    assert REFUSAL in event.details["error"]

    page = text_of(admin.get("/projects/"))
    assert "An invitation or password-reset mail could not be sent" in page
    assert "relay refuses the sender" in page
    health = mail_app.test_client().get("/healthz").get_json()
    assert health["status"] == "degraded"
    (problem,) = [p for p in health["problems"] if p["kind"] == "mail-failed"]
    assert "relay refuses the sender" in problem["reason"]
    assert "known@norrkoping.test" not in str(health)  # monitors are not told who

    # Mail goes out again: the problem is over.
    smtp.handler.refuse_sender = None
    forgot(mail_app.test_client(), "known@norrkoping.test")
    assert len(mails_to(smtp, "known@norrkoping.test")) == 1
    assert session.scalars(select(AuditEvent.action).where(AuditEvent.action == MAIL_SENT)).all()
    assert mail_app.test_client().get("/healthz").get_json()["status"] == "ok"
    assert "could not be sent" not in text_of(admin.get("/projects/"))


def test_a_refused_invitation_is_recorded_for_the_banner_too(
    mail_app: Flask, session: Session, smtp: SmtpServer
) -> None:
    smtp.handler.refuse["ghost@norrkoping.test"] = "550 5.1.1 no such mailbox"
    admin = admin_client(mail_app, session)
    response = invite(admin, "ghost@norrkoping.test")
    page = text_of(admin.get(response.headers["Location"]))
    assert "The invitation to ghost@norrkoping.test could not be sent" in page
    assert "An invitation or password-reset mail could not be sent" in page
    (problem,) = [
        p for p in admin.get("/healthz").get_json()["problems"] if p["kind"] == "mail-failed"
    ]
    assert "no such mailbox" in problem["reason"]


@pytest.fixture()
def threaded_app(
    engine: Engine, mail_settings: Settings, clock: FixedClock
) -> Iterator[tuple[Flask, sessionmaker[Session]]]:
    """The app as gunicorn runs it: background work in real threads, on its own connections."""
    factory = make_session_factory(engine)
    app = create_app(mail_settings, session_factory=factory, testing=True, clock=clock)
    state = web.app_state(app)
    app.extensions["tracker"] = dataclasses.replace(
        state, background=BackgroundFetches(clock, inline=False)
    )
    try:
        yield app, factory
    finally:
        empty_all_tables(engine)


def test_the_reset_page_does_not_wait_for_a_slow_or_refusing_mail_server(
    threaded_app: tuple[Flask, sessionmaker[Session]], smtp: SmtpServer
) -> None:
    app, factory = threaded_app
    with factory() as session:
        make_user(session, email="known@norrkoping.test", language="en")
        make_user(session, email="admin@norrkoping.test", role=Role.ADMIN, language="en")
        session.commit()
    smtp.handler.refuse_sender = REFUSAL
    smtp.handler.reply_delay = 0.0

    def timed(email: str) -> float:
        started = time.monotonic()
        assert post(app.test_client(), "/account/forgot", email=email).status_code == 302
        return time.monotonic() - started

    # A relay that takes 2 s to answer each command would show in a page that waited for it.
    original = smtp.handler.handle_MAIL

    async def slow_mail(*args: object, **kwargs: object) -> str:
        import asyncio

        await asyncio.sleep(2)
        return await original(*args, **kwargs)  # type: ignore[arg-type]

    smtp.handler.handle_MAIL = slow_mail  # type: ignore[method-assign]
    known, unknown = timed("known@norrkoping.test"), timed("nobody@norrkoping.test")
    assert known < 1.5 and unknown < 1.5, (known, unknown)

    deadline = time.monotonic() + 15
    failed: list[AuditEvent] = []
    while not failed and time.monotonic() < deadline:
        time.sleep(0.1)
        with factory() as session:
            failed = list(
                session.scalars(select(AuditEvent).where(AuditEvent.action == MAIL_FAILED))
            )
    assert len(failed) == 1 and failed[0].at == NOW

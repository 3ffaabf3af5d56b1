"""Digests that one bad address or one refusing mail server cannot stop for everyone, and list
headers that mail clients can act on. Against a real SMTP server (aiosmtpd) that refuses on
demand; the raw bytes it received are what a mail client reads."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.digests.conftest import BASE_URL, SENDER, SmtpServer
from tests.factories import NOW, login, make_call, make_office, make_user
from tests.factories.digests import make_areas, make_match, make_subscription
from tracker.config import Settings
from tracker.errors import ValidationFailed
from tracker.models import Digest, DigestStatus, DigestSubscription, Role
from tracker.services.digests import (
    retry_due_digests,
    send_weekly_digests,
    subscribe_office,
)
from tracker.services.mailer import SmtpMailer, names_recipient
from tracker.services.offices import create_office, update_office
from tracker.services.users import create_user

BROKEN_MAILBOX = "kultur@norrkoping.test\nBcc: everyone@elsewhere.test"


def _subscribers(session: Session, count: int) -> list[DigestSubscription]:
    """``count`` users with something to read this week (one call matching their area)."""
    areas = make_areas(session)
    call = make_call(session, title="Music cities", deadlines=[NOW + timedelta(days=12)])
    make_match(session, call, areas["culture-music"], 82)
    return [
        make_subscription(session, make_user(session, language="en"), language="en")
        for _ in range(count)
    ]


def _send(session_factory: sessionmaker[Session], settings: Settings) -> list[str]:
    with SmtpMailer(settings.mail) as mailer:
        return [o.status for o in send_weekly_digests(session_factory, settings, mailer, now=NOW)]


def _digests(session: Session) -> list[Digest]:
    session.expire_all()
    return list(session.scalars(select(Digest).order_by(Digest.subscription_id)))


def test_a_line_break_in_an_office_mailbox_never_stops_the_run(
    session: Session,
    session_factory: sessionmaker[Session],
    mail_settings: Settings,
    smtp: SmtpServer,
) -> None:
    first, second = _subscribers(session, 2)
    # Saved before addresses were checked (or written to the database by hand).
    office = make_office(session, slug="kultur", shared_mailbox=BROKEN_MAILBOX)
    broken = make_subscription(session, office=office, send_when_empty=True)
    last = make_subscription(session, make_user(session, language="en"), language="en")
    assert first.id < second.id < broken.id < last.id

    statuses = _send(session_factory, mail_settings)

    assert statuses == ["sent", "sent", "invalid-address", "sent"]
    expected = sorted(str(s.address) for s in (first, second, last))
    assert sorted(r.recipients[0] for r in smtp.handler.received) == expected
    assert "everyone@elsewhere.test" not in smtp.handler.recipients_tried
    session.refresh(broken)
    assert broken.is_bouncing and "is not an email address" in (broken.bounce_error or "")


def test_an_address_is_checked_when_it_is_saved(session: Session) -> None:
    office = create_office(session, "utb", name_sv="Utbildning", name_en="Education", now=NOW)
    admin = make_user(session, Role.ADMIN)
    for n, bad in enumerate((BROKEN_MAILBOX, "utb@norrkoping.test\r\nX: y", "utb @x.test")):
        with pytest.raises(ValidationFailed):
            create_office(session, f"x-{n}", name_sv="X", name_en="", now=NOW, shared_mailbox=bad)
        with pytest.raises(ValidationFailed):
            update_office(
                session,
                office,
                name_sv="Utbildning",
                name_en="",
                shared_mailbox=bad,
                is_active=True,
                actor=admin,
                now=NOW,
            )
        with pytest.raises(ValidationFailed):
            subscribe_office(session, office, now=NOW, mailbox=bad)
        with pytest.raises(ValidationFailed):
            create_user(session, bad, password="a long enough password", role=Role.EDITOR, now=NOW)
    assert office.shared_mailbox is None
    # A line break at the end (a paste) is trimmed, never stored.
    update_office(
        session,
        office,
        name_sv="Utbildning",
        name_en="",
        shared_mailbox="utb@norrkoping.test\n",
        is_active=True,
        actor=admin,
        now=NOW,
    )
    assert office.shared_mailbox == "utb@norrkoping.test"


def test_a_refused_sender_stops_the_run_once_and_tells_the_admin(
    session: Session,
    session_factory: sessionmaker[Session],
    mail_settings: Settings,
    smtp: SmtpServer,
    mail_client: FlaskClient,
) -> None:
    subscriptions = _subscribers(session, 3)
    smtp.handler.refuse_sender = "550 5.7.1 Sender address rejected: not owned by user"

    statuses = _send(session_factory, mail_settings)

    assert statuses == ["held", "held", "held"]
    assert len(smtp.handler.senders_tried) == 1  # asked once, not once per subscriber
    for subscription in subscriptions:
        session.refresh(subscription)
        assert not subscription.is_bouncing
    digests = _digests(session)
    assert len(digests) == 3  # every digest is stored, none lost
    assert all(d.status in (DigestStatus.FAILED_TEMPORARY, DigestStatus.PENDING) for d in digests)

    login(mail_client, make_user(session, Role.ADMIN, language="en"))
    page = mail_client.get("/admin/digests").get_data(as_text=True)
    assert "The mail server refuses our digests" in page
    assert "Sender address rejected" in page and "3 digests are held" in page

    # The relay is fixed: the retry pass sends all three, and the notice goes away.
    smtp.handler.refuse_sender = None
    with SmtpMailer(mail_settings.mail) as mailer:
        retried = retry_due_digests(
            session_factory, mail_settings, mailer, now=NOW + timedelta(hours=1)
        )
    assert [o.status for o in retried] == ["sent", "sent", "sent"]
    assert len(smtp.handler.received) == 3
    page = mail_client.get("/admin/digests").get_data(as_text=True)
    assert "The mail server refuses our digests" not in page


@pytest.mark.parametrize(
    ("refusal", "where"),
    [
        ("554 5.7.1 <{address}>: Relay access denied", "rcpt"),
        ("550 5.7.1 Message rejected as spam by content filter", "data"),
    ],
    ids=["relay-denied-at-rcpt", "data-refused"],
)
def test_a_refusal_of_the_session_flags_nobody(
    session: Session,
    session_factory: sessionmaker[Session],
    mail_settings: Settings,
    smtp: SmtpServer,
    refusal: str,
    where: str,
) -> None:
    subscriptions = _subscribers(session, 3)
    if where == "rcpt":
        smtp.handler.refuse_every_recipient = refusal
    else:
        smtp.handler.fail_next = [refusal] * 3

    assert _send(session_factory, mail_settings) == ["held", "held", "held"]
    assert len(smtp.handler.recipients_tried) == 1
    for subscription in subscriptions:
        session.refresh(subscription)
        assert subscription.bounced_address is None


def test_a_refusal_naming_the_recipient_flags_that_address_only(
    session: Session,
    session_factory: sessionmaker[Session],
    mail_settings: Settings,
    smtp: SmtpServer,
) -> None:
    gone, kept = _subscribers(session, 2)
    assert gone.address is not None
    smtp.handler.refuse[gone.address] = (
        f"550 5.1.1 <{gone.address}>: Recipient address rejected: User unknown"
    )

    assert _send(session_factory, mail_settings) == ["failed_permanent", "sent"]
    session.refresh(gone)
    session.refresh(kept)
    assert gone.is_bouncing and not kept.is_bouncing


@pytest.mark.parametrize(
    ("stage", "reply", "recipient_at_fault"),
    [
        ("RCPT TO", "550 5.1.1 <a@x.se>: Recipient address rejected: User unknown", True),
        ("RCPT TO", "552 5.2.2 Mailbox full", True),
        ("RCPT TO", "550 No such user here", True),
        ("RCPT TO", "554 5.7.1 <a@x.se>: Relay access denied", False),
        ("RCPT TO", "550 Relaying denied, authenticate first", False),
        ("end of DATA", "554 5.6.0 Message content rejected", False),
        ("end of DATA", "550 <a@x.se> mailbox unavailable", True),
        ("end of DATA", "554 Transaction failed", False),
    ],
)
def test_which_refusals_name_the_recipient(
    stage: str, reply: str, recipient_at_fault: bool
) -> None:
    code, text = reply.split(" ", 1)
    assert names_recipient(stage, int(code), text, "a@x.se") is recipient_at_fault


def _raw_headers(data: bytes) -> bytes:
    return data.split(b"\r\n\r\n", 1)[0] + b"\r\n"


def test_list_headers_are_written_raw_and_the_language_is_kept(
    session: Session,
    session_factory: sessionmaker[Session],
    mail_settings: Settings,
    smtp: SmtpServer,
) -> None:
    (subscription,) = _subscribers(session, 1)

    assert _send(session_factory, mail_settings) == ["sent"]

    [received] = smtp.handler.received
    headers = _raw_headers(received.data)
    unsubscribe = re.search(rb"\r\nList-Unsubscribe: (.*?)\r\n(?! )", headers, re.DOTALL)
    assert unsubscribe is not None
    value = unsubscribe.group(1)
    assert b"=?" not in value  # never an RFC 2047 encoded word
    # Each URI whole, in angle brackets, the line folded after the comma.
    assert re.fullmatch(
        rb"<" + re.escape(BASE_URL.encode()) + rb"/digest/unsubscribe/[\w.-]+>,\r\n "
        rb"<mailto:" + re.escape(SENDER.encode()) + rb"\?subject=unsubscribe%20\d+>",
        value,
    ), value
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in headers
    assert b"\r\nContent-Language: en\r\n" in headers  # on the message, not only a part
    assert subscription.address is not None
    assert received.message["Content-Language"] == "en"

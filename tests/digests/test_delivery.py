"""Digests delivered to a real SMTP server (aiosmtpd on 127.0.0.1): the message, and the
promise that each subscriber gets at most one digest a week while none is silently lost."""

from __future__ import annotations

import html
import re
import threading
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import empty_all_tables
from tests.digests.conftest import BASE_URL, SENDER, SmtpServer, free_port
from tests.factories import NOW, make_call, make_user
from tests.factories.digests import make_areas, make_match, make_subscription
from tracker.config import Settings
from tracker.db import make_session_factory
from tracker.errors import ValidationFailed
from tracker.models import Digest, DigestStatus, DigestSubscription, FundingCall, User
from tracker.services.digests import delivery as service
from tracker.services.digests import (
    iso_week,
    parse_iso_week,
    resend_digest,
    retry_due_digests,
    send_weekly_digests,
    unconfirmed_digests,
)
from tracker.services.mailer import SmtpMailer

WEEK = "2026-W47"  # the week of NOW


class SimulatedCrash(BaseException):
    """Stands for the process dying at a chosen point (a BaseException, as SystemExit is: a
    run goes on past any ordinary error of one subscriber, never past its own death)."""


def _subscriber(
    session: Session, language: str = "en", **overrides: Any
) -> tuple[DigestSubscription, FundingCall]:
    areas = make_areas(session)
    user = make_user(session, language=language)
    call = make_call(session, title="Music cities", deadlines=[NOW + timedelta(days=12)])
    make_match(session, call, areas["culture-music"], 82)
    return make_subscription(session, user, language=language, **overrides), call


def _send(
    session_factory: sessionmaker[Session], settings: Settings, now: datetime = NOW
) -> list[service.DigestOutcome]:
    with SmtpMailer(settings.mail) as mailer:
        return send_weekly_digests(session_factory, settings, mailer, now=now)


def _retry(
    session_factory: sessionmaker[Session], settings: Settings, now: datetime
) -> list[service.DigestOutcome]:
    with SmtpMailer(settings.mail) as mailer:
        return retry_due_digests(session_factory, settings, mailer, now=now)


def _digest(session: Session, subscription: DigestSubscription) -> Digest:
    session.expire_all()
    return session.scalars(select(Digest).where(Digest.subscription_id == subscription.id)).one()


def test_the_message_is_multipart_alternative_with_list_headers(
    session: Session,
    session_factory: sessionmaker[Session],
    mail_settings: Settings,
    smtp: SmtpServer,
) -> None:
    sub, _call = _subscriber(session)
    address = sub.address
    assert address is not None

    outcomes = _send(session_factory, mail_settings)

    assert [o.status for o in outcomes] == ["sent"]
    [received] = smtp.handler.received
    assert received.sender == SENDER and received.recipients == [address]
    message = received.message
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]  # the last part is the preferred one
    assert all(part.get_content_charset() == "utf-8" for part in message.iter_parts())
    assert message["Subject"] == "Funding digest, week 47: 1 new match"
    assert message["To"] == address
    assert message["From"] == f"Funding tracker <{SENDER}>"
    assert message["Date"]
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = re.findall(r"<([^>]+)>", message["List-Unsubscribe"])
    assert unsubscribe[0].startswith(f"{BASE_URL}/digest/unsubscribe/")
    assert unsubscribe[1].startswith(f"mailto:{SENDER}?subject=")
    digest = _digest(session, sub)
    assert message["Message-ID"] == digest.message_id
    assert (digest.status, digest.attempts, digest.iso_week) == (DigestStatus.SENT, 1, WEEK)
    assert digest.sent_at == NOW
    # Every digest's content is stored as sent.
    text = message.get_body(("plain",))
    html_part = message.get_body(("html",))
    assert text is not None and html_part is not None
    assert text.get_content().replace("\r\n", "\n") == digest.text_body
    assert html_part.get_content().replace("\r\n", "\n") == digest.html_body
    # Outlook ignores <style> blocks and external CSS: the styles are inline, on tables.
    body = digest.html_body
    assert "<style" not in body and "<link" not in body
    assert 'role="presentation"' in body and 'style="' in body
    session.refresh(sub)
    assert sub.last_sent_at == NOW and sub.last_digest_week == WEEK


def test_every_link_starts_with_the_base_url_or_is_the_official_page(
    session: Session,
    session_factory: sessionmaker[Session],
    mail_settings: Settings,
    smtp: SmtpServer,
) -> None:
    _sub, call = _subscriber(session)

    _send(session_factory, mail_settings)

    message = smtp.handler.received[0].message
    html_part, text_part = message.get_body(("html",)), message.get_body(("plain",))
    assert html_part is not None and text_part is not None
    hrefs = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', html_part.get_content())]
    urls = re.findall(r"https?://\S+", text_part.get_content())
    assert len(hrefs) >= 5 and len(urls) >= 4
    for link in hrefs + urls:
        assert link.startswith(f"{BASE_URL}/") or link == call.url, link
    assert f"{BASE_URL}/calls/{call.id}" in hrefs
    assert any(link.startswith(f"{BASE_URL}/digest/not-relevant/") for link in hrefs)


def test_nothing_to_say_means_no_mail_unless_asked_for(
    session: Session,
    session_factory: sessionmaker[Session],
    mail_settings: Settings,
    smtp: SmtpServer,
) -> None:
    make_areas(session)
    quiet = make_subscription(session, make_user(session, language="en"))
    wants_it = make_subscription(session, make_user(session, language="en"), send_when_empty=True)
    wants_address = wants_it.address

    outcomes = _send(session_factory, mail_settings)

    assert {o.subscription_id: o.status for o in outcomes} == {
        quiet.id: "empty",
        wants_it.id: "sent",
    }
    [received] = smtp.handler.received
    assert received.recipients == [wants_address]
    assert received.message["Subject"] == "Funding digest, week 47: nothing new"
    body = received.message.get_body(("plain",))
    assert body is not None and "Nothing new this week" in body.get_content()


def test_a_second_run_in_the_same_week_sends_nothing(
    session: Session,
    session_factory: sessionmaker[Session],
    mail_settings: Settings,
    smtp: SmtpServer,
) -> None:
    _subscriber(session)

    first = _send(session_factory, mail_settings)
    second = _send(session_factory, mail_settings, now=NOW + timedelta(hours=3))

    assert [o.status for o in first] == ["sent"]
    assert [o.status for o in second] == ["already-sent"]
    assert len(smtp.handler.received) == 1
    # The next week is a new digest.
    third = _send(session_factory, mail_settings, now=NOW + timedelta(days=7))
    assert [o.week for o in third] == ["2026-W48"]


def test_exactly_once_across_two_concurrent_runs(
    engine: Engine, mail_settings: Settings, smtp: SmtpServer
) -> None:
    """Two schedulers on separate connections race over the same subscribers."""
    factory = make_session_factory(engine)
    try:
        with factory() as session:
            areas = make_areas(session)
            call = make_call(session, deadlines=[NOW + timedelta(days=12)])
            make_match(session, call, areas["culture-music"])
            addresses = [
                make_user(session, email=f"racer{i}@norrkoping.test", language="en").email
                for i in range(8)
            ]
            for user in session.scalars(select(User)):
                make_subscription(session, user)
            session.commit()
        barrier = threading.Barrier(2)
        results: list[list[service.DigestOutcome]] = []
        errors: list[BaseException] = []

        def run() -> None:
            try:
                barrier.wait()
                results.append(_send(factory, mail_settings))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        assert errors == []
        recipients = sorted(r for m in smtp.handler.received for r in m.recipients)
        assert recipients == sorted(addresses)
        sent = [o for outcomes in results for o in outcomes if o.status == "sent"]
        assert len(sent) == len(addresses)
        with factory() as session:
            assert session.scalar(select(func.count()).select_from(Digest)) == len(addresses)
    finally:
        empty_all_tables(engine)


def test_a_crash_between_sending_and_recording_never_sends_twice(
    session: Session,
    session_factory: sessionmaker[Session],
    mail_settings: Settings,
    smtp: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sub, _call = _subscriber(session)

    def crash(*args: object, **kwargs: object) -> None:
        raise SimulatedCrash

    with monkeypatch.context() as patch:
        patch.setattr(service, "record_sent", crash)
        with pytest.raises(SimulatedCrash):
            _send(session_factory, mail_settings)
    assert len(smtp.handler.received) == 1

    # Restarted schedulers: this week's run again, and retry passes until well after.
    again = _send(session_factory, mail_settings, now=NOW + timedelta(minutes=30))
    assert [o.status for o in again] == ["already-sending"]
    for minutes in (10, 60, 600):
        assert _retry(session_factory, mail_settings, NOW + timedelta(minutes=minutes)) == []
    assert len(smtp.handler.received) == 1

    # Admins see it as unconfirmed and may resend the stored digest on purpose.
    later = NOW + timedelta(hours=1)
    [unconfirmed] = unconfirmed_digests(session, now=later)
    assert unconfirmed.subscription_id == sub.id and unconfirmed.status == DigestStatus.SENDING
    with SmtpMailer(mail_settings.mail) as mailer:
        outcome = resend_digest(
            session_factory, mail_settings, mailer, unconfirmed.id, now=later, actor=None
        )
    assert outcome.status == "sent"
    first, second = smtp.handler.received
    assert first.message["Message-ID"] == second.message["Message-ID"]
    for kind in ("plain", "html"):
        before, after = first.message.get_body((kind,)), second.message.get_body((kind,))
        assert before is not None and after is not None
        assert before.get_content() == after.get_content()


def test_a_crash_after_the_claim_is_sent_by_the_retry_pass(
    session: Session,
    session_factory: sessionmaker[Session],
    mail_settings: Settings,
    smtp: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sub, _call = _subscriber(session)

    def crash(*args: object, **kwargs: object) -> None:
        raise SimulatedCrash

    with monkeypatch.context() as patch:
        patch.setattr(service, "_attempt", crash)
        with pytest.raises(SimulatedCrash):
            _send(session_factory, mail_settings)
    assert smtp.handler.received == []
    assert _digest(session, sub).status == DigestStatus.PENDING

    outcomes = _retry(session_factory, mail_settings, NOW + timedelta(minutes=5))

    assert [o.status for o in outcomes] == ["sent"]
    assert len(smtp.handler.received) == 1
    assert _send(session_factory, mail_settings)[0].status == "already-sent"
    assert len(smtp.handler.received) == 1


def test_a_4xx_reply_is_retried_with_backoff(
    session: Session,
    session_factory: sessionmaker[Session],
    mail_settings: Settings,
    smtp: SmtpServer,
) -> None:
    sub, _call = _subscriber(session)
    smtp.handler.fail_next = ["451 4.3.0 mailbox busy, try later", "421 4.7.0 try later"]

    assert [o.status for o in _send(session_factory, mail_settings)] == ["failed_temporary"]
    digest = _digest(session, sub)
    assert digest.attempts == 1 and "451" in (digest.error or "")
    assert digest.next_attempt_at == NOW + timedelta(minutes=5)

    # Not due yet: nothing happens.
    assert _retry(session_factory, mail_settings, NOW + timedelta(minutes=1)) == []
    # Due: fails again, the wait doubles.
    retried = _retry(session_factory, mail_settings, NOW + timedelta(minutes=6))
    assert [o.status for o in retried] == ["failed_temporary"]
    digest = _digest(session, sub)
    assert digest.next_attempt_at == NOW + timedelta(minutes=6 + 10)
    # Third time lucky.
    retried = _retry(session_factory, mail_settings, NOW + timedelta(minutes=20))
    assert [o.status for o in retried] == ["sent"]
    digest = _digest(session, sub)
    assert (digest.status, digest.attempts, digest.error) == (DigestStatus.SENT, 3, None)
    assert len(smtp.handler.received) == 1


def test_connection_refused_is_temporary(
    session: Session,
    session_factory: sessionmaker[Session],
    mail_settings: Settings,
    smtp: SmtpServer,
) -> None:
    sub, _call = _subscriber(session)
    down = replace(mail_settings, mail=replace(mail_settings.mail, port=free_port()))

    assert [o.status for o in _send(session_factory, down)] == ["failed_temporary"]
    assert "connecting to 127.0.0.1" in (_digest(session, sub).error or "")

    retried = _retry(session_factory, mail_settings, NOW + timedelta(minutes=5))
    assert [o.status for o in retried] == ["sent"]
    assert len(smtp.handler.received) == 1


def test_temporary_failures_end_after_max_attempts(
    session: Session,
    session_factory: sessionmaker[Session],
    mail_settings: Settings,
    smtp: SmtpServer,
) -> None:
    sub, _call = _subscriber(session)
    settings = replace(mail_settings, digest=replace(mail_settings.digest, max_attempts=2))
    smtp.handler.fail_next = ["452 4.2.2 mailbox full"] * 5

    _send(session_factory, settings)
    outcomes = _retry(session_factory, settings, NOW + timedelta(hours=1))

    assert [o.status for o in outcomes] == ["failed_permanent"]
    digest = _digest(session, sub)
    assert digest.attempts == 2 and (digest.error or "").startswith("gave up after 2 attempts")
    assert _retry(session_factory, settings, NOW + timedelta(days=1)) == []
    # A full mailbox is not a dead address: nothing is flagged.
    session.refresh(sub)
    assert sub.bounced_address is None


def test_a_5xx_reply_flags_the_address_and_stops(
    session: Session,
    session_factory: sessionmaker[Session],
    mail_settings: Settings,
    smtp: SmtpServer,
) -> None:
    sub, _call = _subscriber(session, send_when_empty=True)
    address = sub.address
    assert address is not None
    smtp.handler.refuse[address] = "550 5.1.1 no such user"

    assert [o.status for o in _send(session_factory, mail_settings)] == ["failed_permanent"]
    digest = _digest(session, sub)
    assert digest.attempts == 1 and "550" in (digest.error or "")
    session.refresh(sub)
    assert sub.is_bouncing and sub.bounced_at == NOW and "550" in (sub.bounce_error or "")

    assert _retry(session_factory, mail_settings, NOW + timedelta(days=1)) == []
    # Next week's digest is built and stored, but not offered to the refusing server.
    next_week = _send(session_factory, mail_settings, now=NOW + timedelta(days=7))
    assert [o.status for o in next_week] == ["failed_permanent"]
    assert "refused mail since" in (next_week[0].error or "")
    assert smtp.handler.recipients_tried == [address]
    assert smtp.handler.received == []


def test_a_lost_reply_after_the_message_is_never_resent_automatically(
    session: Session,
    session_factory: sessionmaker[Session],
    mail_settings: Settings,
    smtp: SmtpServer,
) -> None:
    sub, _call = _subscriber(session)
    smtp.handler.reply_delay = 1.5
    impatient = replace(mail_settings, mail=replace(mail_settings.mail, timeout_seconds=0.5))

    outcomes = _send(session_factory, impatient)

    assert [o.status for o in outcomes] == ["unconfirmed"]
    digest = _digest(session, sub)
    assert digest.status == DigestStatus.SENDING
    assert "delivery unconfirmed" in (digest.error or "")
    smtp.handler.reply_delay = 0
    assert _retry(session_factory, mail_settings, NOW + timedelta(hours=2)) == []
    assert len(smtp.handler.received) == 1  # the server did accept it


def test_iso_week_is_the_local_week() -> None:
    tz = ZoneInfo("Europe/Stockholm")
    # Sunday 23:30 UTC is already Monday in Stockholm.
    sunday_evening = NOW.replace(day=22, hour=23, minute=30)
    assert iso_week(sunday_evening, tz) == "2026-W48"
    assert iso_week(NOW, tz) == WEEK
    assert parse_iso_week(" 2026-w48 ") == "2026-W48"
    with pytest.raises(ValidationFailed):
        parse_iso_week("2026-W54")


def test_a_sender_with_a_display_name(
    session: Session,
    session_factory: sessionmaker[Session],
    mail_settings: Settings,
    smtp: SmtpServer,
) -> None:
    _subscriber(session)
    named = replace(
        mail_settings, mail=replace(mail_settings.mail, sender=f"Norrköpings kommun <{SENDER}>")
    )

    _send(session_factory, named)

    [received] = smtp.handler.received
    assert received.sender == SENDER
    assert received.message["From"] == f"Norrköpings kommun <{SENDER}>"
    assert received.message["Message-ID"].endswith("@norrkoping.test>")

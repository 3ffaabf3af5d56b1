"""``tracker digest ...`` against the test database and the local SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.conftest import TrackerCli
from tests.digests.conftest import BASE_URL, SENDER, SmtpServer
from tests.factories import NOW, make_call, make_office, make_user
from tests.factories.digests import make_areas, make_match
from tracker.db import make_session_factory
from tracker.models import Digest, DigestSubscription


@pytest.fixture()
def cli_mail(monkeypatch: pytest.MonkeyPatch, smtp: SmtpServer) -> SmtpServer:
    """Point the CLI's mail settings at the test SMTP server, as an operator would."""
    monkeypatch.setenv("TRACKER_MAIL_HOST", "127.0.0.1")
    monkeypatch.setenv("TRACKER_MAIL_PORT", str(smtp.port))
    monkeypatch.setenv("TRACKER_MAIL_SENDER", SENDER)
    monkeypatch.setenv("TRACKER_MAIL_BASE_URL", BASE_URL)
    return smtp


@pytest.fixture()
def committed(engine: Engine, runner: TrackerCli) -> Iterator[Session]:
    """A session whose commits are real, as the CLI runs in its own process state; the
    runner fixture empties the tables afterwards."""
    with make_session_factory(engine)() as session:
        yield session


def _news(session: Session, *emails: str) -> None:
    areas = make_areas(session)
    now = NOW
    call = make_call(session, title="Music cities", deadlines=[now + timedelta(days=12)])
    make_match(session, call, areas["culture-music"], 80, matched_at=now - timedelta(hours=1))
    for email in emails:
        make_user(session, email=email, language="en")
    session.commit()


def test_subscribe_unsubscribe_and_list(runner: TrackerCli, committed: Session) -> None:
    _news(committed, "anna@norrkoping.test")
    make_office(committed, slug="kultur", shared_mailbox="kultur@norrkoping.test")
    committed.commit()

    result = runner(
        "digest", "subscribe", "Anna@Norrkoping.test", "--areas", "culture-music",
        "--min-score", "70", "--language", "sv",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "subscribed anna@norrkoping.test: areas culture-music" in result.output
    assert "min score 70" in result.output and "language sv" in result.output
    assert runner("digest", "subscribe", "kultur@norrkoping.test").exit_code == 0

    listed = runner("digest", "list").output
    assert "anna@norrkoping.test" in listed and "kultur@norrkoping.test" in listed

    assert runner("digest", "unsubscribe", "anna@norrkoping.test").exit_code == 0
    committed.rollback()  # a new transaction sees what the CLI committed
    subs = {s.address: s.is_active for s in committed.scalars(select(DigestSubscription))}
    assert subs == {"anna@norrkoping.test": False, "kultur@norrkoping.test": True}


def test_mistakes_are_one_line_and_exit_1(runner: TrackerCli, committed: Session) -> None:
    _news(committed, "anna@norrkoping.test")

    unknown = runner("digest", "subscribe", "nobody@norrkoping.test")
    assert unknown.exit_code == 1
    assert unknown.output.strip() == (
        "Error: no user or office mailbox with address nobody@norrkoping.test"
    )
    bad_area = runner("digest", "subscribe", "anna@norrkoping.test", "--areas", "space")
    assert bad_area.exit_code == 1 and "unknown focus areas: space" in bad_area.output
    bad_week = runner("digest", "send", "--week", "2026-W60")
    assert bad_week.exit_code == 1 and "is not an ISO week" in bad_week.output
    bad_score = runner("digest", "subscribe", "anna@norrkoping.test", "--min-score", "101")
    assert bad_score.exit_code == 2


def test_send_dry_run_to_and_week(
    runner: TrackerCli, committed: Session, cli_mail: SmtpServer
) -> None:
    _news(committed, "anna@norrkoping.test", "bo@norrkoping.test")
    for email in ("anna@norrkoping.test", "bo@norrkoping.test"):
        assert runner("digest", "subscribe", email).exit_code == 0

    dry = runner("digest", "send", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.output.count("dry-run") == 2 and "new=1" in dry.output
    assert cli_mail.handler.received == []
    assert committed.scalars(select(Digest)).first() is None

    only = runner("digest", "send", "--to", "bo@norrkoping.test", "--week", "2026-w48")
    assert only.exit_code == 0, only.output
    assert "1 subscribers, 1 sent, 0 failed" in only.output
    assert [m.recipients for m in cli_mail.handler.received] == [["bo@norrkoping.test"]]
    committed.rollback()  # a new transaction sees what the CLI committed
    assert [d.iso_week for d in committed.scalars(select(Digest))] == ["2026-W48"]

    preview = runner("digest", "preview", "anna@norrkoping.test")
    assert preview.exit_code == 0
    assert "Subject: Funding digest, week" in preview.output and "* Music cities" in preview.output
    assert len(cli_mail.handler.received) == 1


def test_send_exits_1_when_a_digest_fails(
    runner: TrackerCli, committed: Session, cli_mail: SmtpServer
) -> None:
    _news(committed, "anna@norrkoping.test")
    runner("digest", "subscribe", "anna@norrkoping.test")
    cli_mail.handler.refuse["anna@norrkoping.test"] = "550 5.1.1 no such user"

    result = runner("digest", "send")

    assert result.exit_code == 1
    assert "failed_permanent" in result.output and "550 5.1.1" in result.output

"""The weekly job and the retry pass: their schedule from ``[digest]`` and what they do."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jobs import JOBS, JobContext
from jobs.runtime import make_trigger
from tests.digests.conftest import SmtpServer
from tests.factories import NOW, make_call, make_user
from tests.factories.digests import make_areas, make_match, make_subscription
from tracker.config import ConfigError, Settings, load_settings
from tracker.models import Digest, DigestStatus

SPECS = {spec.name: spec for spec in JOBS}


def test_the_digest_goes_out_on_monday_at_seven_stockholm_time(settings: Settings) -> None:
    trigger = make_trigger(SPECS["weekly-digest"], settings)
    friday = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, friday) == datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    # Summer time: 07:00 in Stockholm is 05:00 UTC.
    june = datetime(2026, 6, 5, 12, 0, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, june) == datetime(2026, 6, 8, 5, 0, tzinfo=UTC)

    custom = replace(settings, digest=replace(settings.digest, cron="30 6 * * tue"))
    trigger = make_trigger(SPECS["weekly-digest"], custom)
    assert trigger.get_next_fire_time(None, friday) == datetime(2026, 11, 24, 5, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("0 7 * * 1", "day of the week as a name"),
        ("every monday", "five crontab fields"),
        ("0 7 * *", "five crontab fields"),
    ],
)
def test_a_bad_schedule_stops_start_up(tmp_path: Path, cron: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[digest]\ncron = "{cron}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=f"digest.cron: .*{message}"):
        load_settings(path, environ={})


def test_digest_settings_come_from_the_environment_too(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("", encoding="utf-8")
    settings = load_settings(
        path, environ={"TRACKER_DIGEST_CRON": "0 6 * * fri", "TRACKER_DIGEST_MAX_ATTEMPTS": "3"}
    )
    assert (settings.digest.cron, settings.digest.max_attempts) == ("0 6 * * fri", 3)
    with pytest.raises(ConfigError, match="TRACKER_DIGEST_MAX_ATTEMPTS"):
        load_settings(path, environ={"TRACKER_DIGEST_MAX_ATTEMPTS": "often"})


def test_the_jobs_send_the_week_of_their_fire_time_and_retry(
    session: Session,
    session_factory: sessionmaker[Session],
    mail_settings: Settings,
    smtp: SmtpServer,
) -> None:
    areas = make_areas(session)
    call = make_call(session, deadlines=[NOW + timedelta(days=12)])
    make_match(session, call, areas["culture-music"])
    sub = make_subscription(session, make_user(session, language="en"))
    smtp.handler.fail_next = ["451 4.3.0 try later"]
    monday = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)

    SPECS["weekly-digest"].run(
        JobContext(mail_settings, session_factory, monday, lambda: monday + timedelta(seconds=3))
    )
    session.expire_all()
    digest = session.scalars(select(Digest).where(Digest.subscription_id == sub.id)).one()
    assert (digest.iso_week, digest.status) == ("2026-W48", DigestStatus.FAILED_TEMPORARY)

    later = monday + timedelta(minutes=10)
    SPECS["digest-retry"].run(JobContext(mail_settings, session_factory, later, lambda: later))
    session.expire_all()
    assert session.get(Digest, digest.id).status == DigestStatus.SENT  # type: ignore[union-attr]
    assert len(smtp.handler.received) == 1

    # With digests switched off the job does nothing.
    off = replace(mail_settings, digest=replace(mail_settings.digest, enabled=False))
    next_monday = monday + timedelta(days=7)
    SPECS["weekly-digest"].run(JobContext(off, session_factory, next_monday, lambda: next_monday))
    assert len(smtp.handler.received) == 1

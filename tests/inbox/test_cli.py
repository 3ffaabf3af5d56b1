"""The review workspace's command: a user's calendar feed address."""

from __future__ import annotations

import re

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from tests.conftest import TrackerCli
from tests.factories import make_profile
from tests.factories.inbox import make_matched_call
from tracker.models import CatalogueEntry, InboxEntry


def test_cli_prints_the_feed_address(runner: TrackerCli) -> None:
    result = runner("users", "add", "gun@norrkoping.test", "--role", "viewer")
    assert result.exit_code == 0
    result = runner("users", "ical-url", "Gun@Norrkoping.test")
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"http://127\.0\.0\.1:5000/calendar/[\w-]{20,}\.ics\n", result.output)
    missing = runner("users", "ical-url", "nobody@norrkoping.test")
    assert missing.exit_code == 1 and "no user with email" in missing.output


def test_inbox_refresh_rebuilds_the_entries(runner: TrackerCli, engine: Engine) -> None:
    with Session(engine) as session:
        make_profile(session)
        make_matched_call(session, {"education": 70})
        make_matched_call(session, {"education": 20})
        session.execute(delete(InboxEntry))
        session.execute(delete(CatalogueEntry))
        session.commit()
    result = runner("inbox", "refresh")
    assert result.exit_code == 0, result.output
    assert result.output == "1 calls in the inbox, 2 in the catalogue\n"
    with Session(engine) as session:
        assert len(session.scalars(select(InboxEntry)).all()) == 1
        assert len(session.scalars(select(CatalogueEntry)).all()) == 2

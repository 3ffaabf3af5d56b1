"""One deadline, five outputs: the inbox row, the call page, the digest, the CSV/xlsx export
and the iCal feed say the same moment, for a Funding & Tenders deadline given as a day (17:00
Brussels time), a deadline with an explicit time, and another source's day (a date)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import icalendar
import openpyxl
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import NOW, login, make_profile, make_source, make_user
from tests.factories.digests import make_subscription
from tests.factories.inbox import area
from tracker.app import create_app
from tracker.clock import FixedClock
from tracker.config import Settings
from tracker.feeds.records import CallRecord, Deadline, SourceKind
from tracker.models import CallMatch, CallSourceLink, FundingCall, Role, User
from tracker.services import inbox as review
from tracker.services.digests import preview_digest
from tracker.services.inbox import refresh_inbox_entries
from tracker.services.ingest import upsert_calls

STOCKHOLM = ZoneInfo("Europe/Stockholm")
# 17:00 in Brussels (and Stockholm) on 17 February 2027 is 16:00 UTC.
PORTAL_DAY = datetime(2027, 2, 17, 16, 0, tzinfo=UTC)
TIMED = datetime(2027, 3, 3, 13, 30, tzinfo=UTC)  # 14:30 in Stockholm
OTHER_DAY = date(2027, 1, 29)


def _ingest(session: Session, kind: SourceKind, title: str, deadline: Deadline) -> FundingCall:
    source = make_source(session, kind=kind)
    record = CallRecord(
        source_kind=kind,
        external_id=title,
        title=title,
        url=f"https://example.org/{title.replace(' ', '-')}",
        deadlines=(deadline,),
    )
    upsert_calls(session, source, [record], now=NOW, complete=False)
    call_id = session.scalar(
        select(CallSourceLink.call_id).where(CallSourceLink.external_id == title)
    )
    call = session.get(FundingCall, call_id)
    assert call is not None
    session.add(
        CallMatch(
            call_id=call.id,
            focus_area_id=area(session, "education").id,
            score=80,
            is_match=True,
            evidence=[{"kind": "term", "text": "schools", "weight": 3.0}],
            matched_at=NOW,
        )
    )
    session.flush()
    refresh_inbox_entries(session, [call.id], now=NOW)
    return call


@pytest.fixture()
def calls(session: Session) -> dict[str, FundingCall]:
    make_profile(session)
    midnight = datetime(2027, 2, 17, tzinfo=UTC)  # as the search API gives a day
    return {
        "portal": _ingest(
            session, SourceKind.FT_SEARCH, "Portal day", Deadline(midnight, date_only=True)
        ),
        "timed": _ingest(session, SourceKind.FT_SEARCH, "Explicit time", Deadline(TIMED)),
        "day": _ingest(
            session,
            SourceKind.RSS,
            "Feed day",
            Deadline(datetime(2027, 1, 29, tzinfo=UTC), date_only=True),
        ),
    }


@pytest.fixture()
def reader(session: Session, client: FlaskClient) -> User:
    user = make_user(session, role=Role.VIEWER, language="en")
    login(client, user)
    return user


def _time_element(page: str, title: str) -> tuple[str, str]:
    """The (datetime attribute, text) of the first deadline shown after ``title``."""
    found = re.search(
        re.escape(title) + r'.*?<time datetime="([^"]+)">([^<]+)</time>', page, re.DOTALL
    )
    assert found, title
    return found.group(1), found.group(2).strip()


EXPECTED_TEXT = {
    "portal": "17 Feb 2027 17:00",
    "timed": "3 Mar 2027 14:30",
    "day": "29 Jan 2027",
}


def test_the_same_deadline_in_the_inbox_call_page_digest_exports_and_calendar(
    session: Session,
    client: FlaskClient,
    settings: Settings,
    calls: dict[str, FundingCall],
    reader: User,
) -> None:
    inbox = client.get("/calls?status=all").get_data(as_text=True)
    csv_rows = {
        row[2]: row
        for row in csv.reader(io.StringIO(client.get("/calls/export.csv").get_data(as_text=True)))
    }
    sheet = openpyxl.load_workbook(io.BytesIO(client.get("/calls/export.xlsx").get_data())).active
    assert sheet is not None
    xlsx_rows = {row[2]: row for row in sheet.iter_rows(values_only=True)}
    subscription = make_subscription(session, reader)
    _content, digest = preview_digest(session, settings, subscription, now=NOW)
    for call in calls.values():
        review.watch(session, call, reader, now=NOW)
    feed = icalendar.Calendar.from_ical(
        client.get(f"/calendar/{reader.calendar_token}.ics").get_data()
    )
    # The event of a deadline with a stage name says it: "Portal day (deadline)".
    events = {str(e["SUMMARY"]).split(" (")[0]: e for e in feed.walk("VEVENT")}

    for key, call in calls.items():
        (stored,) = call.deadlines
        text = EXPECTED_TEXT[key]
        # Inbox row and call page: the same moment and the same words.
        assert _time_element(inbox, call.title) == (stored.deadline_at.isoformat(), text)
        page = client.get(f"/calls/{call.id}").get_data(as_text=True)
        assert _time_element(page, "Deadlines") == (stored.deadline_at.isoformat(), text)
        # The digest.
        assert f"* {call.title}" in digest.text
        assert f"Deadline: {text} (" in digest.text.split(f"* {call.title}", 1)[1]
        # The exports, and the calendar.
        event = events[call.title]
        if key == "day":
            assert csv_rows[call.title][6] == "2027-01-29"
            assert xlsx_rows[call.title][6] == datetime(2027, 1, 29)  # a date cell
            assert event.decoded("DTSTART") == OTHER_DAY
            assert event.decoded("DTEND") == date(2027, 1, 30)
        else:
            local = stored.deadline_at.astimezone(STOCKHOLM).replace(tzinfo=None)
            assert csv_rows[call.title][6] == local.strftime("%Y-%m-%d %H:%M")
            assert xlsx_rows[call.title][6] == local
            assert event.decoded("DTSTART").astimezone(UTC) == stored.deadline_at
            assert "DURATION" in event or "DTEND" in event

    # The F&T day closes at 17:00 Brussels time, the explicit time is kept as given.
    assert calls["portal"].deadlines[0].deadline_at == PORTAL_DAY
    assert calls["timed"].deadlines[0].deadline_at == TIMED
    assert calls["day"].deadlines[0].is_date_only


def test_the_zone_is_named_where_the_configured_zone_keeps_another_time(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FixedClock,
    calls: dict[str, FundingCall],
) -> None:
    in_utc = replace(settings, app=replace(settings.app, timezone="UTC"))
    client = create_app(in_utc, session_factory=session_factory, testing=True, clock=clock)
    with client.test_client() as browser:
        login(browser, make_user(session, role=Role.VIEWER, language="en"))
        page = browser.get(f"/calls/{calls['portal'].id}").get_data(as_text=True)
    assert _time_element(page, "Deadlines")[1] == "17 Feb 2027 16:00 UTC"

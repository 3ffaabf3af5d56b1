"""The deadline calendar: what goes on it, the month page, and the personal iCalendar feed
(RFC 5545), read back by an independent parser."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.factories import NOW, login, make_profile, make_user
from tests.factories.inbox import make_matched_call
from tracker.models import DismissReason, Milestone, Role, TriageState, User
from tracker.services import inbox as review
from tracker.services.calendar import CalendarEntry, calendar_entries, render_ical

STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture(autouse=True)
def profile(session: Session) -> None:
    make_profile(session)


@pytest.fixture()
def person(session: Session) -> User:
    return make_user(session, role=Role.EDITOR, display_name="Eva")


def _december(session: Session, user: User) -> list[str]:
    entries = calendar_entries(
        session, user, start=date(2026, 12, 1), end=date(2027, 1, 1), tz=STOCKHOLM
    )
    return [e.title for e in entries]


def test_the_calendar_holds_watched_and_interested_calls_and_milestones(
    session: Session, person: User
) -> None:
    watched = make_matched_call(
        session,
        {"education": 70},
        title="Watched",
        deadlines=[datetime(2026, 12, 10, 16, tzinfo=UTC)],
    )
    liked = make_matched_call(
        session,
        {"education": 70},
        title="Interested",
        deadlines=[datetime(2026, 12, 3, 16, tzinfo=UTC)],
    )
    dropped = make_matched_call(
        session,
        {"education": 70},
        title="Dismissed",
        deadlines=[datetime(2026, 12, 4, 16, tzinfo=UTC)],
    )
    make_matched_call(
        session,
        {"education": 70},
        title="Nobody cares",
        deadlines=[datetime(2026, 12, 5, 16, tzinfo=UTC)],
    )
    make_matched_call(
        session,
        {"education": 70},
        title="Watched, next year",
        deadlines=[datetime(2027, 2, 5, 16, tzinfo=UTC)],
    )
    review.watch(session, watched, person, now=NOW)
    review.change_state(session, liked, TriageState.INTERESTED, actor=person, now=NOW)
    review.change_state(
        session,
        dropped,
        TriageState.DISMISSED,
        actor=person,
        now=NOW,
        reason=DismissReason.NO_PARTNER,
    )
    review.add_milestone(
        session, dropped, "Board meeting", date(2026, 12, 7), actor=person, now=NOW
    )
    assert _december(session, person) == ["Interested", "Board meeting", "Watched"]
    # Another person does not watch "Watched", but everyone sees the interested call.
    assert _december(session, make_user(session)) == ["Interested", "Board meeting"]


def test_a_deadline_late_in_the_evening_is_on_its_swedish_day(
    session: Session, person: User
) -> None:
    call = make_matched_call(
        session,
        {"education": 70},
        title="Midnight",
        deadlines=[datetime(2026, 12, 10, 23, 30, tzinfo=UTC)],
    )
    review.watch(session, call, person, now=NOW)
    entries = calendar_entries(
        session, person, start=date(2026, 12, 1), end=date(2027, 1, 1), tz=STOCKHOLM
    )
    assert [e.day for e in entries] == [date(2026, 12, 11)]


def test_month_page_lists_the_entries_with_links(
    client: FlaskClient, session: Session, person: User
) -> None:
    call = make_matched_call(
        session,
        {"education": 70},
        title="Schools abroad",
        deadlines=[datetime(2026, 12, 10, 16, tzinfo=UTC)],
    )
    review.watch(session, call, person, now=NOW)
    session.add(
        Milestone(call_id=call.id, title="Draft ready", due_on=date(2026, 12, 2), created_at=NOW)
    )
    session.flush()
    login(client, person)
    page = client.get("/calendar?month=2026-12").get_data(as_text=True)
    assert "december 2026" in page
    assert f'href="/calls/{call.id}"' in page
    assert "17:00" in page and "Schools abroad" in page and "Draft ready" in page
    assert 'href="/calendar?month=2026-11"' in page and 'href="/calendar?month=2027-01"' in page
    assert person.calendar_token in page  # the feed address to subscribe to
    assert client.get("/calendar?month=2026-13").status_code == 400


# --- the feed ----------------------------------------------------------------------------------


def _unfold(body: str) -> list[str]:
    return body.replace("\r\n ", "").split("\r\n")


def test_feed_is_valid_rfc_5545(client: FlaskClient, session: Session, person: User) -> None:
    winter = make_matched_call(
        session,
        {"education": 70},
        title="Culture, heritage; and \\ more\nwith a very long title that needs folding "
        "because it goes on and on: åäö åäö åäö åäö åäö åäö",
        deadlines=[datetime(2026, 12, 15, 16, tzinfo=UTC)],
    )
    summer = make_matched_call(
        session,
        {"education": 70},
        title="Summer school",
        deadlines=[datetime(2027, 6, 10, 15, tzinfo=UTC)],
    )
    for call in (winter, summer):
        review.watch(session, call, person, now=NOW)
    review.add_milestone(
        session, summer, "Partner meeting", date(2027, 5, 20), actor=person, now=NOW
    )
    response = client.get(f"/calendar/{person.calendar_token}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/calendar")
    raw = response.get_data()
    body = raw.decode("utf-8")
    assert body.endswith("\r\n") and "\n" not in body.replace("\r\n", "")
    for line in body.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75, line
    lines = _unfold(body)
    assert lines[0] == "BEGIN:VCALENDAR" and "VERSION:2.0" in lines
    assert any(line.startswith("PRODID:") for line in lines)
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT") == 3
    assert "TZID:Europe/Stockholm" in lines
    # Deadlines at 17:00 Swedish time, winter and summer.
    assert "DTSTART;TZID=Europe/Stockholm:20261215T170000" in lines
    assert "DTSTART;TZID=Europe/Stockholm:20270610T170000" in lines
    assert "DTSTART;VALUE=DATE:20270520" in lines and "DTEND;VALUE=DATE:20270521" in lines
    summary = next(line for line in lines if line.startswith("SUMMARY:Culture"))
    assert summary.startswith("SUMMARY:Culture\\, heritage\\; and \\\\ more\\nwith a very long")
    assert all(
        re.fullmatch(r"DTSTAMP:\d{8}T\d{6}Z", line) for line in lines if line.startswith("DTSTAMP")
    )
    # An independent parser reads the same events, times and zone.
    calendar = icalendar.Calendar.from_ical(raw)
    events = {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}
    assert len(events) == 3 and len({str(e["UID"]) for e in events.values()}) == 3
    start = events["Summer school"].decoded("DTSTART")
    assert start == datetime(2027, 6, 10, 17, tzinfo=STOCKHOLM)
    assert start.astimezone(UTC) == datetime(2027, 6, 10, 15, tzinfo=UTC)
    assert events["Partner meeting"].decoded("DTSTART") == date(2027, 5, 20)
    assert "\n" in str(next(k for k in events if k.startswith("Culture")))
    # Every timed event says when it ends (Exchange refuses one that does not).
    for event in events.values():
        if isinstance(event.decoded("DTSTART"), datetime):
            assert "DTEND" in event or "DURATION" in event
    assert str(calendar["X-PUBLISHED-TTL"]) == "PT1H"
    assert calendar.decoded("REFRESH-INTERVAL").total_seconds() == 3600


def test_a_moved_deadline_keeps_its_uid(
    client: FlaskClient, session: Session, person: User
) -> None:
    call = make_matched_call(
        session,
        {"education": 70},
        title="Moving",
        deadlines=[datetime(2026, 12, 15, 16, tzinfo=UTC)],
    )
    review.watch(session, call, person, now=NOW)
    url = f"/calendar/{person.calendar_token}.ics"

    def event() -> icalendar.cal.Component:
        feed = icalendar.Calendar.from_ical(client.get(url).get_data())
        (only,) = feed.walk("VEVENT")
        return only

    before = event()
    call.deadlines[0].deadline_at = datetime(2027, 1, 12, 16, tzinfo=UTC)
    session.flush()
    after = event()
    assert str(after["UID"]) == str(before["UID"])
    assert after.decoded("DTSTART") == datetime(2027, 1, 12, 17, tzinfo=STOCKHOLM)


def test_the_feed_address_can_be_replaced(
    client: FlaskClient, session: Session, person: User, csrf: str
) -> None:
    old = person.calendar_token
    login(client, person)
    assert client.post("/calendar/reset-token", data={"csrf_token": csrf}).status_code == 302
    assert client.get(f"/calendar/{old}.ics").status_code == 404
    session.refresh(person)
    assert client.get(f"/calendar/{person.calendar_token}.ics").status_code == 200


def test_render_without_entries_is_still_a_calendar() -> None:
    body = render_ical(
        [], now=NOW, tz=STOCKHOLM, calendar_name="x", call_url="/{id}", reminder_label="r"
    )
    calendar = icalendar.Calendar.from_ical(body)
    assert calendar.walk("VEVENT") == [] and calendar.walk("VTIMEZONE")


def test_the_feed_of_an_english_user_is_in_english(client: FlaskClient, session: Session) -> None:
    english = make_user(session, language="en", display_name="Ann")
    swedish = make_user(session, language="sv", display_name="Bo")
    assert "Funding deadlines – Ann" in client.get(
        f"/calendar/{english.calendar_token}.ics"
    ).get_data(as_text=True)
    assert "Sista ansökningsdagar för finansiering – Bo" in client.get(
        f"/calendar/{swedish.calendar_token}.ics"
    ).get_data(as_text=True)


def test_a_deadline_given_as_a_day_is_a_whole_day_event(
    client: FlaskClient, session: Session, person: User
) -> None:
    call = make_matched_call(
        session,
        {"education": 70},
        title="Day only",
        deadlines=[datetime(2026, 12, 10, 22, 59, 59, tzinfo=UTC)],
    )
    call.deadlines[0].is_date_only = True
    review.watch(session, call, person, now=NOW)
    session.flush()
    feed = icalendar.Calendar.from_ical(
        client.get(f"/calendar/{person.calendar_token}.ics").get_data()
    )
    (event,) = feed.walk("VEVENT")
    assert event.decoded("DTSTART") == date(2026, 12, 10)
    login(client, person)
    page = client.get("/calendar?month=2026-12").get_data(as_text=True)
    assert "Day only" in page and "23:59" not in page


def test_the_feed_embeds_the_configured_zone_and_says_when_to_refresh() -> None:
    helsinki = ZoneInfo("Europe/Helsinki")
    moment = datetime(2027, 2, 17, 16, tzinfo=UTC)
    entries = [
        CalendarEntry(
            uid="call-1-deadline-1@test",
            kind="deadline",
            call_id=1,
            call_title="Timed",
            title="Timed",
            day=date(2027, 2, 17),
            at=moment,
            url=None,
        ),
        CalendarEntry(
            uid="call-2-deadline-1@test",
            kind="deadline",
            call_id=2,
            call_title="A day",
            title="A day",
            day=date(2027, 3, 1),
            at=None,
            url=None,
        ),
    ]
    body = render_ical(
        entries, now=NOW, tz=helsinki, calendar_name="x", call_url="/{id}", reminder_label="r"
    )

    calendar = icalendar.Calendar.from_ical(body)
    assert [str(z["TZID"]) for z in calendar.walk("VTIMEZONE")] == ["Europe/Helsinki"]
    assert "Stockholm" not in body
    events = {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}
    timed = events["Timed"]
    assert timed.decoded("DTSTART") == datetime(2027, 2, 17, 18, tzinfo=helsinki)
    assert timed.decoded("DTSTART").astimezone(UTC) == moment
    assert "DTEND" in timed or "DURATION" in timed
    day = events["A day"]
    assert day.decoded("DTSTART") == date(2027, 3, 1)
    assert day.decoded("DTEND") == date(2027, 3, 2)
    assert str(calendar["X-PUBLISHED-TTL"]) == "PT1H"
    assert calendar.decoded("REFRESH-INTERVAL").total_seconds() == 3600

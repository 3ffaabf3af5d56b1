"""What staff see and do in the review workspace: the inbox, the call page, triage,
assignment, comments, watching, saved filters, bulk dismissal and the exports."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import NOW, login, make_call, make_office, make_profile, make_user
from tests.factories.inbox import evidence_for, in_days, make_matched_call
from tracker.clock import FixedClock
from tracker.models import (
    CallReview,
    Comment,
    FundingCall,
    Mention,
    Role,
    SavedFilter,
    TriageEvent,
    TriageState,
    User,
    Watch,
)


@pytest.fixture(autouse=True)
def profile(session: Session) -> None:
    make_profile(session)


@pytest.fixture()
def editor(client: FlaskClient, session: Session) -> User:
    user = make_user(session, role=Role.EDITOR, display_name="Eva Editor")
    login(client, user)
    return user


def html(response: object) -> str:
    return response.get_data(as_text=True)  # type: ignore[attr-defined,no-any-return]


def inbox_titles(page: str) -> list[str]:
    return re.findall(r'<td class="call"><a href="/calls/\d+">([^<]+)</a>', page)


# --- the inbox ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("editor")
def test_inbox_lists_matched_calls_with_counts_in_swedish(
    client: FlaskClient, session: Session
) -> None:
    make_matched_call(session, {"culture-music": 91}, title="Music for all", deadlines=[in_days(5)])
    make_matched_call(session, {"education": 70}, title="Schools abroad", deadlines=[in_days(50)])
    make_call(session, title="Never matched")
    response = client.get("/calls")
    page = html(response)
    assert response.status_code == 200
    assert inbox_titles(page) == ["Music for all", "Schools abroad"]
    assert "Never matched" not in page
    assert "2 utlysningar" in page  # the count, in Swedish
    assert "Kultur, kreativitet och musik" in page and '<span class="count">1</span>' in page
    assert "om 5 dagar" in page


@pytest.mark.usefixtures("editor")
def test_inbox_filter_is_bookmarkable_and_shown_in_the_form(
    client: FlaskClient, session: Session
) -> None:
    make_matched_call(session, {"culture-music": 91}, title="Music for all")
    make_matched_call(session, {"education": 70}, title="Schools abroad")
    page = html(client.get("/calls?area=education&min_score=60&q=school"))
    assert inbox_titles(page) == ["Schools abroad"]
    assert '<option value="education" selected>' in page
    assert 'name="min_score" type="number"' in page and 'value="60"' in page
    assert 'value="school"' in page
    # The export links carry the same filter.
    assert 'href="/calls/export.csv?area=education&amp;min_score=60&amp;q=school"' in page


@pytest.mark.usefixtures("editor")
def test_bad_filter_values_are_explained_and_the_rest_still_applies(
    client: FlaskClient, session: Session
) -> None:
    make_matched_call(session, {"culture-music": 91}, title="Music for all")
    make_matched_call(session, {"education": 70}, title="Schools abroad")
    response = client.get("/calls?min_score=lots&area=culture-music&office=nowhere")
    page = html(response)
    assert response.status_code == 400
    assert "Ange ett poängtal mellan 0 och 100" in page
    assert "Inget kontor nowhere" in page
    assert inbox_titles(page) == ["Music for all"]
    assert 'aria-invalid="true"' in page


@pytest.mark.usefixtures("editor")
def test_inbox_pages(client: FlaskClient, session: Session) -> None:
    for n in range(30):
        make_matched_call(
            session, {"education": 60}, title=f"Call number {n:02d}", deadlines=[in_days(n + 1)]
        )
    first = html(client.get("/calls"))
    assert len(inbox_titles(first)) == 25
    assert 'href="/calls?page=2"' in first and 'rel="next"' in first
    second = html(client.get("/calls?page=2"))
    assert inbox_titles(second) == [f"Call number {n:02d}" for n in range(25, 30)]


def test_viewers_see_no_bulk_dismissal(client: FlaskClient, session: Session) -> None:
    make_matched_call(session, {"education": 60})
    login(client, make_user(session, role=Role.VIEWER))
    page = html(client.get("/calls"))
    assert 'name="call_ids"' not in page
    assert "Avfärda valda" not in page


def test_bulk_dismiss_with_a_reason_removes_calls_from_the_inbox(
    client: FlaskClient, session: Session, csrf: str, editor: User
) -> None:
    a = make_matched_call(session, {"education": 60}, title="First")
    b = make_matched_call(session, {"education": 61}, title="Second")
    submitted = make_matched_call(session, {"education": 62}, title="Submitted one")
    keep = make_matched_call(session, {"education": 63}, title="Kept")
    review = CallReview(call_id=submitted.id, state=TriageState.SUBMITTED, updated_at=NOW)
    session.add(review)
    session.flush()
    response = client.post(
        "/calls/bulk-dismiss",
        data={
            "call_ids": [str(a.id), str(b.id), str(submitted.id)],
            "reason": "no_capacity",
            "back": "area=education",
            "csrf_token": csrf,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/calls?area=education"
    page = html(client.get(response.headers["Location"]))
    assert "2 utlysningar avfärdade: Ingen kapacitet." in page
    assert "1 utlysning lämnades som den var" in page
    assert sorted(inbox_titles(page)) == ["Kept", "Submitted one"]
    events = session.scalars(select(TriageEvent).where(TriageEvent.to_state == "dismissed")).all()
    assert sorted(e.call_id for e in events) == sorted([a.id, b.id])
    assert {e.actor_id for e in events} == {editor.id} and {e.reason for e in events} == {
        "no_capacity"
    }
    assert keep.id


@pytest.mark.usefixtures("editor")
def test_bulk_dismiss_needs_a_reason(client: FlaskClient, session: Session, csrf: str) -> None:
    call = make_matched_call(session, {"education": 60})
    response = client.post(
        "/calls/bulk-dismiss", data={"call_ids": str(call.id), "csrf_token": csrf}
    )
    assert response.status_code == 302
    page = html(client.get("/calls"))
    assert "Inget avfärdades" in page
    assert session.scalar(select(CallReview).where(CallReview.call_id == call.id)) is None


def test_saved_filters_belong_to_their_user(
    client: FlaskClient, session: Session, csrf: str, editor: User
) -> None:
    response = client.post(
        "/calls/filters",
        data={
            "name": "Musik nära deadline",
            "query": "area=culture-music&deadline_within=30&page=3",
            "csrf_token": csrf,
        },
    )
    assert response.status_code == 302
    saved = session.scalars(select(SavedFilter)).one()
    assert saved.user_id == editor.id and saved.query == "area=culture-music&deadline_within=30"
    page = html(client.get("/calls"))
    assert 'href="/calls?area=culture-music&amp;deadline_within=30">Musik nära deadline</a>' in page
    login(client, make_user(session, role=Role.VIEWER))
    assert "Musik nära deadline" not in html(client.get("/calls"))
    bad = client.post("/calls/filters", data={"name": "", "query": "", "csrf_token": csrf})
    assert bad.status_code == 302
    assert "Filtret sparades inte" in html(client.get("/calls"))


# --- the call page ---------------------------------------------------------------------------


@pytest.mark.usefixtures("editor")
def test_call_page_shows_every_field_the_evidence_and_the_gate(
    client: FlaskClient, session: Session
) -> None:
    earlier = make_call(
        session,
        title="The 2024 round",
        identifier="CREA-CULT-2024-COOP",
        programme_code="CREA",
        opens_at=NOW - timedelta(days=700),
        deadlines=[NOW - timedelta(days=600)],
    )
    # The same programme but another series, and a later edition: neither is "earlier".
    other_series = make_call(
        session,
        title="Another CREA call, closed",
        identifier="CREA-MEDIA-2024-FILM",
        programme_code="CREA",
        deadlines=[NOW - timedelta(days=300)],
    )
    later_edition = make_call(
        session,
        title="The 2028 round",
        identifier="CREA-CULT-2028-COOP",
        programme_code="CREA",
        deadlines=[NOW + timedelta(days=600)],
    )
    call = make_matched_call(
        session,
        {"culture-music": 88, "education": 20},
        title="Music & festivals <2027>",
        identifier="CREA-CULT-2027-COOP",
        programme_code="CREA",
        programme_label="Creative Europe",
        type_of_action="CREA Lump Sum Grants",
        opens_at=NOW - timedelta(days=5),
        budget_total_eur=Decimal("2500000"),
        budget_min_eur=Decimal("100000"),
        budget_max_eur=Decimal("200000"),
        cofinancing_rate=Decimal("80"),
        keywords=["music", "festivals"],
        description_html="<p>Cities <script>alert(1)</script>and <b>festivals</b></p>",
        gate_reason=None,
        deadlines=[in_days(20)],
        evidence={
            "culture-music": evidence_for(
                "music festival", "…support for music festivals in European cities…"
            )
        },
    )
    call.gate_code = "industry-only"
    call.gate_reason = "aimed at industrial consortia"
    session.flush()
    page = html(client.get(f"/calls/{call.id}"))
    assert "Music &amp; festivals &lt;2027&gt;" in page
    for text in (
        "CREA-CULT-2027-COOP",
        "Creative Europe",
        "CREA Lump Sum Grants",
        "2\xa0500\xa0000 EUR",
        "100\xa0000",
        "200\xa0000",
        "80 % finansieras",
        "music, festivals",
        "industry-only",
        "Aimed at industrial consortia",
    ):
        assert text in page, text
    assert "<mark>music</mark> <mark>festivals</mark>" in page
    assert "<script>" not in page and "<b>festivals</b>" in page
    assert 'href="https://example.org/calls/' in page  # the official page
    assert f'href="/calls/{earlier.id}">The 2024 round</a>' in page
    assert f'href="/calls/{other_series.id}"' not in page
    assert f'href="/calls/{later_edition.id}"' not in page
    assert "Kultur, kreativitet och musik" in page and "Utbildning och lärande" in page


def test_dismissing_needs_a_reason_and_is_kept_on_the_timeline(
    client: FlaskClient, session: Session, csrf: str, editor: User
) -> None:
    call = make_matched_call(session, {"education": 70})
    response = client.post(
        f"/calls/{call.id}/triage",
        data={"state": "dismissed", "reason": "", "note": "x", "csrf_token": csrf},
    )
    assert response.status_code == 422
    page = html(response)
    assert "Välj varför utlysningen avfärdas" in page
    assert "x</textarea>" in page  # the note typed is kept
    response = client.post(
        f"/calls/{call.id}/triage",
        data={
            "state": "dismissed",
            "reason": "deadline_too_close",
            "note": "Only three weeks left",
            "csrf_token": csrf,
        },
    )
    assert response.status_code == 302
    page = html(client.get(f"/calls/{call.id}"))
    assert "Avfärdad" in page and "För kort tid till sista ansökningsdag" in page
    assert "från Ny till Avfärdad" in page and "Only three weeks left" in page
    assert "Eva Editor" in page
    event = session.scalars(select(TriageEvent).where(TriageEvent.call_id == call.id)).one()
    assert (event.from_state, event.to_state, event.reason, event.actor_id) == (
        TriageState.NEW,
        TriageState.DISMISSED,
        "deadline_too_close",
        editor.id,
    )


@pytest.mark.usefixtures("editor")
def test_a_transition_the_workflow_does_not_allow_is_409(
    client: FlaskClient, session: Session, csrf: str
) -> None:
    call = make_matched_call(session, {"education": 70})
    response = client.post(
        f"/calls/{call.id}/triage", data={"state": "awarded", "csrf_token": csrf}
    )
    assert response.status_code == 409
    assert "En utlysning som är ”Ny” kan inte bli ”Beviljad”." in html(response)
    response = client.post(f"/calls/{call.id}/triage", data={"state": "maybe", "csrf_token": csrf})
    assert response.status_code == 422


def test_assign_to_an_office_and_a_person(
    client: FlaskClient, session: Session, csrf: str, editor: User
) -> None:
    office = make_office(session, slug="utbildning", name_sv="Utbildningskontoret")
    colleague = make_user(session, role=Role.EDITOR, display_name="Kim Kollega", office=office)
    call = make_matched_call(session, {"education": 70})
    response = client.post(
        f"/calls/{call.id}/assign",
        data={"assignee": str(colleague.id), "office": "", "csrf_token": csrf},
    )
    assert response.status_code == 302
    review = session.scalars(select(CallReview)).one()
    assert review.assignee_id == colleague.id and review.office_id == office.id
    page = html(client.get(f"/calls/{call.id}"))
    assert "tilldelad Kim Kollega, Utbildningskontoret" in page
    inbox = html(client.get("/calls?office=utbildning"))
    assert "Kim Kollega" in inbox and len(inbox_titles(inbox)) == 1
    bad = client.post(f"/calls/{call.id}/assign", data={"assignee": "999999", "csrf_token": csrf})
    assert bad.status_code == 422


def test_comment_with_mentions_tells_the_people_named(
    client: FlaskClient, session: Session, csrf: str, editor: User
) -> None:
    anna = make_user(session, email="anna.berg@norrkoping.test", display_name="Anna Berg")
    make_user(session, email="bo@norrkoping.test", display_name="Bo")
    call = make_matched_call(session, {"education": 70})
    response = client.post(
        f"/calls/{call.id}/comments",
        data={"body": "@anna.berg can you check this? cc @nobody", "csrf_token": csrf},
    )
    assert response.status_code == 302
    comment = session.scalars(select(Comment)).one()
    assert comment.author_id == editor.id
    assert [m.user_id for m in session.scalars(select(Mention))] == [anna.id]
    page = html(client.get(f"/calls/{call.id}"))
    assert "@anna.berg can you check this?" in page and "Nämnda: Anna Berg" in page
    empty = client.post(f"/calls/{call.id}/comments", data={"body": "  ", "csrf_token": csrf})
    assert empty.status_code == 422


def test_watch_and_unwatch(client: FlaskClient, session: Session, csrf: str) -> None:
    viewer = make_user(session, role=Role.VIEWER)
    login(client, viewer)
    call = make_matched_call(session, {"education": 70})
    assert "Bevaka utlysningen" in html(client.get(f"/calls/{call.id}"))
    client.post(f"/calls/{call.id}/watch", data={"csrf_token": csrf})
    client.post(f"/calls/{call.id}/watch", data={"csrf_token": csrf})  # twice is harmless
    assert session.scalars(select(Watch)).one().user_id == viewer.id
    assert "Sluta bevaka" in html(client.get(f"/calls/{call.id}"))
    client.post(f"/calls/{call.id}/unwatch", data={"csrf_token": csrf})
    assert session.scalars(select(Watch)).all() == []


@pytest.mark.usefixtures("editor")
def test_milestones_are_added_and_removed(client: FlaskClient, session: Session, csrf: str) -> None:
    call = make_matched_call(session, {"education": 70})
    bad = client.post(
        f"/calls/{call.id}/milestones",
        data={"title": "Board", "due_on": "next week", "csrf_token": csrf},
    )
    assert bad.status_code == 422
    client.post(
        f"/calls/{call.id}/milestones",
        data={"title": "Draft to the board", "due_on": "2026-12-03", "csrf_token": csrf},
    )
    page = html(client.get(f"/calls/{call.id}"))
    assert "Draft to the board" in page and "3 dec. 2026" in page


def test_english_user_sees_english(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session, role=Role.VIEWER, language="en"))
    call = make_matched_call(session, {"culture-music": 70}, deadlines=[in_days(3)])
    inbox = html(client.get("/calls"))
    assert '<html lang="en">' in inbox and "1 call" in inbox and "in 3 days" in inbox
    assert "Culture, creativity and music" in inbox
    page = html(client.get(f"/calls/{call.id}"))
    assert "Why it matched" in page and "Deadlines" in page


# --- exports -----------------------------------------------------------------------------------


def _all_inbox_rows(client: FlaskClient, query: str) -> list[str]:
    rows: list[str] = []
    page = 1
    while True:
        html_page = html(client.get(f"/calls?{query}&page={page}", follow_redirects=True))
        rows += re.findall(r'<td class="call"><a href="/calls/(\d+)">', html_page)
        if 'rel="next"' not in html_page:
            return rows
        page += 1


@pytest.mark.usefixtures("editor")
def test_csv_and_xlsx_give_exactly_the_inbox_rows_of_all_pages(
    client: FlaskClient, session: Session
) -> None:
    for n in range(32):
        make_matched_call(
            session,
            {"education": 55 + n, "culture-music": 90 - n},
            title=f'=HYPERLINK("evil") {n}' if n == 0 else f"Call {n}",
            deadlines=[in_days(1 + (n * 7) % 40)],
        )
    query = "area=education&min_score=60"
    expected = _all_inbox_rows(client, query)
    assert len(expected) == 27
    response = client.get(f"/calls/export.csv?{query}")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    body_text = response.get_data(as_text=True).lstrip("\ufeff")
    reader = list(csv.reader(io.StringIO(body_text), delimiter=";"))
    header, body = reader[0], reader[1:]
    assert header[0] == "Utlysningssida" and "Nästa sista dag" in header
    assert [r[0].rsplit("/", 1)[1] for r in body] == expected
    response = client.get(f"/calls/export.xlsx?{query}")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    xlsx_rows = list(sheet.iter_rows(values_only=True))
    assert [str(r[0]).rsplit("/", 1)[1] for r in xlsx_rows[1:]] == expected
    # A title from outside never becomes a formula.
    everything = client.get("/calls/export.csv?status=all&state=all").get_data(as_text=True)
    assert "'=HYPERLINK" in everything
    book = load_workbook(io.BytesIO(client.get("/calls/export.xlsx?state=all").get_data()))
    titles = [r[2] for r in book.active.iter_rows(values_only=True)]
    assert '=HYPERLINK("evil") 0' in titles
    cell = next(
        c
        for row in book.active.iter_rows()
        for c in row
        if c.value == titles[titles.index('=HYPERLINK("evil") 0')]
    )
    assert cell.data_type == "s"


@pytest.mark.usefixtures("editor")
def test_export_with_an_invalid_filter_is_400(client: FlaskClient) -> None:
    assert client.get("/calls/export.csv?min_score=x").status_code == 400


@pytest.mark.usefixtures("editor")
def test_server_timing_header_is_sent(client: FlaskClient) -> None:
    assert client.get("/calls").headers["Server-Timing"].startswith("app;dur=")


def test_withdrawn_reference_funding_call_model_untouched(session: Session) -> None:
    # The inbox adds a table of its own; the calls table keeps the foundation's columns.
    assert "best_score" not in FundingCall.__table__.columns


@pytest.mark.usefixtures("editor")
def test_call_page_lists_our_projects_in_the_programme(
    client: FlaskClient, session: Session
) -> None:
    from tests.factories.projects import make_project

    call = make_matched_call(session, {"education": 70}, programme_label="Creative Europe")
    project = make_project(session, title="Music bridges", programme="Creative Europe")
    page = html(client.get(f"/calls/{call.id}"))
    assert f'href="/projects/{project.id}">Music bridges</a>' in page


@pytest.mark.usefixtures("editor")
def test_export_drops_an_unknown_value_as_the_inbox_does(
    client: FlaskClient, session: Session
) -> None:
    make_matched_call(session, {"education": 70}, title="Only one")
    inbox = _all_inbox_rows(client, "office=gone")
    body = client.get("/calls/export.csv?office=gone").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(body), delimiter=";"))[1:]
    assert [r[0].rsplit("/", 1)[1] for r in rows] == inbox and len(inbox) == 1


@pytest.mark.usefixtures("editor")
def test_call_page_shows_how_deadlines_moved(client: FlaskClient, session: Session) -> None:
    from tracker.models import CallChange

    call = make_matched_call(session, {"education": 70})
    session.add(
        CallChange(
            call_id=call.id,
            field="deadlines",
            old_value=["2026-09-15T15:00:00+00:00"],
            new_value=["2026-10-01T15:00:00+00:00"],
            changed_at=NOW.replace(month=8, day=2),
            source_id=None,
        )
    )
    session.flush()
    page = html(client.get(f"/calls/{call.id}"))
    assert "Flyttad från 15 sep. 2026 till 1 okt. 2026, upptäckt 2 aug. 2026" in page


def test_pages_tell_time_by_the_apps_clock_not_the_wall_clock(
    client: FlaskClient, session: Session, editor: User, clock: FixedClock
) -> None:
    """The call page counts days from the app's clock: moving it moves what staff read."""
    call = make_call(session, deadlines=[NOW + timedelta(days=5)])

    assert "om 5 dagar" in html(client.get(f"/calls/{call.id}"))

    clock.advance(timedelta(days=7))
    later = html(client.get(f"/calls/{call.id}"))
    assert "för 2 dagar sedan" in later and "om 5 dagar" not in later

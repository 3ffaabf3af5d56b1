"""My work (Min översikt), the start page, and the ways into one's own calls: the inbox's
"mine" filter and @first-name mentions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.factories import NOW, login, make_call, make_office, make_profile, make_source, make_user
from tests.factories.inbox import in_days, make_matched_call
from tracker.clock import FixedClock
from tracker.models import FetchRun, FetchStatus, Office, Role, TriageState, User
from tracker.services import inbox as review
from tracker.services.inbox import (
    InboxFilters,
    inbox_page,
    mention_suggestions,
    parse_filters,
    resolve_mentions,
)
from tracker.services.overview import (
    CallItem,
    CommentItem,
    my_overview,
    record_visit,
    week_of,
)

TZ = ZoneInfo("Europe/Stockholm")


@pytest.fixture
def office(session: Session) -> Office:
    return make_office(session, slug="kultur", name_sv="Kulturkontoret", name_en="Culture office")


@pytest.fixture
def sara(session: Session, office: Office) -> User:
    return make_user(
        session, email="sara.holm@norrkoping.test", display_name="Sara Holm", office_id=office.id
    )


@pytest.fixture
def bo(session: Session) -> User:
    return make_user(session, email="bo.ek@norrkoping.test", display_name="Bo Ek")


def titles(items: Sequence[CallItem | CommentItem]) -> list[str]:
    return [i.title if isinstance(i, CallItem) else i.call_title for i in items]


def test_my_work_gathers_what_needs_me(
    session: Session, office: Office, sara: User, bo: User
) -> None:
    make_profile(session)
    mine = make_matched_call(session, {"education": 70}, title="Mine", deadlines=[in_days(10)])
    ours = make_matched_call(session, {"education": 70}, title="Office's")
    talked = make_matched_call(session, {"education": 70}, title="Talked about")
    watched = make_matched_call(
        session, {"education": 70}, title="Watched", deadlines=[in_days(20)]
    )
    later = make_matched_call(
        session, {"education": 70}, title="Watched, later", deadlines=[in_days(40)]
    )
    make_matched_call(
        session, {"education": 80}, title="Fresh", first_seen_at=NOW - timedelta(days=1)
    )
    make_matched_call(
        session, {"education": 80}, title="Older", first_seen_at=NOW - timedelta(days=3)
    )
    for seen_before in (mine, ours, talked, watched, later):
        seen_before.first_seen_at = NOW - timedelta(days=10)
    review.assign(session, mine, actor=bo, now=NOW, office=None, assignee=sara)
    review.assign(session, ours, actor=bo, now=NOW, office=office, assignee=bo)
    review.add_comment(session, talked, "@sara what do you think?", author=bo, now=NOW)
    review.add_comment(session, mine, "I added the budget.", author=bo, now=NOW)
    review.watch(session, watched, sara, now=NOW)
    review.watch(session, later, sara, now=NOW)
    review.change_state(session, ours, TriageState.INTERESTED, actor=bo, now=NOW)
    _, sunday = week_of(NOW, TZ)
    review.add_milestone(session, mine, "Draft to the board", sunday, actor=bo, now=NOW)
    review.add_milestone(session, mine, "Next week", sunday + timedelta(days=1), actor=bo, now=NOW)

    overview = my_overview(session, sara, now=NOW, since=NOW - timedelta(days=2), tz=TZ)

    assert titles(overview.assigned_to_me) == ["Mine"]
    assert titles(overview.my_office) == ["Office's"]
    assert overview.my_office[0].assignee_name == "Bo Ek"
    assert titles(overview.mentions) == ["Talked about"]
    assert titles(overview.unanswered) == ["Mine"]  # a colleague wrote on my call
    # Watched, or interested / preparing, nearest deadline first (make_call: in 30 days).
    assert titles(overview.closing_soon) == ["Watched", "Office's"]
    assert titles(overview.new_matches) == ["Fresh"]
    assert [m.title for m in overview.milestones] == ["Draft to the board"]
    pipeline = dict(overview.pipeline)
    assert pipeline[TriageState.INTERESTED] == 1
    assert pipeline[TriageState.NEW] == 6

    # Answering on the call takes the mention and the comment off the list.
    review.add_comment(session, talked, "Looks good.", author=sara, now=NOW + timedelta(hours=1))
    review.add_comment(session, mine, "Thanks!", author=sara, now=NOW + timedelta(hours=1))
    later_view = my_overview(session, sara, now=NOW + timedelta(hours=2), since=None, tz=TZ)
    assert later_view.mentions == [] and later_view.unanswered == []


def test_new_since_the_visit_before_this_sitting(session: Session, sara: User) -> None:
    assert record_visit(session, sara.id, now=NOW) is None
    # Reloading within the sitting keeps counting from the same point.
    assert record_visit(session, sara.id, now=NOW + timedelta(minutes=10)) is None
    assert record_visit(session, sara.id, now=NOW + timedelta(hours=3)) == NOW + timedelta(
        minutes=10
    )
    assert record_visit(session, sara.id, now=NOW + timedelta(hours=3, minutes=5)) == (
        NOW + timedelta(minutes=10)
    )


def test_the_start_page_in_swedish_and_english(
    client: FlaskClient, session: Session, sara: User, bo: User, csrf: str
) -> None:
    make_profile(session)
    call = make_matched_call(session, {"education": 70}, title="Erasmus school partnerships")
    review.assign(session, call, actor=bo, now=NOW, office=None, assignee=sara)
    login(client, sara)
    html = client.get("/").get_data(as_text=True)
    assert "Min översikt" in html
    assert "Erasmus school partnerships" in html
    assert "Ingen väntar på ditt svar" in html  # an empty section says what to do
    assert "Inga hållpunkter den här veckan" in html
    client.post("/language", data={"language": "en", "next": "/", "csrf_token": csrf})
    html = client.get("/").get_data(as_text=True)
    assert "My work" in html and "No one is waiting for your answer" in html


def test_admins_see_a_banner_for_a_failing_source(
    client: FlaskClient, session: Session, bo: User
) -> None:
    source = make_source(session, name="F&T search")
    session.add(
        FetchRun(
            source_id=source.id,
            started_at=NOW - timedelta(hours=1),
            finished_at=NOW - timedelta(hours=1),
            status=FetchStatus.FAILED,
            error="HTTP 503 from the portal",
        )
    )
    healthy = make_source(session, name="Vinnova")
    session.add(
        FetchRun(
            source_id=healthy.id,
            started_at=NOW - timedelta(hours=1),
            status=FetchStatus.SUCCEEDED,
        )
    )
    session.flush()
    admin = make_user(session, role=Role.ADMIN)
    login(client, admin)
    html = client.get("/").get_data(as_text=True)
    assert 'role="alert"' in html and "HTTP 503 from the portal" in html
    assert "En källa fungerar inte" in html and "Vinnova" not in html
    login(client, bo)
    assert "HTTP 503" not in client.get("/").get_data(as_text=True)


def test_the_visit_is_remembered_between_requests(
    client: FlaskClient, session: Session, sara: User, clock: FixedClock
) -> None:
    make_profile(session)
    login(client, sara)
    client.get("/")
    clock.advance(timedelta(hours=5))
    make_matched_call(
        session,
        {"education": 70},
        title="Arrived meanwhile",
        first_seen_at=NOW + timedelta(hours=1),
    )
    html = client.get("/").get_data(as_text=True)
    assert "Arrived meanwhile" in html
    clock.advance(timedelta(hours=5))
    assert "Arrived meanwhile" not in client.get("/").get_data(as_text=True)


# --- the inbox's "mine" filter -------------------------------------------------------------


def test_the_inbox_filters_my_calls(session: Session, office: Office, sara: User, bo: User) -> None:
    make_profile(session)
    mine = make_matched_call(session, {"education": 70}, title="Mine")
    ours = make_matched_call(session, {"education": 70}, title="Office's")
    talked = make_matched_call(session, {"education": 70}, title="Talked about")
    make_matched_call(session, {"education": 70}, title="Someone else's")
    review.assign(session, mine, actor=bo, now=NOW, office=None, assignee=sara)
    review.assign(session, ours, actor=bo, now=NOW, office=office, assignee=None)
    review.add_comment(session, talked, "@Sara see this", author=bo, now=NOW)

    def shown(mine_filter: str, viewer: User) -> list[str]:
        page = inbox_page(session, InboxFilters(mine=mine_filter), now=NOW, viewer=viewer)
        return [row.title for row in page.rows]

    assert shown("assigned", sara) == ["Mine"]
    # Assigning a person assigns their office too.
    assert set(shown("office", sara)) == {"Mine", "Office's"}
    assert shown("mentioned", sara) == ["Talked about"]
    assert shown("assigned", bo) == []
    assert shown("office", bo) == []  # bo has no office
    assert parse_filters({"mine": "everything"})[1]


def test_the_inbox_page_offers_the_mine_filter(
    client: FlaskClient, session: Session, sara: User, bo: User
) -> None:
    make_profile(session)
    mine = make_matched_call(session, {"education": 70}, title="Mine")
    make_matched_call(session, {"education": 70}, title="Not mine")
    review.assign(session, mine, actor=bo, now=NOW, office=None, assignee=sara)
    login(client, sara)
    html = client.get("/calls?mine=assigned").get_data(as_text=True)
    assert 'name="mine"' in html and "Tilldelade mig" in html
    assert "Mine" in html and "Not mine" not in html
    assert client.get("/calls?mine=bogus").status_code == 400


# --- mentions ---------------------------------------------------------------------------------


def test_a_first_name_mentions_when_it_is_unique(session: Session, sara: User, bo: User) -> None:
    assert resolve_mentions(session, "@sara look") == [sara]
    assert resolve_mentions(session, "@Sara.Holm and @bo.ek") == [sara, bo]
    assert resolve_mentions(session, "@sara.holm@norrkoping.test") == [sara]
    other = make_user(session, email="s.lind@norrkoping.test", display_name="Sara Lind")
    # Two Saras: the first name alone names nobody; first.last still does.
    assert resolve_mentions(session, "@sara look") == []
    assert resolve_mentions(session, "@sara.lind") == [other]
    suggestions = dict(mention_suggestions(session))
    assert suggestions["bo"] == "Bo Ek"
    assert "sara" not in suggestions and suggestions["sara.holm"] == "Sara Holm"


def test_the_comment_box_suggests_names(
    client: FlaskClient, session: Session, sara: User, bo: User
) -> None:
    call = make_call(session, title="A call")
    login(client, bo)
    html = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert 'data-handle="sara"' in html and "Sara Holm" in html
    assert "mentions.js" in html and "<script>" not in html  # no inline script

"""The inbox query: which calls, in which order, with which filters and counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import NOW, make_office, make_profile, make_user
from tests.factories.inbox import area, in_days, make_matched_call
from tracker.models import CallMatch, DismissReason, InboxEntry, TriageState
from tracker.services import inbox as review
from tracker.services.inbox import (
    InboxFilters,
    UnknownFilterValue,
    inbox_page,
    iter_inbox_rows,
    parse_filters,
    refresh_inbox_entries,
)


def titles(session: Session, **filters: object) -> list[str]:
    page = inbox_page(session, InboxFilters(**filters), now=NOW)  # type: ignore[arg-type]
    return [row.title for row in page.rows]


@pytest.fixture()
def profile(session: Session) -> None:
    make_profile(session)


@pytest.mark.usefixtures("profile")
def test_only_calls_that_matched_an_active_area_are_in_the_inbox(session: Session) -> None:
    make_matched_call(session, {"culture-music": 80}, title="Matched")
    make_matched_call(session, {"culture-music": 30, "education": 20}, title="Below threshold")
    make_matched_call(session, {"education": 90}, title="Gated", gate_code="industry-only")
    make_matched_call(session, {"education": 90}, title="Withdrawn", is_withdrawn=True)
    assert titles(session) == ["Matched"]


@pytest.mark.usefixtures("profile")
def test_most_relevant_first_by_the_exact_score_then_most_urgent(session: Session) -> None:
    make_matched_call(
        session, {"culture-music": 92}, title="92 in 60 days", deadlines=[in_days(60)]
    )
    make_matched_call(session, {"education": 95}, title="95 in 10 days", deadlines=[in_days(10)])
    make_matched_call(session, {"culture-music": 85}, title="85 in 2 days", deadlines=[in_days(2)])
    make_matched_call(session, {"education": 91}, title="91 in 5 days", deadlines=[in_days(5)])
    make_matched_call(
        session, {"education": 97}, title="97 continuous", deadlines=[], deadline_model="continuous"
    )
    make_matched_call(
        session, {"education": 99.6}, title="99.6 in 40 days", deadlines=[in_days(40)]
    )
    make_matched_call(session, {"education": 91}, title="91 in 3 days", deadlines=[in_days(3)])
    assert titles(session) == [
        "99.6 in 40 days",
        "97 continuous",
        "95 in 10 days",
        "92 in 60 days",
        "91 in 3 days",
        "91 in 5 days",
        "85 in 2 days",
    ]


@pytest.mark.usefixtures("profile")
def test_status_is_computed_from_the_dates(session: Session) -> None:
    make_matched_call(
        session,
        {"education": 70},
        title="Open",
        deadlines=[in_days(20)],
        opens_at=NOW - timedelta(days=10),
    )
    make_matched_call(
        session,
        {"education": 70},
        title="Forthcoming",
        deadlines=[in_days(90)],
        opens_at=NOW + timedelta(days=10),
    )
    make_matched_call(
        session,
        {"education": 70},
        title="Closed",
        deadlines=[in_days(-3)],
        opens_at=NOW - timedelta(days=60),
    )
    make_matched_call(
        session,
        {"education": 70},
        title="Between stages",
        deadlines=[in_days(-3), in_days(40)],
        opens_at=NOW - timedelta(days=60),
    )
    assert set(titles(session)) == {"Open", "Forthcoming", "Between stages"}
    assert set(titles(session, status="open")) == {"Open", "Between stages"}
    assert titles(session, status="forthcoming") == ["Forthcoming"]
    assert titles(session, status="closed") == ["Closed"]
    assert len(titles(session, status="all")) == 4
    rows = {r.title: r for r in inbox_page(session, InboxFilters(status="all"), now=NOW).rows}
    assert rows["Between stages"].next_deadline == in_days(40)
    assert rows["Closed"].next_deadline is None and rows["Closed"].status == "closed"
    assert rows["Forthcoming"].status == "forthcoming"


@pytest.mark.usefixtures("profile")
def test_deadline_within_days(session: Session) -> None:
    make_matched_call(session, {"education": 70}, title="Soon", deadlines=[in_days(6)])
    make_matched_call(session, {"education": 70}, title="Later", deadlines=[in_days(45)])
    make_matched_call(
        session, {"education": 70}, title="Second stage soon", deadlines=[in_days(-10), in_days(12)]
    )
    assert set(titles(session, deadline_within=14)) == {"Soon", "Second stage soon"}
    assert set(titles(session, deadline_within=60)) == {"Soon", "Later", "Second stage soon"}


@pytest.mark.usefixtures("profile")
def test_triage_state_filter_hides_dismissed_calls_by_default(session: Session) -> None:
    editor = make_user(session)
    untouched = make_matched_call(session, {"education": 70}, title="Untouched")
    dismissed = make_matched_call(session, {"education": 70}, title="Dismissed")
    liked = make_matched_call(session, {"education": 70}, title="Interested")
    review.change_state(
        session,
        dismissed,
        TriageState.DISMISSED,
        actor=editor,
        now=NOW,
        reason=DismissReason.NO_PARTNER,
    )
    review.change_state(session, liked, TriageState.INTERESTED, actor=editor, now=NOW)
    assert untouched.id
    assert set(titles(session)) == {"Untouched", "Interested"}
    assert titles(session, state="dismissed") == ["Dismissed"]
    assert titles(session, state="new") == ["Untouched"]
    assert titles(session, state="interested") == ["Interested"]
    assert len(titles(session, state="all")) == 3


@pytest.mark.usefixtures("profile")
def test_area_filter_sorts_and_limits_by_the_areas_own_score(session: Session) -> None:
    make_matched_call(session, {"culture-music": 60, "education": 95}, title="Mostly education")
    make_matched_call(session, {"culture-music": 88}, title="Music")
    make_matched_call(session, {"education": 75}, title="Education only")
    assert titles(session, area="culture-music") == ["Music", "Mostly education"]
    assert titles(session, area="culture-music", min_score=70) == ["Music"]
    page = inbox_page(session, InboxFilters(area="culture-music"), now=NOW)
    assert [r.score for r in page.rows] == [88, 60]
    assert [a.slug for a in page.rows[1].areas] == ["education", "culture-music"]


@pytest.mark.usefixtures("profile")
def test_counts_per_area_are_what_choosing_the_area_shows(session: Session) -> None:
    make_matched_call(session, {"culture-music": 60, "education": 95})
    make_matched_call(session, {"culture-music": 88})
    make_matched_call(session, {"education": 75, "energy-environment": 55})
    make_matched_call(session, {"energy-environment": 80}, deadlines=[in_days(-5)])  # closed
    for min_score in (None, 70.0):
        page = inbox_page(session, InboxFilters(min_score=min_score), now=NOW)
        counts = {a.slug: n for a, n in page.area_counts}
        for slug, count in counts.items():
            chosen = inbox_page(session, InboxFilters(area=slug, min_score=min_score), now=NOW)
            assert chosen.total == count, (slug, min_score)
        assert page.all_areas_count == page.total
    counts = {a.slug: n for a, n in inbox_page(session, InboxFilters(), now=NOW).area_counts}
    assert counts == {"culture-music": 2, "education": 2, "energy-environment": 1}


@pytest.mark.usefixtures("profile")
def test_office_programme_and_free_text_filters(session: Session) -> None:
    culture = make_office(session, slug="kultur")
    editor = make_user(session)
    assigned = make_matched_call(
        session, {"education": 70}, title="Assigned", programme_code="ERASMUS"
    )
    make_matched_call(
        session,
        {"education": 70},
        title="Östgöta music festivals",
        description_text="Support for 100% local festivals",
    )
    make_matched_call(
        session, {"education": 70}, title="Plain", description_text="Nothing to see, 100 per cent"
    )
    review.assign(session, assigned, actor=editor, now=NOW, office=culture, assignee=None)
    assert titles(session, office="kultur") == ["Assigned"]
    assert titles(session, programme="ERASMUS") == ["Assigned"]
    assert titles(session, q="MUSIC") == ["Östgöta music festivals"]
    assert titles(session, q="100%") == ["Östgöta music festivals"]  # % is not a wildcard
    assert titles(session, q="per cent") == ["Plain"]
    with pytest.raises(UnknownFilterValue):
        inbox_page(session, InboxFilters(office="nowhere"), now=NOW)
    with pytest.raises(UnknownFilterValue):
        inbox_page(session, InboxFilters(area="nowhere"), now=NOW)


@pytest.mark.usefixtures("profile")
def test_pages_and_the_export_iterator_give_the_same_rows(session: Session) -> None:
    for n in range(7):
        make_matched_call(
            session, {"education": 50 + n * 7}, title=f"Call {n}", deadlines=[in_days(3 + n * 5)]
        )
    pages = [inbox_page(session, InboxFilters(page=p), now=NOW, page_size=3) for p in (1, 2, 3)]
    assert [p.page_count for p in pages] == [3, 3, 3]
    paged = [r.call_id for p in pages for r in p.rows]
    exported = [r.call_id for r in iter_inbox_rows(session, InboxFilters(), now=NOW)]
    assert paged == exported and len(exported) == 7
    beyond = inbox_page(session, InboxFilters(page=99), now=NOW, page_size=3)
    assert beyond.page == 3 and [r.call_id for r in beyond.rows] == paged[6:]


def test_parse_filters_reports_bad_values_and_keeps_the_good_ones() -> None:
    filters, errors = parse_filters(
        {
            "area": "education",
            "min_score": "abc",
            "deadline_within": "-3",
            "status": "x",
            "state": "maybe",
            "page": "0",
            "q": "  two   words ",
        }
    )
    assert set(errors) == {"min_score", "deadline_within", "status", "state", "page"}
    assert filters == InboxFilters(area="education", q="two words")
    filters, errors = parse_filters({"min_score": "62,5", "deadline_within": "30", "page": "2"})
    assert errors == {}
    assert filters.to_query() == {"min_score": "62.5", "deadline_within": "30", "page": "2"}


def test_refresh_follows_the_active_profile_and_retired_areas(session: Session) -> None:
    make_profile(session)
    call = make_matched_call(session, {"culture-music": 80, "education": 60})
    assert session.get(InboxEntry, call.id).best_score == 80  # type: ignore[union-attr]
    area(session, "culture-music").is_retired = True
    refresh_inbox_entries(session, [call.id], now=NOW)
    session.expire_all()
    assert session.get(InboxEntry, call.id).best_score == 60  # type: ignore[union-attr]
    for match in session.query(CallMatch).filter_by(call_id=call.id):
        match.is_match = False
    refresh_inbox_entries(session, None, now=NOW)
    session.expire_all()
    assert session.get(InboxEntry, call.id) is None


@pytest.mark.usefixtures("profile")
def test_free_text_search_finds_parts_of_words_in_any_case(session: Session) -> None:
    make_matched_call(
        session, {"education": 70}, title="ÖSTGÖTA SKOLOR", description_text="Elever i Norrköping"
    )
    make_matched_call(
        session,
        {"education": 70},
        title="Vinnova call",
        identifier="VIN-2027-01",
        description_text='Say "hello" to innovation',
    )
    make_matched_call(session, {"education": 70}, title="AI in schools")
    assert titles(session, q="östgöta") == ["ÖSTGÖTA SKOLOR"]
    assert titles(session, q="rrköp") == ["ÖSTGÖTA SKOLOR"]
    assert titles(session, q="vin-2027") == ["Vinnova call"]
    assert titles(session, q='"hello"') == ["Vinnova call"]
    assert titles(session, q="AI") == ["AI in schools"]  # too short for the index
    assert titles(session, q="nothing like this") == []


@pytest.mark.usefixtures("profile")
def test_search_follows_edited_calls(session: Session) -> None:
    call = make_matched_call(session, {"education": 70}, title="Old title")
    call.title = "Brand new wording"
    session.flush()
    assert titles(session, q="old title") == []
    assert titles(session, q="new wording") == ["Brand new wording"]


@pytest.mark.usefixtures("profile")
def test_source_filter_and_announced_calls(session: Session) -> None:
    from tests.factories import make_source
    from tracker.models import CallSourceLink

    feed = make_source(session, name="eu-ft-search")
    make_source(session, name="vinnova")
    listed = make_matched_call(session, {"education": 70}, title="Listed by the portal")
    make_matched_call(session, {"education": 70}, title="Elsewhere")
    session.add(
        CallSourceLink(
            call_id=listed.id,
            source_id=feed.id,
            external_id="X-1",
            content_hash="h",
            record={},
            first_seen_at=NOW,
            updated_at=NOW,
        )
    )
    make_matched_call(
        session, {"education": 70}, title="Announced", deadlines=[], opening_note="Opens in spring"
    )
    session.flush()
    assert titles(session, source="eu-ft-search") == ["Listed by the portal"]
    assert titles(session, source="vinnova") == []
    assert titles(session, status="forthcoming") == ["Announced"]
    assert "Announced" not in titles(session, status="open")
    with pytest.raises(UnknownFilterValue):
        inbox_page(session, InboxFilters(source="nowhere"), now=NOW)


def test_matching_keeps_the_inbox_up_to_date(session: Session) -> None:
    from tests.factories import make_call
    from tracker.services.strategy import match_calls

    call = make_call(
        session,
        title="Schools and pupils: exchanges between municipalities in Europe",
        programme_code="43353764",
        programme_label="Erasmus+ (ERASMUS+)",
        description_text=(
            "Local and regional authorities, schools and pre-schools cooperate on school "
            "education: teacher and pupil exchange, early school leaving, digital skills in "
            "schools, adult learning and vocational education in municipalities."
        ),
    )
    assert session.get(InboxEntry, call.id) is None
    match_calls(session, [call.id], now=NOW)
    stored = session.scalars(
        select(CallMatch.score).where(CallMatch.call_id == call.id, CallMatch.is_match.is_(True))
    ).all()
    assert stored, "the engine should match a call about schools to education"
    entry = session.get(InboxEntry, call.id)
    assert entry is not None and entry.best_score == max(stored)

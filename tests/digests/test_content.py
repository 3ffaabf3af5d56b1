"""What goes into a digest: each section, its filters, and what a reader sees of each item."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tests.digests.conftest import BASE_URL
from tests.factories import NOW, make_call, make_office, make_user
from tests.factories.digests import make_areas, make_match, make_previous_digest, make_subscription
from tracker.config import Settings
from tracker.models import (
    CallChange,
    CallReview,
    Comment,
    DigestDismissal,
    DigestSection,
    FundingCall,
    Mention,
    Role,
    TriageEvent,
    TriageState,
    Watch,
)
from tracker.services.digests import build_digest, changed_fields, preview_digest


def _review(session: Session, call_id: int, state: TriageState, **extra: object) -> CallReview:
    review = CallReview(call_id=call_id, state=state, updated_at=NOW, **extra)
    session.add(review)
    session.flush()
    return review


def test_new_matches_follow_the_subscribers_areas_score_and_dismissals(
    session: Session, settings: Settings
) -> None:
    areas = make_areas(session)
    user = make_user(session, language="en")
    sub = make_subscription(session, user, focus_area_slugs=["culture-music"], min_score=60)
    culture = areas["culture-music"]

    wanted = make_call(session, title="Music cities network")
    make_match(
        session,
        wanted,
        culture,
        85,
        evidence=[
            {"text": "weak hint", "weight": 1.0},
            {"text": "creative industries in cities", "weight": 9.0},
        ],
    )
    make_match(session, make_call(session, title="Below my score"), culture, 55)
    make_match(session, make_call(session, title="Other area"), areas["education"], 90)
    make_match(session, make_call(session, title="Not a match"), culture, 95, is_match=False)
    make_match(
        session,
        make_call(session, title="Matched long ago"),
        culture,
        90,
        matched_at=NOW - timedelta(days=10),
    )
    make_match(
        session,
        make_call(session, title="Already closed", deadlines=[NOW - timedelta(days=1)]),
        culture,
    )
    team_dismissed = make_call(session, title="Dismissed by the team")
    make_match(session, team_dismissed, culture)
    _review(session, team_dismissed.id, TriageState.DISMISSED)
    mine_dismissed = make_call(session, title="Not relevant to me")
    make_match(session, mine_dismissed, culture)
    session.add(DigestDismissal(subscription=sub, call=mine_dismissed, created_at=NOW))
    session.flush()

    content = build_digest(session, sub, now=NOW)

    assert [entry.title for entry in content.new] == ["Music cities network"]
    entry = content.new[0]
    assert entry.score == 85
    assert entry.focus_area_name == "Culture, creativity and music"
    # The strongest evidence comes first.
    assert entry.evidence[0].text == "creative industries in cities"
    assert entry.official_url == wanted.url


def test_a_reason_the_tracker_wrote_reaches_a_swedish_reader_in_swedish(
    session: Session, settings: Settings
) -> None:
    """The digest reads the engine's typed evidence and says a coded reading the way the call
    page does, in the subscriber's language; words found in the call stay as they are."""
    areas = make_areas(session)
    sub = make_subscription(session, make_user(session, language="sv"))
    call = make_call(session, title="LIFE Strategic Nature Projects")
    make_match(
        session,
        call,
        areas["culture-music"],
        70,
        evidence=[
            {"kind": "short-record", "text": "short record", "weight": 4.0, "code": "short-record"},
            {"kind": "term", "text": "nature restoration", "weight": 2.0},
            {"kind": "term", "text": "a weak hint", "weight": 0.5},
        ],
    )

    content, rendered = preview_digest(session, settings, sub, now=NOW)

    assert [e.code for e in content.new[0].evidence] == ["short-record", None]
    assert "Kort post: matchningen vilar på titeln och programmet" in rendered.text
    assert "nature restoration" in rendered.text
    assert "Short record" not in rendered.text and "a weak hint" not in rendered.text


def test_gated_calls_are_never_new_matches(session: Session, settings: Settings) -> None:
    areas = make_areas(session)
    sub = make_subscription(session, make_user(session, language="en"))
    eligible = make_call(session, title="Open to Swedish cities")
    gated = make_call(
        session,
        title="Only for Danish regions",
        gate_code="interreg-area",
        gate_reason="Interreg Öresund-Kattegat-Skagerrak does not cover Östergötland",
    )
    for call in (eligible, gated):
        make_match(session, call, areas["culture-music"], 90)

    content, rendered = preview_digest(session, settings, sub, now=NOW)

    assert [e.title for e in content.new] == ["Open to Swedish cities"]
    assert "Only for Danish regions" not in rendered.text


def test_new_means_since_the_last_digest_and_never_sent_before(
    session: Session, settings: Settings
) -> None:
    areas = make_areas(session)
    sub = make_subscription(session, make_user(session))
    culture = areas["culture-music"]
    before = make_call(session, title="Matched before the last digest")
    make_match(session, before, culture, matched_at=NOW - timedelta(days=4))
    after = make_call(session, title="Matched after the last digest")
    make_match(session, after, culture, matched_at=NOW - timedelta(days=2))
    sent = make_call(session, title="Rescored but sent last week")
    make_match(session, sent, culture, matched_at=NOW - timedelta(days=1))
    make_previous_digest(
        session,
        sub,
        period_end=NOW - timedelta(days=3),
        items=[(sent, DigestSection.NEW, {})],
    )

    content = build_digest(session, sub, now=NOW)

    assert [e.title for e in content.new] == ["Matched after the last digest"]
    assert content.since == NOW - timedelta(days=3)


def _change(
    session: Session, call: FundingCall, name: str, old: Any, new: Any, at: datetime
) -> None:
    """A change as ingestion records it (``tracker.services.ingest.upsert._apply``)."""
    session.add(
        CallChange(call_id=call.id, field=name, old_value=old, new_value=new, changed_at=at)
    )
    session.flush()


def test_changes_of_followed_calls_since_the_subscriber_last_heard(
    session: Session, settings: Settings
) -> None:
    make_areas(session)
    user = make_user(session, language="en")
    office = make_office(session)
    sub = make_subscription(session, user, office_slugs=[office.slug])
    last_digest = NOW - timedelta(days=7)
    first, moved_to = "2026-12-10T16:00:00+00:00", "2026-12-17T16:00:00+00:00"
    sent = {
        title: make_call(session, title=title, deadlines=[datetime(2026, 12, 17, 16, tzinfo=UTC)])
        for title in (
            "Deadline moved",
            "Budget published",
            "Moved and moved back",
            "Changed before the last digest",
            "Only the title changed",
            "Deadline passed",
        )
    }
    opened = make_call(session, title="Now open", opens_at=NOW - timedelta(days=1))
    postponed = make_call(
        session, title="Opening postponed", opens_at=datetime(2027, 1, 11, 8, tzinfo=UTC)
    )
    make_previous_digest(
        session,
        sub,
        period_end=last_digest,
        items=[(c, DigestSection.NEW, {}) for c in [*sent.values(), opened, postponed]],
    )
    watched = make_call(session, title="Watched, never sent")
    session.add(Watch(user_id=user.id, call_id=watched.id, created_at=NOW))
    in_pipeline = make_call(session, title="In the office's pipeline")
    _review(session, in_pipeline.id, TriageState.PREPARING, office_id=office.id)
    not_followed = make_call(session, title="Nobody follows this one")

    day = timedelta(days=1)
    _change(session, sent["Deadline moved"], "deadlines", [first], [moved_to], NOW - 3 * day)
    _change(
        session,
        sent["Budget published"],
        "budget",
        None,
        {"currency": "EUR", "total": "1500000", "min": None, "max": None, "expected_grants": 3},
        NOW - 2 * day,
    )
    back = sent["Moved and moved back"]
    _change(session, back, "deadlines", [moved_to], [first], NOW - 3 * day)
    _change(session, back, "deadlines", [first], [moved_to], NOW - 2 * day)
    _change(
        session,
        sent["Changed before the last digest"],
        "deadlines",
        [first],
        [moved_to],
        NOW - 9 * day,
    )
    _change(
        session,
        postponed,
        "opens_at",
        "2026-12-01T08:00:00+00:00",
        "2027-01-11T08:00:00+00:00",
        NOW - day,
    )
    _change(session, sent["Only the title changed"], "title", "Old title", "New", NOW - day)
    _change(session, sent["Deadline passed"], "status", "open", "closed", NOW - day)
    _change(session, watched, "status", "open", "withdrawn", NOW - day)
    _change(session, in_pipeline, "deadlines", [], [moved_to], NOW - day)
    _change(session, not_followed, "deadlines", [first], [moved_to], NOW - day)

    content, rendered = preview_digest(session, settings, sub, now=NOW)

    changes = {e.title: [(c.field, c.old, c.new) for c in e.changes] for e in content.changed}
    assert changes == {
        "Deadline moved": [("deadline", first, moved_to)],
        "Budget published": [("budget", None, "1500000")],
        "Now open": [("status", "forthcoming", "open")],
        "Opening postponed": [
            ("opening", "2026-12-01T08:00:00+00:00", "2027-01-11T08:00:00+00:00")
        ],
        "Watched, never sent": [("status", "open", "withdrawn")],
        "In the office's pipeline": [("deadline", None, moved_to)],
    }
    # Deadlines are shown in Stockholm time (UTC+1 in December).
    assert "Deadline moved from 10 Dec 2026 17:00 to 17 Dec 2026 17:00" in rendered.text
    assert "Budget published: 1,500,000 EUR" in rendered.text
    assert "Status changed from forthcoming to open" in rendered.text
    assert "Status changed from open to withdrawn" in rendered.text
    assert "New deadline: 17 Dec 2026 17:00" in rendered.text
    assert "Opening date moved from 1 December 2026 to 11 January 2027" in rendered.text


def test_deadline_changes_pair_removed_and_added_dates() -> None:
    def iso(month: int, day: int) -> str:
        return datetime(2026, month, day, 21, 59, 59, tzinfo=UTC).isoformat()

    now = datetime(2026, 9, 20, tzinfo=UTC)

    def pairs(old: list[str], new: list[str]) -> list[tuple[str | None, str | None]]:
        return [(c.old, c.new) for c in changed_fields("deadlines", old, new, now)]

    # Two stages moved: each old date pairs with its new one.
    assert pairs([iso(10, 1), iso(12, 1)], [iso(10, 15), iso(12, 15)]) == [
        (iso(10, 1), iso(10, 15)),
        (iso(12, 1), iso(12, 15)),
    ]
    # Extended after it had passed.
    assert pairs([iso(9, 15)], [iso(10, 1)]) == [(iso(9, 15), iso(10, 1))]
    # A passed stage the source stops listing has not moved.
    assert pairs([iso(3, 1), iso(10, 1)], [iso(10, 1)]) == []
    assert pairs([iso(3, 1), iso(10, 1)], [iso(10, 20)]) == [(iso(10, 1), iso(10, 20))]
    # An upcoming stage removed.
    assert pairs([iso(10, 1), iso(12, 1)], [iso(10, 1)]) == [(iso(12, 1), None)]


def test_closing_soon_is_watched_or_pipeline_calls_within_the_horizon(
    session: Session, settings: Settings
) -> None:
    make_areas(session)
    user = make_user(session)
    mine, other = make_office(session), make_office(session)
    sub = make_subscription(session, user, closing_soon_days=30)

    def call(title: str, days: int) -> int:
        return make_call(session, title=title, deadlines=[NOW + timedelta(days=days)]).id

    watched = call("Watched, closes in 10 days", 10)
    session.add(Watch(user_id=user.id, call_id=watched, created_at=NOW))
    _review(session, call("Interested, closes in 20 days", 20), TriageState.INTERESTED)
    _review(session, call("Preparing, closes in 40 days", 40), TriageState.PREPARING)
    _review(session, call("Submitted, closes in 5 days", 5), TriageState.SUBMITTED)
    _review(
        session, call("Preparing in another office", 3), TriageState.PREPARING, office_id=other.id
    )
    session.flush()

    everyone = build_digest(session, sub, now=NOW)
    assert [e.title for e in everyone.closing] == [
        "Preparing in another office",
        "Watched, closes in 10 days",
        "Interested, closes in 20 days",
    ]

    sub.office_slugs = [mine.slug]
    session.flush()
    own_office = build_digest(session, sub, now=NOW)
    assert [e.title for e in own_office.closing] == ["Watched, closes in 10 days"]


def test_mentions_and_assignments_since_the_last_digest(
    session: Session, settings: Settings
) -> None:
    make_areas(session)
    user = make_user(session, language="en", display_name="Anna")
    colleague = make_user(session, display_name="Björn")
    sub = make_subscription(session, user)
    call = make_call(session, title="Urban music hubs")
    comment = Comment(
        call_id=call.id,
        author_id=colleague.id,
        body="@anna could you  check\nthe co-financing rules?",
        created_at=NOW - timedelta(days=1),
    )
    comment.mentions.append(Mention(user_id=user.id, created_at=NOW - timedelta(days=1)))
    old = Comment(call_id=call.id, author_id=colleague.id, body="old", created_at=NOW)
    old.mentions.append(Mention(user_id=user.id, created_at=NOW - timedelta(days=20)))
    session.add_all([comment, old])
    assigned = make_call(session, title="Assigned to Anna")
    self_assigned = make_call(session, title="Anna took it herself")
    session.add_all(
        [
            TriageEvent(
                call_id=assigned.id,
                actor_id=colleague.id,
                at=NOW - timedelta(days=2),
                kind="assignment",
                assignee_id=user.id,
            ),
            TriageEvent(
                call_id=self_assigned.id,
                actor_id=user.id,
                at=NOW - timedelta(days=2),
                kind="assignment",
                assignee_id=user.id,
            ),
        ]
    )
    session.flush()

    content, rendered = preview_digest(session, settings, sub, now=NOW)

    assert [e.title for e in content.mentions] == ["Urban music hubs"]
    assert content.mentions[0].excerpt == "@anna could you check the co-financing rules?"
    assert [e.title for e in content.assignments] == ["Assigned to Anna"]
    assert "Björn mentioned you: “@anna could you check the co-financing rules?”" in rendered.text
    assert "Björn assigned it to Anna" in rendered.text


def test_an_office_mailbox_gets_the_office_assignments(
    session: Session, settings: Settings
) -> None:
    make_areas(session)
    office = make_office(session, shared_mailbox="kultur@norrkoping.test")
    sub = make_subscription(session, office=office)
    call = make_call(session, title="For the culture office")
    actor = make_user(session, role=Role.ADMIN)
    session.add(
        TriageEvent(
            call_id=call.id,
            actor_id=actor.id,
            at=NOW - timedelta(days=1),
            kind="assignment",
            office_id=office.id,
        )
    )
    session.flush()

    content = build_digest(session, sub, now=NOW)

    assert sub.address == "kultur@norrkoping.test"
    assert [e.title for e in content.assignments] == ["For the culture office"]
    assert content.assignments[0].assignee_name == office.name_sv


def test_pipeline_summary_and_no_call_twice(session: Session, settings: Settings) -> None:
    areas = make_areas(session)
    user = make_user(session, language="en")
    sub = make_subscription(session, user)
    for state in (
        TriageState.INTERESTED,
        TriageState.INTERESTED,
        TriageState.PREPARING,
        TriageState.SUBMITTED,
        TriageState.DISMISSED,
    ):
        _review(session, make_call(session, deadlines=[NOW + timedelta(days=90)]).id, state)
    # New, watched and closing soon at once: shown once, as new.
    both = make_call(session, title="New and closing", deadlines=[NOW + timedelta(days=5)])
    make_match(session, both, areas["education"])
    session.add(Watch(user_id=user.id, call_id=both.id, created_at=NOW))
    session.flush()

    content, rendered = preview_digest(session, settings, sub, now=NOW)

    assert content.pipeline == {"interested": 2, "preparing": 1, "submitted": 1}
    assert "Pipeline: 2 interested, 1 preparing, 1 submitted." in rendered.text
    assert [e.title for e in content.new] == ["New and closing"]
    assert content.closing == ()
    assert rendered.text.count("New and closing") == 1


def test_each_item_shows_what_a_reader_needs(session: Session, settings: Settings) -> None:
    areas = make_areas(session)
    sub = make_subscription(session, make_user(session, language="en"))
    deadline = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)  # 17:00 in Stockholm, 12 days ahead
    call = make_call(
        session,
        title="Music cities",
        programme_label="Creative Europe (CREA)",
        url="https://ec.europa.eu/info/funding-tenders/opportunities/portal/topic/CREA-1",
        deadlines=[deadline],
    )
    make_match(session, call, areas["culture-music"], 82.4)

    _content, rendered = preview_digest(session, settings, sub, now=NOW)

    text = rendered.text
    assert "* Music cities" in text
    assert "Creative Europe (CREA)" in text
    assert "Deadline: 3 Dec 2026 17:00 (12 days left)" in text
    assert "Score 82 · Culture, creativity and music" in text
    assert "Why: music festivals and creative industries" in text
    assert f"In the tracker: {settings.mail.base_url}/calls/{call.id}" in text
    assert f"Official page: {call.url}" in text
    assert f"Not relevant to me: {settings.mail.base_url}/digest/not-relevant/" in text
    assert rendered.subject == "Funding digest, week 47: 1 new match"
    assert BASE_URL not in text  # the default test settings use their own base URL


def test_the_digest_speaks_the_subscribers_language(session: Session, settings: Settings) -> None:
    areas = make_areas(session)
    sub = make_subscription(session, make_user(session, language="sv"), language="sv")
    call = make_call(
        session,
        title="Music cities",
        title_sv="Musikstäder",
        deadlines=[datetime(2026, 12, 3, 16, 0, tzinfo=UTC)],
    )
    make_match(session, call, areas["culture-music"])
    watched = make_call(session, title="Closing", deadlines=[NOW + timedelta(days=1)])
    session.add(Watch(user_id=sub.user_id, call_id=watched.id, created_at=NOW))
    session.flush()

    _content, swedish = preview_digest(session, settings, sub, now=NOW)

    assert swedish.subject == "Utlysningsbrev vecka 47: 1 ny träff, 1 stänger snart"
    assert "== Nya träffar (1) ==" in swedish.text
    assert "* Musikstäder" in swedish.text
    assert "Sista dag: 3 dec. 2026 17:00 (12 dagar kvar)" in swedish.text
    assert "Kultur, kreativitet och musik" in swedish.text
    assert "1 dag kvar" in swedish.text
    assert 'lang="sv"' in swedish.html
    assert "Inte relevant för mig" in swedish.html

    sub.language = "en"
    session.flush()
    _content, english = preview_digest(session, settings, sub, now=NOW)
    assert english.subject == "Funding digest, week 47: 1 new match, 1 closing soon"
    assert "* Music cities" in english.text
    assert "1 day left" in english.text


def test_areas_retired_since_they_were_chosen_read_as_all(
    session: Session, settings: Settings
) -> None:
    areas = make_areas(session)
    sub = make_subscription(session, make_user(session), focus_area_slugs=["education"])
    make_match(session, make_call(session, title="Culture call"), areas["culture-music"])
    make_match(session, make_call(session, title="Education call"), areas["education"])

    assert [e.title for e in build_digest(session, sub, now=NOW).new] == ["Education call"]
    areas["education"].is_retired = True
    session.flush()
    assert [e.title for e in build_digest(session, sub, now=NOW).new] == ["Culture call"]

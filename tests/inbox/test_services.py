"""The review services: the triage workflow and its rules, assignment, mentions, watching,
saved filters and milestones."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import NOW, make_office, make_profile, make_user
from tests.factories.inbox import make_matched_call
from tracker.errors import InvalidTransition, NotFound, ValidationFailed
from tracker.models import (
    AuditEvent,
    CallReview,
    DismissReason,
    FundingCall,
    InboxEntry,
    MatchDecision,
    Role,
    TriageEvent,
    TriageState,
    User,
)
from tracker.services import inbox as review

S = TriageState


@pytest.fixture()
def call(session: Session) -> FundingCall:
    make_profile(session)
    return make_matched_call(session, {"education": 70})


@pytest.fixture()
def actor(session: Session) -> User:
    return make_user(session, role=Role.EDITOR)


def test_the_whole_workflow_is_recorded(session: Session, call: FundingCall, actor: User) -> None:
    path = [S.INTERESTED, S.PREPARING, S.SUBMITTED, S.AWARDED]
    for n, state in enumerate(path):
        review.change_state(
            session, call, state, actor=actor, now=NOW + timedelta(hours=n), note=f"step {n}"
        )
    events = review.timeline(session, call)
    assert [(e.from_state, e.to_state) for e in events] == [
        (S.NEW, S.INTERESTED),
        (S.INTERESTED, S.PREPARING),
        (S.PREPARING, S.SUBMITTED),
        (S.SUBMITTED, S.AWARDED),
    ]
    assert [e.note for e in events] == ["step 0", "step 1", "step 2", "step 3"]
    assert {e.actor_id for e in events} == {actor.id}
    assert review.current_state(session, call) == S.AWARDED
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "call.triaged").limit(1))


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (S.NEW, S.SUBMITTED),
        (S.NEW, S.AWARDED),
        (S.SUBMITTED, S.DISMISSED),
        (S.AWARDED, S.NEW),
        (S.NEW, S.NEW),
    ],
)
def test_moves_the_workflow_does_not_allow(
    session: Session, call: FundingCall, actor: User, start: TriageState, target: TriageState
) -> None:
    if start != S.NEW:
        session.add(CallReview(call_id=call.id, state=start, updated_at=NOW))
        session.flush()
    reason = DismissReason.NO_PARTNER if target == S.DISMISSED else None
    with pytest.raises(InvalidTransition):
        review.change_state(session, call, target, actor=actor, now=NOW, reason=reason)


def test_every_state_can_be_reached_from_new(session: Session, call: FundingCall) -> None:
    reachable = {S.NEW}
    frontier = [S.NEW]
    while frontier:
        for nxt in review.TRANSITIONS[frontier.pop()]:
            if nxt not in reachable:
                reachable.add(nxt)
                frontier.append(nxt)
    assert reachable == set(TriageState)


def test_dismissal_rules(session: Session, call: FundingCall, actor: User) -> None:
    with pytest.raises(ValidationFailed) as missing:
        review.change_state(session, call, S.DISMISSED, actor=actor, now=NOW)
    assert "reason" in missing.value.errors
    with pytest.raises(ValidationFailed) as unexplained:
        review.change_state(
            session, call, S.DISMISSED, actor=actor, now=NOW, reason=DismissReason.OTHER
        )
    assert "note" in unexplained.value.errors
    with pytest.raises(ValidationFailed):
        review.change_state(
            session, call, S.INTERESTED, actor=actor, now=NOW, reason=DismissReason.NO_PARTNER
        )
    review.change_state(
        session,
        call,
        S.DISMISSED,
        actor=actor,
        now=NOW,
        reason=DismissReason.OTHER,
        note="Covered by the region",
    )
    stored = review.get_review(session, call)
    assert stored is not None and stored.dismiss_reason == DismissReason.OTHER
    # Taking it up again clears the reason; the timeline keeps it.
    review.change_state(session, call, S.INTERESTED, actor=actor, now=NOW)
    assert stored.dismiss_reason is None
    assert [e.reason for e in review.timeline(session, call)] == [DismissReason.OTHER, None]


def test_decisions_reach_the_inbox_entry(session: Session, call: FundingCall, actor: User) -> None:
    office = make_office(session)
    review.change_state(session, call, S.INTERESTED, actor=actor, now=NOW)
    review.assign(session, call, actor=actor, now=NOW, office=office, assignee=None)
    entry = session.get(InboxEntry, call.id)
    session.refresh(entry)
    assert entry is not None and (entry.state, entry.office_id) == (S.INTERESTED, office.id)


@pytest.mark.parametrize(
    ("state", "reason", "label"),
    [
        (S.INTERESTED, None, True),
        (S.AWARDED, None, True),
        (S.DISMISSED, DismissReason.NOT_OUR_GOALS, False),
        (S.DISMISSED, DismissReason.NO_CAPACITY, None),
        (S.DISMISSED, DismissReason.DEADLINE_TOO_CLOSE, None),
        (S.NEW, None, None),
    ],
)
def test_what_a_decision_teaches_the_matching(
    state: TriageState, reason: DismissReason | None, label: bool | None
) -> None:
    assert review.learning_label(state, reason) == label


def test_bulk_dismiss_skips_what_cannot_be_dismissed(
    session: Session, call: FundingCall, actor: User
) -> None:
    other = make_matched_call(session, {"education": 60})
    submitted = make_matched_call(session, {"education": 60})
    session.add(CallReview(call_id=submitted.id, state=S.SUBMITTED, updated_at=NOW))
    session.flush()
    result = review.bulk_dismiss(
        session,
        [call.id, other.id, submitted.id, call.id],
        reason=DismissReason.NOT_ELIGIBLE,
        actor=actor,
        now=NOW,
    )
    assert result.dismissed == sorted([call.id, other.id]) and result.skipped == [submitted.id]
    with pytest.raises(NotFound):
        review.bulk_dismiss(
            session, [999999], reason=DismissReason.OTHER, actor=actor, now=NOW, note="x"
        )
    with pytest.raises(ValidationFailed):
        review.bulk_dismiss(session, [], reason=DismissReason.OTHER, actor=actor, now=NOW)


def test_assignment(session: Session, call: FundingCall, actor: User) -> None:
    office = make_office(session)
    person = make_user(session, office=office)
    event = review.assign(session, call, actor=actor, now=NOW, office=None, assignee=person)
    assert (event.kind, event.office_id, event.assignee_id) == ("assignment", office.id, person.id)
    with pytest.raises(InvalidTransition):
        review.assign(session, call, actor=actor, now=NOW, office=office, assignee=person)
    person.is_active = False
    with pytest.raises(ValidationFailed):
        review.assign(session, call, actor=actor, now=NOW, office=None, assignee=person)
    cleared = review.assign(session, call, actor=actor, now=NOW, office=None, assignee=None)
    assert cleared.office_id is None and cleared.assignee_id is None
    assert len(session.scalars(select(TriageEvent)).all()) == 2


def test_mentions_resolve_to_active_users(session: Session, call: FundingCall, actor: User) -> None:
    anna = make_user(session, email="anna@norrkoping.test")
    make_user(session, email="bo@norrkoping.test")
    make_user(session, email="bo@linkoping.test")  # two Bo: "@bo" is ambiguous
    bo_n = session.scalar(select(User).where(User.email == "bo@norrkoping.test"))
    make_user(session, email="gone@norrkoping.test", is_active=False)
    body = "@anna and @Anna again, @bo, @bo@norrkoping.test, @gone, mail@anna.se, @nobody."
    assert review.resolve_mentions(session, body) == [anna, bo_n]
    comment = review.add_comment(session, call, body, author=actor, now=NOW)
    assert sorted(m.user_id for m in comment.mentions) == sorted([anna.id, bo_n.id])  # type: ignore[union-attr]
    with pytest.raises(ValidationFailed):
        review.add_comment(session, call, "   ", author=actor, now=NOW)


def test_watching_is_idempotent(session: Session, call: FundingCall, actor: User) -> None:
    first = review.watch(session, call, actor, now=NOW)
    assert review.watch(session, call, actor, now=NOW).id == first.id
    assert review.is_watching(session, call, actor)
    assert review.unwatch(session, call, actor) is True
    assert review.unwatch(session, call, actor) is False


def test_saved_filters_are_normalised_and_replaced_by_name(session: Session, actor: User) -> None:
    saved = review.save_filter(
        session,
        actor,
        "  Music  soon ",
        "?area=culture-music&page=4&bogus=1&deadline_within=30",
        now=NOW,
    )
    assert (saved.name, saved.query) == ("Music soon", "area=culture-music&deadline_within=30")
    again = review.save_filter(session, actor, "Music soon", "q=festival", now=NOW)
    assert again.id == saved.id and again.query == "q=festival"
    with pytest.raises(ValidationFailed):
        review.save_filter(session, actor, "Bad", "min_score=lots", now=NOW)
    with pytest.raises(NotFound):
        review.delete_saved_filter(session, make_user(session), saved.id)
    review.delete_saved_filter(session, actor, saved.id)
    assert review.list_saved_filters(session, actor) == []


def test_milestones(session: Session, call: FundingCall, actor: User) -> None:
    with pytest.raises(ValidationFailed):
        review.add_milestone(session, call, " ", date(2026, 12, 1), actor=actor, now=NOW)
    late = review.add_milestone(session, call, "Report", date(2027, 3, 1), actor=actor, now=NOW)
    early = review.add_milestone(session, call, "Draft", date(2026, 12, 1), actor=actor, now=NOW)
    assert review.milestones(session, call) == [early, late]
    other = make_matched_call(session, {"education": 60})
    with pytest.raises(NotFound):
        review.delete_milestone(session, late.id, call=other)
    review.delete_milestone(session, late.id, call=call)
    assert review.milestones(session, call) == [early]


def test_our_projects_in_the_calls_programme(session: Session, call: FundingCall) -> None:
    from tests.factories.projects import make_project

    call.programme_code = "43251814"
    call.programme_label = "Creative Europe (CREA)"
    sibling = make_matched_call(session, {"education": 60}, programme_code="43251814")
    by_call = make_project(session, title="Applies here", programme=None, call_id=call.id)
    by_sibling = make_project(session, title="Earlier round", programme=None, call_id=sibling.id)
    by_name = make_project(session, title="Named", programme="creative europe")
    by_code = make_project(session, title="Coded", programme="CREA")
    make_project(session, title="Elsewhere", programme="Erasmus+")
    found = {p.title for p in review.programme_projects(session, call)}
    assert found == {by_call.title, by_sibling.title, by_name.title, by_code.title}


def test_decisions_that_say_something_teach_the_matching_engine(
    session: Session, call: FundingCall, actor: User
) -> None:
    unsure = make_matched_call(session, {"education": 60})
    liked = make_matched_call(
        session, {"education": 80, "culture-music": 65, "energy-environment": 10}
    )
    review.change_state(
        session, call, S.DISMISSED, actor=actor, now=NOW, reason=DismissReason.NOT_OUR_GOALS
    )
    review.change_state(
        session, unsure, S.DISMISSED, actor=actor, now=NOW, reason=DismissReason.NO_CAPACITY
    )
    review.change_state(session, liked, S.INTERESTED, actor=actor, now=NOW)
    decisions = {
        (d.call_id, d.area_slug): (d.relevant, d.reason, d.actor_id)
        for d in session.scalars(select(MatchDecision))
    }
    assert decisions == {
        (call.id, "education"): (False, "not-our-goals", actor.id),
        (liked.id, "education"): (True, "fits-strategy", actor.id),
        (liked.id, "culture-music"): (True, "fits-strategy", actor.id),
    }


def test_deadline_history_and_sources_come_from_ingestion(
    session: Session, call: FundingCall
) -> None:
    from tests.factories import make_source
    from tracker.models import CallChange, CallSourceLink

    source = make_source(session, name="eu-ft-bulk")
    session.add(
        CallSourceLink(
            call_id=call.id,
            source_id=source.id,
            external_id="CREA-1",
            content_hash="h",
            record={"url": "https://ec.europa.eu/x"},
            first_seen_at=NOW,
            updated_at=NOW,
        )
    )
    session.add(
        CallChange(
            call_id=call.id,
            field="deadlines",
            old_value=["2026-09-15T15:00:00+00:00"],
            new_value=["2026-10-01T15:00:00+00:00"],
            changed_at=NOW - timedelta(days=10),
            source_id=source.id,
        )
    )
    session.add(
        CallChange(call_id=call.id, field="title", old_value="a", new_value="b", changed_at=NOW)
    )
    session.flush()
    (moved,) = review.deadline_history(session, call)
    assert (moved.old.month, moved.old.day, moved.new.month, moved.new.day) == (9, 15, 10, 1)  # type: ignore[union-attr]
    assert moved.source_name == "eu-ft-bulk" and moved.noticed_at == NOW - timedelta(days=10)
    (listed,) = review.call_sources(session, call)
    assert (listed.name, listed.external_id, listed.url) == (
        "eu-ft-bulk",
        "CREA-1",
        "https://ec.europa.eu/x",
    )

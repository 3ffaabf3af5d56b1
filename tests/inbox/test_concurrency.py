"""Eight editors deciding on one call at the same moment, through the web app, on the suite's
real database (SQLite, or PostgreSQL with TRACKER_TEST_DATABASE_URL): every decision is one
link of a single chain, and the workflow's forbidden moves never happen.

These tests commit for real (each editor has its own connection, as behind gunicorn), so they
do not use the rolled-back ``session`` fixture; every table is emptied afterwards."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.conftest import empty_all_tables
from tests.factories import login, make_call, make_office, make_user
from tracker.app import create_app
from tracker.clock import FixedClock
from tracker.config import Settings
from tracker.db import make_session_factory
from tracker.models import CallReview, Role, TriageEvent, TriageState, User
from tracker.services.inbox import TRANSITIONS

EDITORS = 8
POSTS_PER_EDITOR = 12


@dataclass
class World:
    app: Flask
    engine: Engine
    editor_ids: list[int]
    office_slugs: list[str]
    call_ids: list[int]


@pytest.fixture()
def world(engine: Engine, settings: Settings, clock: FixedClock) -> Iterator[World]:
    factory = make_session_factory(engine)
    with factory() as session:
        editors = [make_user(session, Role.EDITOR) for _ in range(EDITORS)]
        offices = [make_office(session) for _ in range(3)]
        calls = [make_call(session) for _ in range(4)]
        session.commit()
        ids = [u.id for u in editors], [o.slug for o in offices], [c.id for c in calls]
    app = create_app(settings, session_factory=factory, testing=True, clock=clock)
    try:
        yield World(app, engine, *ids)
    finally:
        empty_all_tables(engine)


def _run_editors(world: World, work: Callable[[int, random.Random], list[int]]) -> list[int]:
    """Run ``work(editor_id, rng)`` in one thread per editor, all released at once; the HTTP
    statuses they saw."""
    barrier = threading.Barrier(EDITORS)
    statuses: list[int] = []
    failures: list[BaseException] = []

    def editor(index: int) -> None:
        try:
            barrier.wait()
            statuses.extend(work(world.editor_ids[index], random.Random(index)))
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=editor, args=(i,)) for i in range(EDITORS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not failures, failures
    return statuses


def _client_for(world: World, editor_id: int) -> tuple[FlaskClient, str]:
    client = world.app.test_client()
    with Session(world.engine) as session:
        user = session.get_one(User, editor_id)
        login(client, user)
    with client.session_transaction() as flask_session:
        flask_session["csrf_token"] = "csrf"
    return client, "csrf"


def _state_post(state: TriageState, csrf: str) -> dict[str, str]:
    data = {"state": state.value, "csrf_token": csrf}
    if state == TriageState.DISMISSED:
        data["reason"] = "no_capacity"
    return data


def _chain_errors(session: Session, call_id: int) -> list[str]:
    """Every break in the call's chain of state events, and a review that disagrees with it."""
    events = session.scalars(
        select(TriageEvent)
        .where(TriageEvent.call_id == call_id, TriageEvent.kind == "state")
        .order_by(TriageEvent.id)
    ).all()
    errors = []
    state = TriageState.NEW
    for event in events:
        assert event.from_state is not None and event.to_state is not None
        if event.from_state != state:
            errors.append(f"event {event.id}: from {event.from_state} after {state}")
        if event.to_state not in TRANSITIONS[event.from_state]:
            errors.append(f"event {event.id}: forbidden {event.from_state} -> {event.to_state}")
        state = event.to_state
    review = session.scalar(select(CallReview).where(CallReview.call_id == call_id))
    if (review.state if review else TriageState.NEW) != state:
        errors.append(f"review says {review and review.state}, the timeline ends at {state}")
    return errors


def test_eight_editors_triaging_one_call_at_once_leave_one_valid_chain(world: World) -> None:
    call_id = world.call_ids[0]
    states = list(TriageState)

    def work(editor_id: int, rng: random.Random) -> list[int]:
        client, csrf = _client_for(world, editor_id)
        seen = []
        for _ in range(POSTS_PER_EDITOR):
            state = rng.choice(states)
            response = client.post(f"/calls/{call_id}/triage", data=_state_post(state, csrf))
            seen.append(response.status_code)
        return seen

    statuses = _run_editors(world, work)

    assert set(statuses) <= {302, 409}, statuses
    with Session(world.engine) as session:
        saved = session.scalars(
            select(TriageEvent).where(TriageEvent.call_id == call_id, TriageEvent.kind == "state")
        ).all()
        # Every accepted post is one event, every refused one none.
        assert len(saved) == statuses.count(302) >= EDITORS
        assert _chain_errors(session, call_id) == []


def test_concurrent_assignments_and_bulk_dismissals_keep_every_chain_valid(world: World) -> None:
    first = world.call_ids[0]

    def work(editor_id: int, rng: random.Random) -> list[int]:
        client, csrf = _client_for(world, editor_id)
        seen = []
        for n in range(POSTS_PER_EDITOR):
            action = (editor_id + n) % 3
            if action == 0:
                response = client.post(
                    f"/calls/{first}/assign",
                    data={"office": rng.choice(world.office_slugs), "csrf_token": csrf},
                )
            elif action == 1:
                response = client.post(
                    "/calls/bulk-dismiss",
                    data={
                        "call_ids": [str(i) for i in rng.sample(world.call_ids, 3)],
                        "reason": "no_capacity",
                        "csrf_token": csrf,
                    },
                )
            else:
                call_id = rng.choice(world.call_ids)
                state = rng.choice([TriageState.NEW, TriageState.INTERESTED])
                response = client.post(f"/calls/{call_id}/triage", data=_state_post(state, csrf))
            seen.append(response.status_code)
        return seen

    statuses = _run_editors(world, work)

    assert set(statuses) <= {302, 409}, statuses
    with Session(world.engine) as session:
        for call_id in world.call_ids:
            assert _chain_errors(session, call_id) == [], call_id
        assignments = session.scalars(
            select(TriageEvent)
            .where(TriageEvent.call_id == first, TriageEvent.kind == "assignment")
            .order_by(TriageEvent.id)
        ).all()
        assert assignments
        review = session.scalar(select(CallReview).where(CallReview.call_id == first))
        assert review is not None
        # The call is with the office of the last assignment recorded, not of a lost one.
        assert review.office_id == assignments[-1].office_id
        # Bulk dismissals went through on every call, each one link of its chain.
        dismissed = session.scalars(
            select(TriageEvent.call_id).where(TriageEvent.to_state == TriageState.DISMISSED)
        ).all()
        assert set(dismissed) == set(world.call_ids)


def test_a_decision_on_a_call_someone_changed_meanwhile_is_refused_and_keeps_the_note(
    world: World,
) -> None:
    call_id = world.call_ids[0]
    first_editor, second_editor = world.editor_ids[:2]
    anna, _ = _client_for(world, first_editor)
    bertil, _ = _client_for(world, second_editor)
    page = bertil.get(f"/calls/{call_id}").get_data(as_text=True)
    assert 'name="seen_event" value="0"' in page

    anna.post(f"/calls/{call_id}/triage", data={"state": "interested", "csrf_token": "csrf"})
    response = bertil.post(
        f"/calls/{call_id}/triage",
        data={
            "state": "dismissed",
            "reason": "no_capacity",
            "note": "Vi hinner inte i vår",
            "seen_event": "0",
            "csrf_token": "csrf",
        },
    )

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Någon annan ändrade utlysningen" in page
    assert "Vi hinner inte i vår" in page
    with Session(world.engine) as session:
        review = session.scalar(select(CallReview).where(CallReview.call_id == call_id))
        assert review is not None and review.state == TriageState.INTERESTED

"""Bulk dismissal from a stale inbox page: a call someone else decided on after the page was
shown is left as it is and named in the message; the other ticked calls are dismissed. Also
with two editors posting the same stale page at the same moment (real commits, one connection
each, as behind gunicorn)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.conftest import empty_all_tables
from tests.factories import NOW, login, make_profile, make_user
from tests.factories.inbox import make_matched_call
from tests.inbox.test_concurrency import _chain_errors
from tracker.app import create_app
from tracker.clock import FixedClock
from tracker.config import Settings
from tracker.db import make_session_factory
from tracker.models import CallReview, DismissReason, Role, TriageEvent, TriageState, User
from tracker.services import inbox as review

SEEN = re.compile(r'name="seen_(\d+)" value="(\d+)"')


def _seen_fields(page: str) -> dict[str, str]:
    return {f"seen_{call_id}": version for call_id, version in SEEN.findall(page)}


def _state(session: Session, call_id: int) -> TriageState:
    found = session.scalar(
        select(CallReview.state)
        .where(CallReview.call_id == call_id)
        .execution_options(populate_existing=True)
    )
    return found or TriageState.NEW


def test_bulk_dismiss_leaves_a_call_changed_since_the_page_and_dismisses_the_rest(
    session: Session,
) -> None:
    make_profile(session, ("education",))
    actor, other = make_user(session, role=Role.EDITOR), make_user(session, role=Role.EDITOR)
    first = make_matched_call(session, {"education": 60})
    second = make_matched_call(session, {"education": 61})
    review.change_state(session, first, TriageState.INTERESTED, actor=other, now=NOW)
    seen = review.triage_versions(session, [first.id, second.id])
    assert set(seen) == {first.id}  # a call never decided on has no event yet (version 0)
    # After the page was shown, someone moves the first call on.
    review.change_state(session, first, TriageState.PREPARING, actor=other, now=NOW)

    result = review.bulk_dismiss(
        session,
        [first.id, second.id],
        reason=DismissReason.NO_CAPACITY,
        actor=actor,
        now=NOW,
        seen={first.id: seen[first.id], second.id: 0},
    )

    assert result.changed == [first.id] and result.dismissed == [second.id]
    assert result.skipped == []
    assert _state(session, first.id) is TriageState.PREPARING
    assert _state(session, second.id) is TriageState.DISMISSED


def test_the_inbox_page_sends_its_versions_and_names_the_calls_it_left(
    client: FlaskClient, session: Session, csrf: str
) -> None:
    make_profile(session, ("education",))
    editor = make_user(session, role=Role.EDITOR, language="en")
    other = make_user(session, role=Role.EDITOR)
    first = make_matched_call(session, {"education": 60}, title="Changed meanwhile")
    second = make_matched_call(session, {"education": 61}, title="Still new")
    login(client, editor)
    page = client.get("/calls").get_data(as_text=True)
    seen = _seen_fields(page)
    assert set(seen) == {f"seen_{first.id}", f"seen_{second.id}"}

    review.change_state(session, first, TriageState.INTERESTED, actor=other, now=NOW)
    response = client.post(
        "/calls/bulk-dismiss",
        data={
            "call_ids": [str(first.id), str(second.id)],
            "reason": "no_capacity",
            "csrf_token": csrf,
            **seen,
        },
    )

    message = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 call dismissed" in message
    assert "someone else changed it after this page was shown (Changed meanwhile)" in message
    assert _state(session, first.id) is TriageState.INTERESTED
    assert _state(session, second.id) is TriageState.DISMISSED


@pytest.fixture()
def shared(engine: Engine, settings: Settings, clock: FixedClock) -> Iterator[Flask]:
    factory = make_session_factory(engine)
    app = create_app(settings, session_factory=factory, testing=True, clock=clock)
    try:
        yield app
    finally:
        empty_all_tables(engine)


def test_two_editors_posting_one_stale_page_at_once_dismiss_each_call_once(
    shared: Flask, engine: Engine
) -> None:
    with Session(engine) as session:
        make_profile(session, ("education",))
        editors = [make_user(session, role=Role.EDITOR, language="en") for _ in range(2)]
        calls = [make_matched_call(session, {"education": 60 + n}) for n in range(6)]
        session.commit()
        call_ids = [c.id for c in calls]
        clients: list[FlaskClient] = []
        for editor in editors:
            client = shared.test_client()
            login(client, session.get_one(User, editor.id))
            with client.session_transaction() as flask_session:
                flask_session["csrf_token"] = "csrf"
            clients.append(client)
    pages = [_seen_fields(c.get("/calls").get_data(as_text=True)) for c in clients]
    assert all(len(p) == 6 for p in pages)

    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def post(index: int) -> None:
        try:
            barrier.wait()
            response = clients[index].post(
                "/calls/bulk-dismiss",
                data={
                    "call_ids": [str(i) for i in call_ids],
                    "reason": "no_capacity",
                    "csrf_token": "csrf",
                    **pages[index],
                },
            )
            assert response.status_code == 302
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures

    with Session(engine) as session:
        events = session.scalars(
            select(TriageEvent).where(TriageEvent.to_state == TriageState.DISMISSED)
        ).all()
        # Each call dismissed exactly once: the later post found it changed and left it.
        assert sorted(e.call_id for e in events) == sorted(call_ids)
        for call_id in call_ids:
            assert _chain_errors(session, call_id) == [], call_id
    messages = [c.get("/calls").get_data(as_text=True) for c in clients]
    assert any("someone else changed" in m for m in messages)

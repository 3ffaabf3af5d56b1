"""Eight editors deciding on one call at the same moment, through the web app (one thread and
one database connection each, as behind a threaded server), on SQLite and, when
TRACKER_BENCH_DATABASE_URL names an empty PostgreSQL database, on PostgreSQL. Counts the
posts accepted and refused, and the events out of chain (an event whose from-state is not the
previous event's to-state) and the forbidden moves the call really made (from the previous
event's to-state). ``--without-lock`` runs the same against the
code before issue 11 (the review row read without the call's lock) for comparison.

    .venv/bin/python bench/bench_triage.py [--posts 25] [--without-lock]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import report
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tracker.app import create_app
from tracker.clock import system_clock
from tracker.config import settings_from_dict
from tracker.db import make_engine, make_session_factory
from tracker.migrate import upgrade
from tracker.models import CallReview, FundingCall, Role, TriageEvent, TriageState, User
from tracker.security import generate_token, hash_password
from tracker.services import inbox as review
from tracker.services.inbox import triage as triage_module

EDITORS = 8


def _without_lock(
    session: Session, call: FundingCall, now: datetime, *, seen_event_id: int | None = None
) -> CallReview:
    """The review row as the code before issue 11 read it: no lock."""
    found = review.get_review(session, call)
    if found is None:
        found = CallReview(call_id=call.id, state=TriageState.NEW, updated_at=now)
        session.add(found)
    return found


def measure(url: str, label: str, posts: int, without_lock: bool) -> dict[str, Any]:
    if url.startswith("postgresql"):
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url, "head")
    engine = make_engine(url)
    factory = make_session_factory(engine)
    now = system_clock()
    with factory() as session:
        password = hash_password("bench password 123")
        editors = [
            User(
                email=f"editor{n}@bench.test",
                display_name=f"Editor {n}",
                password_hash=password,
                role=Role.EDITOR,
                language="en",
                calendar_token=generate_token(),
                created_at=now,
            )
            for n in range(EDITORS)
        ]
        call = FundingCall(
            identifier="BENCH-1",
            title="Bench call",
            deadline_model="single-stage",
            first_seen_at=now,
            updated_at=now,
        )
        session.add_all([*editors, call])
        session.commit()
        editor_ids, call_id = [e.id for e in editors], call.id
        nonces = [e.session_nonce for e in editors]
    settings = settings_from_dict(
        {
            "app": {"secret_key": "bench-secret"},
            "database": {"url": url},
            "mail": {"base_url": "http://bench.test"},
        }
    )
    app = create_app(settings, session_factory=factory, testing=True)
    statuses: list[int] = []
    barrier = threading.Barrier(EDITORS)

    def editor(index: int) -> None:
        client = app.test_client()
        with client.session_transaction() as flask_session:
            flask_session["user_id"] = editor_ids[index]
            flask_session["session_nonce"] = nonces[index]
            flask_session["csrf_token"] = "csrf"
        rng = random.Random(index)
        barrier.wait()
        for _ in range(posts):
            state = rng.choice(list(TriageState))
            data = {"state": state.value, "csrf_token": "csrf"}
            if state == TriageState.DISMISSED:
                data["reason"] = "no_capacity"
            try:
                response = client.post(f"/calls/{call_id}/triage", data=data)
            except Exception:  # the test client re-raises what a server would answer with 500
                statuses.append(500)
            else:
                # A redirect to the sign-in page is no accepted decision.
                signed_out = "/login" in response.headers.get("Location", "")
                statuses.append(401 if signed_out else response.status_code)

    # The triage functions look the lock helper up in their own module's namespace.
    original = triage_module._review_for_update
    if without_lock:
        triage_module._review_for_update = _without_lock
    started = time.perf_counter()
    try:
        threads = [threading.Thread(target=editor, args=(i,)) for i in range(EDITORS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        triage_module._review_for_update = original
    seconds = time.perf_counter() - started

    with factory() as session:
        events = session.scalars(
            select(TriageEvent).where(TriageEvent.call_id == call_id).order_by(TriageEvent.id)
        ).all()
    out_of_chain = forbidden = 0
    state = TriageState.NEW
    for event in events:
        assert event.from_state is not None and event.to_state is not None
        out_of_chain += event.from_state != state
        # The move the call really made: from where the previous decision left it.
        forbidden += event.to_state not in review.TRANSITIONS[state]
        state = event.to_state
    engine.dispose()
    return {
        "database": label,
        "code": "before (no lock)" if without_lock else "locked per call",
        "editors": EDITORS,
        "posts": len(statuses),
        "accepted_302": statuses.count(302),
        "refused_409": statuses.count(409),
        "errors_500": sum(s >= 500 for s in statuses),
        "not_signed_in": statuses.count(401),
        "events": len(events),
        "out_of_chain": out_of_chain,
        "forbidden_moves": forbidden,
        "seconds": round(seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=25, help="posts per editor")
    parser.add_argument("--without-lock", action="store_true")
    args = parser.parse_args()
    rows = []
    modes = [False, True] if args.without_lock else [False]
    with tempfile.TemporaryDirectory() as tmp:
        for without_lock in modes:
            url = f"sqlite:///{tmp}/bench-{int(without_lock)}.db"
            rows.append(measure(url, "sqlite", args.posts, without_lock))
            pg = os.environ.get("TRACKER_BENCH_DATABASE_URL")
            if pg:
                rows.append(measure(pg, "postgresql", args.posts, without_lock))
    report("triage", rows, {"posts_per_editor": args.posts})


if __name__ == "__main__":
    main()

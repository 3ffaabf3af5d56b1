"""Weekly digests for 500 subscribers, built and delivered to a local SMTP server (aiosmtpd on
127.0.0.1, in a process of its own as a real server would be): total time (target: within
60 s) and time per digest, with the CPU time of the sending process beside the wall time (the
bench machine is shared, so wall time includes waiting for a core).

The data is a heavy week: 400 open calls, about a hundred matched in each subscriber's areas
during the week, three watched calls each, a pipeline of 60 calls and mentions for a fifth of
the subscribers, so a digest holds about 58 items (a usual week has far fewer).

Runs on SQLite, and on PostgreSQL when TRACKER_BENCH_DATABASE_URL names a scratch database
(its public schema is dropped and rebuilt).
"""

from __future__ import annotations

import multiprocessing
import os
import random
import socket
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import peak_rss_mb, report, summary_ms

from tracker.config import settings_from_dict
from tracker.db import make_engine, make_session_factory
from tracker.migrate import upgrade
from tracker.models import (
    CallChange,
    CallDeadline,
    CallMatch,
    CallReview,
    Comment,
    DigestSubscription,
    FocusArea,
    FundingCall,
    Mention,
    Office,
    Role,
    StrategyProfile,
    TriageState,
    User,
    Watch,
)
from tracker.security import generate_token, hash_password
from tracker.services.digests import send_weekly_digests
from tracker.services.mailer import SmtpMailer

SUBSCRIBERS = 500
CALLS = 400
TARGET_SECONDS = 60.0
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # a Monday, 07:00 in Stockholm
SLUGS = [
    "education",
    "energy-environment",
    "regional-development",
    "health-welfare",
    "inclusion-migration",
    "culture-music",
    "participation-democracy",
    "business-trade",
    "knowledge-city",
]


class CountingHandler:
    def __init__(self) -> None:
        self.count = 0
        self.bytes = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.count += 1
            self.bytes += len(envelope.content)
        return "250 OK"


def _serve(port: int, ready: Any, stop: Any, results: Any) -> None:
    handler = CountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()
    results.put((handler.count, handler.bytes))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(url: str) -> None:
    rng = random.Random(48)
    factory = make_session_factory(make_engine(url))
    password_hash = hash_password("bench-password-123")
    with factory() as session:
        offices = [
            Office(slug=f"office-{i}", name_sv=f"Kontor {i}", name_en=f"Office {i}")
            for i in range(6)
        ]
        profile = StrategyProfile(name="bench", version=1, is_active=True, created_at=NOW)
        for position, slug in enumerate(SLUGS):
            profile.areas.append(
                FocusArea(slug=slug, name_sv=slug, name_en=slug, position=position)
            )
        session.add_all([*offices, profile])
        session.flush()
        areas: list[FocusArea] = list(profile.areas)
        calls = []
        for i in range(CALLS):
            call = FundingCall(
                identifier=f"BENCH-{i:04d}",
                title=f"Call {i}: cooperation between cities on topic {i % 37}",
                programme_label="Creative Europe (CREA)",
                url=f"https://ec.europa.eu/info/funding-tenders/opportunities/topic/BENCH-{i}",
                first_seen_at=NOW - timedelta(days=rng.randint(0, 60)),
                updated_at=NOW,
                deadline_model="single-stage",
            )
            call.deadlines.append(
                CallDeadline(deadline_at=NOW + timedelta(days=rng.randint(2, 120), hours=10))
            )
            calls.append(call)
        session.add_all(calls)
        session.flush()
        for call in calls:
            for area in rng.sample(areas, 2):
                session.add(
                    CallMatch(
                        call_id=call.id,
                        focus_area_id=area.id,
                        score=rng.uniform(20, 98),
                        is_match=rng.random() < 0.5,
                        evidence=[
                            {"text": f"evidence about {area.slug}", "weight": 5.0},
                            {"text": "cooperation between cities", "weight": 2.0},
                        ],
                        matched_at=NOW - timedelta(days=rng.uniform(0, 14)),
                    )
                )
        # A week of ingestion history: a quarter of the calls had a deadline moved or a
        # budget changed, so watched calls fill the "changed" section.
        for call in rng.sample(calls, len(calls) // 4):
            deadline = call.deadlines[0].deadline_at
            if rng.random() < 0.5:
                old_value: Any = [(deadline - timedelta(days=14)).isoformat()]
                new_value: Any = [deadline.isoformat()]
                name = "deadlines"
            else:
                old_value = {"currency": "EUR", "total": "1000000", "min": None, "max": None}
                new_value = {"currency": "EUR", "total": "1500000", "min": None, "max": None}
                name = "budget"
            session.add(
                CallChange(
                    call_id=call.id,
                    field=name,
                    old_value=old_value,
                    new_value=new_value,
                    changed_at=NOW - timedelta(days=rng.uniform(0, 6)),
                )
            )
        for call in rng.sample(calls, 60):
            state = rng.choice(
                [TriageState.INTERESTED, TriageState.PREPARING, TriageState.SUBMITTED]
            )
            session.add(
                CallReview(
                    call_id=call.id, state=state, office_id=rng.choice(offices).id, updated_at=NOW
                )
            )
        users = []
        for i in range(SUBSCRIBERS):
            user = User(
                email=f"officer{i}@norrkoping.test",
                display_name=f"Officer {i}",
                password_hash=password_hash,
                role=Role.EDITOR,
                language="sv" if i % 3 else "en",
                calendar_token=generate_token(),
                office_id=rng.choice(offices).id,
                created_at=NOW,
            )
            users.append(user)
        session.add_all(users)
        session.flush()
        for i, user in enumerate(users):
            session.add(
                DigestSubscription(
                    user_id=user.id,
                    focus_area_slugs=rng.sample(SLUGS, rng.randint(0, 3)),
                    office_slugs=[],
                    min_score=rng.choice([40, 50, 60]),
                    closing_soon_days=30,
                    language=user.language,
                    send_when_empty=True,
                    created_at=NOW - timedelta(days=30),
                    updated_at=NOW - timedelta(days=30),
                )
            )
            for call in rng.sample(calls, 3):
                session.add(Watch(user_id=user.id, call_id=call.id, created_at=NOW))
            if i % 5 == 0:
                comment = Comment(
                    call_id=rng.choice(calls).id,
                    author_id=users[(i + 1) % len(users)].id,
                    body=f"@officer{i} what do you think about the co-financing?",
                    created_at=NOW - timedelta(days=1),
                )
                comment.mentions.append(Mention(user_id=user.id, created_at=comment.created_at))
                session.add(comment)
        session.commit()


def measure(url: str, label: str) -> dict[str, object]:
    upgrade(url, "head")
    seed(url)
    port = _free_port()
    ready, stop, results = multiprocessing.Event(), multiprocessing.Event(), multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(port, ready, stop, results))
    server.start()
    try:
        if not ready.wait(30):
            raise RuntimeError("the SMTP server did not start")
        settings = settings_from_dict(
            {
                "app": {"secret_key": "bench"},
                "database": {"url": url},
                "mail": {"host": "127.0.0.1", "port": port, "base_url": "https://tracker.test"},
            }
        )
        factory = make_session_factory(make_engine(url))
        started, cpu_started = time.perf_counter(), time.process_time()
        with SmtpMailer(settings.mail) as mailer:
            outcomes = send_weekly_digests(factory, settings, mailer, now=NOW)
        total, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    finally:
        stop.set()
        server.join(30)
    received, received_bytes = results.get(timeout=30)
    sent = [o for o in outcomes if o.status == "sent"]
    per_digest = summary_ms([o.seconds for o in sent])
    items = [sum(o.counts.values()) for o in sent]
    return {
        "database": label,
        "subscribers": len(outcomes),
        "sent": len(sent),
        "received": received,
        "total_s": round(total, 2),
        "cpu_s": round(cpu, 2),
        "per_digest_median_ms": per_digest["median_ms"],
        "per_digest_p95_ms": per_digest["p95_ms"],
        "per_digest_max_ms": per_digest["max_ms"],
        "items_per_digest": round(sum(items) / max(1, len(items)), 1),
        "kb_per_mail": round(received_bytes / max(1, received) / 1024, 1),
        "within_60s": total <= TARGET_SECONDS and received == SUBSCRIBERS,
        "peak_rss_mb": peak_rss_mb(),
    }


def _reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(measure(f"sqlite:///{tmp}/bench.db", "sqlite"))
    pg = os.environ.get("TRACKER_BENCH_DATABASE_URL")
    if pg:
        _reset_postgres(pg)
        rows.append(measure(pg, "postgresql"))
    report("digest", rows, {"target_seconds": TARGET_SECONDS})
    if not all(row["within_60s"] for row in rows):
        raise SystemExit("digests for 500 subscribers took longer than 60 s or went missing")


if __name__ == "__main__":
    main()

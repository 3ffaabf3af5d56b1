"""The review workspace under load: the inbox, the call page and the CSV export of 1,000 rows,
with 100,000 calls and 300,000 matches, on SQLite and on PostgreSQL.

For each database the script fills a fresh database with Core inserts, starts the app as a
real server process (gunicorn, 4 workers, as in production), signs 4 clients in (each its own
process) and lets them send requests at the same time. It reports the time from sending a
request to receiving its last byte (median_ms, p95_ms: on 127.0.0.1 that is the server's time,
queueing included), the time the server itself reports in its Server-Timing header
(server_*_ms), the CPU time the server's workers spent per request (app_cpu_ms_per_request:
the one figure other work on the machine does not change) and the machine's load.

PostgreSQL is measured when TRACKER_BENCH_DATABASE_URL names a server (any database on it):
the script creates a database of its own there and drops it afterwards.

    .venv/bin/python bench/bench_inbox.py [--calls 100000] [--matches-per-call 3]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import requests
from sqlalchemy import Engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import percentile, report

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracker.db import make_engine  # noqa: E402
from tracker.migrate import upgrade  # noqa: E402
from tracker.models import (  # noqa: E402
    CallDeadline,
    CallMatch,
    CallReview,
    FocusArea,
    FundingCall,
    Office,
    Role,
    StrategyProfile,
    TriageEvent,
    User,
    Watch,
)
from tracker.security import generate_token, hash_password  # noqa: E402
from tracker.services.catalogue_entries import refresh_catalogue_entries  # noqa: E402
from tracker.services.inbox import refresh_inbox_entries  # noqa: E402
from tracker.services.search import refresh_search_terms  # noqa: E402

CLIENTS = 4
PASSWORD = "bench password 123"
EXPORT_PROGRAMME = "BENCH-EXPORT"
AREAS = [
    ("education", "Utbildning och lärande", "Education and learning"),
    ("energy-environment", "Energi och miljö", "Energy and environment"),
    ("regional-development", "Lokal och regional utveckling", "Local and regional development"),
    ("health-welfare", "Hälsa och välfärd", "Health and welfare"),
    ("inclusion-migration", "Social inkludering och migration", "Social inclusion and migration"),
    ("culture-music", "Kultur, kreativitet och musik", "Culture, creativity and music"),
    ("participation-democracy", "Medborgarinflytande och demokrati", "Participation"),
    ("business-trade", "Näringsliv, handel och innovation", "Business, trade and innovation"),
    ("knowledge-city", "Kunskapsstad", "Knowledge city"),
]
# Swedish words the calls' English texts say in English (search translates them).
SWEDISH_QUERIES = ["skolor", "kommun", "städer", "musik", "klimatanpassning", "kulturarv"]
WORDS = [
    "city",
    "cities",
    "municipality",
    "local",
    "regional",
    "cooperation",
    "culture",
    "music",
    "festival",
    "heritage",
    "school",
    "pupils",
    "teachers",
    "education",
    "adult",
    "learning",
    "energy",
    "efficiency",
    "renewable",
    "climate",
    "adaptation",
    "mobility",
    "water",
    "biodiversity",
    "health",
    "care",
    "elderly",
    "ageing",
    "welfare",
    "inclusion",
    "migrants",
    "integration",
    "youth",
    "volunteering",
    "democracy",
    "citizens",
    "participation",
    "twinning",
    "innovation",
    "SMEs",
    "entrepreneurship",
    "tourism",
    "university",
    "students",
    "talent",
    "digital",
    "skills",
    "research",
    "infrastructure",
    "industrial",
    "consortium",
    "pilot",
    "demonstration",
    "network",
    "exchange",
    "partnership",
    "capacity",
    "building",
    "policy",
    "strategy",
    "evaluation",
    "impact",
    "outcomes",
    "deployment",
]
NOW = datetime.now(UTC).replace(microsecond=0)


def _vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    """A few thousand made-up words with the topical ones among them, drawn with Zipf's
    law as words in real texts are. The topical words (the ones searched for) rank from 500
    on: each is in about 3% of the calls, as a word like "music" is among EU calls."""
    syllables = ["ka", "lo", "mi", "ter", "san", "vo", "ri", "pen", "dus", "al", "gre", "tion"]
    made_up = sorted({"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(4000)})
    rng.shuffle(made_up)
    words = made_up[:500] + WORDS + made_up[500:3000]
    cumulative, total = [], 0.0
    for rank in range(1, len(words) + 1):
        total += 1 / rank
        cumulative.append(total)
    return words, cumulative


# --- data -----------------------------------------------------------------------------------------


def _chunks(rows: list[dict[str, Any]], size: int = 5000) -> Any:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _bulk(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    for chunk in _chunks(rows):
        session.execute(insert(model), chunk)


def fill(engine: Engine, calls: int, matches_per_call: int, export_rows: int) -> dict[str, Any]:
    """Fill an empty, migrated database; returns what the clients need to know."""
    rng = random.Random(20261121)
    started = time.perf_counter()
    with Session(engine) as session:
        offices = [
            {
                "slug": f"office-{n}",
                "name_sv": f"Kontor {n}",
                "name_en": f"Office {n}",
                "is_active": True,
            }
            for n in range(8)
        ]
        _bulk(session, Office, offices)
        office_ids = list(session.scalars(text("SELECT id FROM offices ORDER BY id")))
        password_hash = hash_password(PASSWORD)
        users = [
            {
                "email": f"user{n}@bench.test",
                "display_name": f"User {n}",
                "password_hash": password_hash,
                "role": Role.EDITOR if n % 3 else Role.VIEWER,
                "office_id": office_ids[n % len(office_ids)],
                "language": "sv",
                "is_active": True,
                "calendar_token": generate_token(),
                "created_at": NOW,
            }
            for n in range(40)
        ]
        _bulk(session, User, users)
        user_ids = list(session.scalars(text("SELECT id FROM users ORDER BY id")))
        profile = StrategyProfile(name="bench", version=1, is_active=True, created_at=NOW)
        for position, (slug, sv, en) in enumerate(AREAS):
            profile.areas.append(FocusArea(slug=slug, name_sv=sv, name_en=en, position=position))
        session.add(profile)
        session.flush()
        area_ids = [a.id for a in profile.areas]

        call_rows: list[dict[str, Any]] = []
        deadline_rows: list[dict[str, Any]] = []
        match_rows: list[dict[str, Any]] = []
        export_left = export_rows
        export_step = max(1, calls // (export_rows * 2))
        vocabulary, weights = _vocabulary(rng)
        for n in range(1, calls + 1):
            # Deadlines from six years back to a year ahead: most calls are history.
            deadline = NOW + timedelta(days=rng.uniform(-6 * 365, 365), hours=rng.randint(0, 8))
            model = rng.choices(["single-stage", "two-stage", "continuous"], [85, 10, 5])[0]
            opens = deadline - timedelta(days=rng.uniform(30, 150))
            programme = f"PROG-{rng.randint(1, 40):02d}"
            words = rng.choices(vocabulary, cum_weights=weights, k=160)
            call_rows.append(
                {
                    "id": n,
                    "identifier": f"BENCH-{n:06d}",
                    "title": " ".join(
                        rng.choices(vocabulary, cum_weights=weights, k=9)
                    ).capitalize()
                    + f" {n}",
                    "programme_code": programme,
                    "programme_label": f"Programme {programme}",
                    "description_text": " ".join(words),
                    "url": f"https://example.org/calls/{n}",
                    "opens_at": opens,
                    "deadline_model": model,
                    "budget_total_eur": rng.randint(1, 200) * 100_000,
                    "cofinancing_rate": rng.choice([50, 60, 80, 100]),
                    "keywords": rng.sample(WORDS, 3),
                    "tags": [],
                    "is_withdrawn": False,
                    "first_seen_at": opens,
                    "updated_at": opens,
                }
            )
            if model == "two-stage":
                deadline_rows.append(
                    {
                        "call_id": n,
                        "deadline_at": deadline - timedelta(days=120),
                        "stage": "stage 1",
                    }
                )
                deadline_rows.append({"call_id": n, "deadline_at": deadline, "stage": "stage 2"})
            elif model == "single-stage":
                deadline_rows.append({"call_id": n, "deadline_at": deadline, "stage": None})
            best = 0.0
            for area_id in rng.sample(area_ids, matches_per_call):
                score = round(rng.betavariate(2, 3) * 100, 1)
                best = max(best, score)
                match_rows.append(
                    {
                        "call_id": n,
                        "focus_area_id": area_id,
                        "score": score,
                        "is_match": score >= 50,
                        "evidence": [
                            {
                                "kind": "term",
                                "text": words[0],
                                "weight": 2.1,
                                "field": "description",
                                "snippet": " ".join(words[:14]),
                            },
                            {"kind": "applicant", "text": "local authorities", "weight": 1.2},
                        ],
                        "matched_at": NOW,
                    }
                )
            if best < 50 and n % 7 == 0:
                # Some calls a gate excluded, for the catalogue's gate filter.
                call_rows[-1]["gate_code"] = "region"
                call_rows[-1]["gate_reason"] = "The programme area does not include the region."
            if best >= 50 and export_left > 0 and n % export_step == 0:
                call_rows[-1]["programme_code"] = EXPORT_PROGRAMME
                export_left -= 1
        _bulk(session, FundingCall, call_rows)
        _bulk(session, CallDeadline, deadline_rows)
        _bulk(session, CallMatch, match_rows)
        assert export_left == 0, "not enough matched calls for the export programme"

        review_rows, event_rows, watch_rows = [], [], []
        states = ["interested", "preparing", "dismissed", "dismissed", "submitted", "new"]
        for call_id in rng.sample(range(1, calls + 1), calls // 20):
            state = rng.choice(states)
            review_rows.append(
                {
                    "call_id": call_id,
                    "state": state,
                    "dismiss_reason": "not_our_goals" if state == "dismissed" else None,
                    "office_id": rng.choice(office_ids),
                    "assignee_id": rng.choice(user_ids),
                    "updated_at": NOW,
                }
            )
            event_rows.append(
                {
                    "call_id": call_id,
                    "actor_id": rng.choice(user_ids),
                    "at": NOW,
                    "kind": "state",
                    "from_state": "new",
                    "to_state": state,
                    "reason": "not_our_goals" if state == "dismissed" else None,
                }
            )
        for user_id in user_ids:
            for call_id in rng.sample(range(1, calls + 1), 20):
                watch_rows.append({"user_id": user_id, "call_id": call_id, "created_at": NOW})
        _bulk(session, CallReview, review_rows)
        _bulk(session, TriageEvent, event_rows)
        _bulk(session, Watch, watch_rows)
        session.commit()
        inserted = time.perf_counter() - started
        t = time.perf_counter()
        refresh_catalogue_entries(session, None)
        in_inbox = refresh_inbox_entries(session, None, now=NOW)
        session.commit()
        refresh_s = time.perf_counter() - t
        # The calls went in with Core inserts: index their texts for search as ingestion does.
        t = time.perf_counter()
        refresh_search_terms(session, None, now=NOW)
        session.commit()
        search_s = time.perf_counter() - t
        if engine.dialect.name == "postgresql":
            # The calls were inserted with their ids: move the sequence past them.
            session.execute(
                text("SELECT setval('funding_calls_id_seq', (SELECT max(id) FROM funding_calls))")
            )
            session.commit()
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE")
            )
        else:
            connection.exec_driver_sql("ANALYZE")
            connection.commit()
    matched = [r["id"] for r in call_rows if r["programme_code"] == EXPORT_PROGRAMME]
    return {
        "insert_s": round(inserted, 1),
        "refresh_entries_s": round(refresh_s, 2),
        "refresh_search_s": round(search_s, 2),
        "inbox_entries": in_inbox,
        "offices": [o["slug"] for o in offices],
        "emails": [u["email"] for u in users],
        "call_ids": [m["call_id"] for m in match_rows[:: matches_per_call * 7] if m["is_match"]],
        "export_ids": matched,
        "areas": [a[0] for a in AREAS],
        "programmes": sorted({r["programme_code"] for r in call_rows[:500]}),
    }


# --- load ----------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sign_in(base: str, email: str) -> requests.Session:
    client = requests.Session()
    page = client.get(f"{base}/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    response = client.post(
        f"{base}/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)},
        timeout=30,
        allow_redirects=False,
    )
    assert response.status_code == 302, response.status_code
    return client


def _server_s(response: requests.Response) -> float | None:
    found = re.search(r"app;dur=([0-9.]+)", response.headers.get("Server-Timing", ""))
    return float(found.group(1)) / 1000 if found else None


def _client(
    base: str, cookies: dict[str, str], urls: list[str], export_rows: int | None
) -> list[tuple[str, float, float | None]]:
    """One signed-in client (its own process, so that clients do not queue for one
    interpreter)."""
    client = requests.Session()
    for name, value in cookies.items():
        client.cookies.set(name, value)
    samples = []
    for url in urls:
        t = time.perf_counter()
        response = client.get(base + url, timeout=60)
        body = response.content
        wall = time.perf_counter() - t
        assert response.status_code == 200, (url, response.status_code)
        if export_rows is None:
            assert b"<main" in body
        else:
            lines = body.decode("utf-8-sig").strip().split("\r\n")
            assert len(lines) == export_rows + 1, len(lines)
        samples.append((url, wall, _server_s(response)))
    return samples


@dataclass
class Samples:
    wall: list[float] = field(default_factory=list)
    server: list[float] = field(default_factory=list)
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    cpu_s: float = 0.0
    elapsed_s: float = 0.0


def _server_cpu(server: subprocess.Popen[bytes]) -> float:
    """CPU seconds used so far by the server's workers (the master only waits)."""
    total = 0.0
    for child in psutil.Process(server.pid).children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def run_clients(
    base: str,
    server: subprocess.Popen[bytes],
    emails: list[str],
    make_urls: Callable[[random.Random], list[str]],
    export_rows: int | None = None,
) -> Samples:
    """CLIENTS clients at once, each sending its URLs one after the other."""
    # Sign in one after the other: SQLite refuses a write that races another (a sign-in
    # records its time), and signing in is not what is measured.
    cookies = [_sign_in(base, email).cookies.get_dict() for email in emails[:CLIENTS]]
    jobs = [(base, cookies[n], make_urls(random.Random(n)), export_rows) for n in range(CLIENTS)]
    samples = Samples()
    cpu = _server_cpu(server)
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(CLIENTS) as pool:
        for result in pool.starmap(_client, jobs):
            for url, wall, server_s in result:
                samples.by_kind.setdefault(_kind(url), []).append(wall)
                samples.wall.append(wall)
                if server_s is not None:
                    samples.server.append(server_s)
    samples.elapsed_s = time.perf_counter() - started
    samples.cpu_s = _server_cpu(server) - cpu
    return samples


def _kind(url: str) -> str:
    """The URL with its varying values left out: /calls?area=…&deadline_within=…"""
    path, _, query = url.partition("?")
    if path.startswith("/calls/") and path[7:].isdigit():
        path = "/calls/<id>"
    names = [pair.split("=")[0] for pair in query.split("&") if pair]
    return path + ("?" + "&".join(f"{n}=…" for n in names) if names else "")


def inbox_urls(facts: dict[str, Any], per_client: int) -> Callable[[random.Random], list[str]]:
    """What staff click: the default inbox, an area, deadlines soon, their office, a search,
    a programme, other pages; now and then everything, closed calls included."""

    def make(rng: random.Random) -> list[str]:
        urls = []
        for _ in range(per_client):
            area = rng.choice(facts["areas"])
            choice = rng.choice(
                [
                    "/calls",
                    f"/calls?area={area}",
                    f"/calls?area={area}&deadline_within=60",
                    "/calls?deadline_within=30",
                    f"/calls?office={rng.choice(facts['offices'])}",
                    "/calls?state=interested",
                    "/calls?min_score=70",
                    f"/calls?q={rng.choice(WORDS)}",
                    f"/calls?q={rng.choice(SWEDISH_QUERIES)}",
                    "/calls?mine=assigned",
                    f"/calls?programme={rng.choice(facts['programmes'])}",
                    f"/calls?page={rng.randint(2, 20)}",
                    "/calls?status=forthcoming",
                    f"/calls?area={area}&status=all&state=all",
                    "/calls?status=closed",
                ]
            )
            urls.append(choice)
        return urls

    return make


def catalogue_urls(facts: dict[str, Any], per_client: int) -> Callable[[random.Random], list[str]]:
    """The catalogue of every call: unfiltered, searched in Swedish and English, by status,
    gate, programme and page."""

    def make(rng: random.Random) -> list[str]:
        urls = []
        while len(urls) < per_client:
            urls.extend(
                [
                    "/catalogue",
                    f"/catalogue?q={rng.choice(SWEDISH_QUERIES)}",
                    f"/catalogue?q={rng.choice(WORDS)}",
                    "/catalogue?status=open",
                    "/catalogue?status=closed",
                    "/catalogue?gate=gated",
                    f"/catalogue?programme={rng.choice(facts['programmes'])}",
                    f"/catalogue?page={rng.randint(2, 200)}",
                    f"/catalogue?status=open&q={rng.choice(SWEDISH_QUERIES)}",
                ]
            )
        rng.shuffle(urls)
        return urls[:per_client]

    return make


def call_urls(facts: dict[str, Any], per_client: int) -> Callable[[random.Random], list[str]]:
    def make(rng: random.Random) -> list[str]:
        return [f"/calls/{rng.choice(facts['call_ids'])}" for _ in range(per_client)]

    return make


def export_urls(per_client: int) -> Callable[[random.Random], list[str]]:
    # Every state and status, so that the programme's rows are exactly the export's.
    url = f"/calls/export.csv?programme={EXPORT_PROGRAMME}&status=all&state=all"
    return lambda rng: [url] * per_client


def measure(
    database_url: str, label: str, args: argparse.Namespace, by_filter: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    engine = make_engine(database_url)
    upgrade(database_url, "head")
    facts = fill(engine, args.calls, args.matches_per_call, args.export_rows)
    engine.dispose()
    print(
        f"[{label}] filled in {facts['insert_s']} s; catalogue and inbox entries (for "
        f"{facts['inbox_entries']} calls) rebuilt in {facts['refresh_entries_s']} s",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text(
            f'[app]\nsecret_key = "bench"\nlogin_attempts_per_15_minutes = 1000\n'
            f'[database]\nurl = "{database_url}"\n[scheduler]\nenabled = false\n',
            encoding="utf-8",
        )
        port = _free_port()
        env = dict(os.environ, TRACKER_CONFIG=str(config))
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(args.workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "tracker.wsgi:app",
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.perf_counter() + 60
            while True:
                try:
                    requests.get(f"{base}/healthz", timeout=10)
                    break
                except requests.RequestException:
                    if time.perf_counter() > deadline:
                        raise
                    time.sleep(0.2)
            emails = facts["emails"][1:]  # editors and viewers
            # Warm every worker and the database's cache.
            run_clients(base, server, emails, inbox_urls(facts, 10))
            run_clients(base, server, emails, call_urls(facts, 5))
            rows = []
            phases: list[tuple[str, Callable[[random.Random], list[str]], int | None]] = [
                ("inbox", inbox_urls(facts, args.requests), None),
                ("call page", call_urls(facts, args.requests // 2), None),
                ("catalogue", catalogue_urls(facts, args.requests // 2), None),
                ("my work (start page)", lambda rng: ["/"] * (args.requests // 4), None),
                (
                    f"csv export, {args.export_rows} rows",
                    export_urls(args.exports),
                    args.export_rows,
                ),
            ]
            for name, urls, export_rows in phases:
                samples = run_clients(base, server, emails, urls, export_rows)
                ms = [s * 1000 for s in samples.wall]
                # A streamed CSV is timed before its rows are written: only the client's
                # figure tells the export's time.
                server_ms = [] if export_rows else [s * 1000 for s in samples.server]
                rows.append(
                    {
                        "database": label,
                        "page": name,
                        "requests": len(ms),
                        "clients": CLIENTS,
                        "median_ms": round(percentile(ms, 0.5), 1),
                        "p95_ms": round(percentile(ms, 0.95), 1),
                        "max_ms": round(max(ms), 1),
                        "server_median_ms": round(percentile(server_ms, 0.5), 1)
                        if server_ms
                        else "",
                        "server_p95_ms": round(percentile(server_ms, 0.95), 1) if server_ms else "",
                        "app_cpu_ms_per_request": round(samples.cpu_s * 1000 / len(ms), 1),
                        "per_second": round(len(ms) / samples.elapsed_s, 1),
                        # Other work on the machine slows every figure but the CPU one.
                        "load_1min": round(os.getloadavg()[0], 1),
                        "target_p95_ms": 150 if name in ("inbox", "catalogue") else "",
                    }
                )
                print(f"[{label}] {name}: p95 {rows[-1]['p95_ms']} ms", flush=True)
                if name in ("inbox", "catalogue"):
                    for kind, walls in sorted(samples.by_kind.items()):
                        kind_ms = [w * 1000 for w in walls]
                        by_filter.append(
                            {
                                "database": label,
                                "inbox request": kind,
                                "requests": len(kind_ms),
                                "median_ms": round(percentile(kind_ms, 0.5), 1),
                                "p95_ms": round(percentile(kind_ms, 0.95), 1),
                            }
                        )
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    for row in rows:
        row["calls"] = args.calls
        row["matches"] = args.calls * args.matches_per_call
        row["fill_s"] = facts["insert_s"]
        row["refresh_entries_s"] = facts["refresh_entries_s"]
        row["refresh_search_s"] = facts["refresh_search_s"]
    return rows


def _postgres_database(server_url: str) -> tuple[str, Callable[[], None]]:
    """A database of our own on the server ``server_url`` names, and how to drop it."""
    url = make_url(server_url)
    name = f"tracker_bench_inbox_{os.getpid()}"
    admin = make_engine(url.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--matches-per-call", type=int, default=3)
    parser.add_argument("--requests", type=int, default=100, help="inbox requests per client")
    parser.add_argument("--exports", type=int, default=10, help="exports per client")
    parser.add_argument("--export-rows", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--only", choices=["sqlite", "postgresql"], default=None)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    by_filter: list[dict[str, Any]] = []
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory() as tmp:
            rows += measure(f"sqlite:///{tmp}/bench.db", "sqlite", args, by_filter)
    pg = os.environ.get("TRACKER_BENCH_DATABASE_URL")
    if pg and args.only != "sqlite":
        url, drop = _postgres_database(pg)
        try:
            rows += measure(url, "postgresql", args, by_filter)
        finally:
            drop()
    elif args.only != "sqlite":
        print("PostgreSQL skipped: set TRACKER_BENCH_DATABASE_URL to measure it", flush=True)
    report("inbox_by_filter", by_filter)
    report("inbox", rows)


if __name__ == "__main__":
    main()

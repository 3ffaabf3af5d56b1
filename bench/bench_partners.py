"""The call page with its partner panel at full size: 100,000 calls and 5,000 organisations
(networks with their members, sister cities, 2,000 past projects with 3 partners each), on
SQLite (and PostgreSQL when TRACKER_BENCH_DATABASE_URL names a server: the script creates a
database of its own there and drops it afterwards).

It measures, for random calls: the whole call page as a signed-in editor gets it (the app's
test client, in process: the server's time without the network; page_cpu_* is the CPU time
the process spent on it, the figure other work on a shared machine changes least), the
partner panel alone
(the rules read from the call's text, the staff values, the suggestions), and the rules
reader alone on the call's text.

    .venv/bin/python bench/bench_partners.py [--calls 100000] [--organisations 5000] [--pages 200]
        [--databases sqlite,postgresql] [--profile bench/results/partners_profile.txt]
        [--label before]

Every run works in a database of its own (a temporary SQLite file; a PostgreSQL database
named with the process id and a random nonce), so runs side by side do not collide.
gc_ms is the time the garbage collector spent during the measured pages.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import random
import secrets
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import peak_rss_mb, report, summary_ms

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracker.app import create_app, settle_startup_heap  # noqa: E402
from tracker.clock import FixedClock  # noqa: E402
from tracker.config import settings_from_dict  # noqa: E402
from tracker.db import make_engine, make_session_factory  # noqa: E402
from tracker.migrate import upgrade  # noqa: E402
from tracker.models import (  # noqa: E402
    CallDeadline,
    CallMatch,
    FocusArea,
    FundingCall,
    NetworkMember,
    NetworkMembership,
    Office,
    Organisation,
    Project,
    ProjectPartner,
    Role,
    SisterCity,
    StrategyProfile,
    User,
)
from tracker.partners.rules import read_partner_rules  # noqa: E402
from tracker.security import generate_token, hash_password  # noqa: E402
from tracker.services.partner_rules import call_partner_rules, call_text  # noqa: E402
from tracker.services.partner_suggestions import suggest_partners  # noqa: E402

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
AREAS = [
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
COUNTRIES = (
    *("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE"),
    *("IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"),
    *("NO", "IS", "UA", "RS", "KE", "CN"),
)
PROGRAMMES = [
    ("CREA", "Creative Europe (CREA)"),
    ("CERV", "Citizens, Equality, Rights and Values Programme (CERV)"),
    ("ERASMUS+", "Erasmus+ (ERASMUS+)"),
    ("LIFE", "Programme for the Environment and Climate Action (LIFE)"),
    ("HORIZON", "Horizon Europe (HORIZON)"),
    ("INTERREG", "Interreg Baltic Sea Region"),
]
RULE_SENTENCES = [
    "The consortium must be composed of minimum {n} independent entities from {n} different "
    "eligible countries.",
    "Proposals must be submitted by at least {n} applicants (beneficiaries; not affiliated "
    "entities) from {n} different eligible countries.",
    "Each project must have at least one partner from Latvia and one partner from Lithuania.",
    "In order to be eligible, the applicants must be established in one of the eligible "
    "countries, i.e. EU Member States (including overseas countries and territories) and "
    "countries associated to the Programme.",
    "Lead partners must be public bodies. The number of partners is maximum {m}.",
]
FILLER = (
    "Projects are expected to contribute to the following outcomes: cities and regions "
    "cooperate across borders, citizens take part in the decisions that shape their "
    "neighbourhoods, and cultural organisations reach new audiences. Activities may include "
    "exchanges of experience, pilot actions, training, studies and dissemination. "
)


def _bulk(session: Session, model: Any, rows: list[dict[str, Any]], size: int = 5000) -> None:
    for start in range(0, len(rows), size):
        session.execute(insert(model), rows[start : start + size])


def _description(rng: random.Random) -> str:
    parts = [FILLER * rng.randint(2, 12)]
    for sentence in rng.sample(RULE_SENTENCES, rng.randint(0, 3)):
        parts.append(sentence.format(n=rng.randint(2, 7), m=rng.randint(6, 12)))
    parts.append(FILLER * rng.randint(1, 6))
    return "\n\n".join(parts)


def fill(engine: Engine, calls: int, organisations: int) -> dict[str, Any]:
    rng = random.Random(20261204)
    started = time.perf_counter()
    with Session(engine) as session:
        session.execute(
            insert(Office),
            [{"slug": "intl", "name_sv": "Int", "name_en": "Intl", "is_active": True}],
        )
        office_id = session.scalar(select(Office.id))
        session.execute(
            insert(User),
            [
                {
                    "email": "editor@bench.test",
                    "display_name": "Editor",
                    "password_hash": hash_password("bench password 123"),
                    "role": Role.EDITOR,
                    "office_id": office_id,
                    "language": "sv",
                    "is_active": True,
                    "calendar_token": generate_token(),
                    "created_at": NOW,
                }
            ],
        )
        profile = StrategyProfile(name="bench", version=1, is_active=True, created_at=NOW)
        for position, slug in enumerate(AREAS):
            profile.areas.append(
                FocusArea(slug=slug, name_sv=slug, name_en=slug, position=position)
            )
        session.add(profile)
        session.flush()
        area_ids = [a.id for a in profile.areas]

        call_rows = []
        for n in range(calls):
            code, label = PROGRAMMES[n % len(PROGRAMMES)]
            call_rows.append(
                {
                    "identifier": f"BENCH-{n:06d}",
                    "title": f"Bench call {n}",
                    "programme_code": code,
                    "programme_label": label,
                    "description_text": _description(rng),
                    "url": f"https://example.org/{n}",
                    "deadline_model": "single-stage",
                    "keywords": [],
                    "tags": [],
                    "other_titles": {},
                    "programme_divisions": [],
                    "eligible_area": {},
                    "cross_cutting_priorities": [],
                    "links": [],
                    "warnings": [],
                    "first_seen_at": NOW,
                    "updated_at": NOW,
                    "is_withdrawn": False,
                }
            )
        _bulk(session, FundingCall, call_rows, size=2000)
        call_ids = list(session.scalars(select(FundingCall.id).order_by(FundingCall.id)))
        _bulk(
            session,
            CallDeadline,
            [
                {
                    "call_id": c,
                    "deadline_at": NOW + timedelta(days=30 + c % 300),
                    "is_date_only": False,
                }
                for c in call_ids
            ],
        )
        _bulk(
            session,
            CallMatch,
            [
                {
                    "call_id": c,
                    "focus_area_id": area_ids[c % len(area_ids)],
                    "score": 60.0 + c % 40,
                    "is_match": True,
                    "evidence": [],
                    "matched_at": NOW,
                }
                for c in call_ids
            ],
        )

        org_rows = [
            {
                "name": f"Network {n}",
                "country_code": None,
                "kind": "network",
                "notes": "",
                "created_at": NOW,
                "updated_at": NOW,
            }
            for n in range(4)
        ] + [
            {
                "name": f"Organisation {n}",
                "country_code": rng.choice(COUNTRIES),
                "city": f"City {n}",
                "kind": rng.choice(["municipality", "region", "university", "ngo", "company"]),
                "notes": "",
                "created_at": NOW,
                "updated_at": NOW,
            }
            for n in range(organisations - 4)
        ]
        _bulk(session, Organisation, org_rows)
        ids = list(session.scalars(select(Organisation.id).order_by(Organisation.id)))
        networks, members = ids[:4], ids[4:]
        _bulk(
            session,
            NetworkMembership,
            [
                {
                    "network_id": network,
                    "focus_areas": rng.sample(AREAS, 2),
                    "themes": [
                        {"theme": f"Theme {k}", "areas": rng.sample(AREAS, 2)} for k in range(5)
                    ],
                    "description": "",
                }
                for network in networks
            ],
        )
        _bulk(
            session,
            NetworkMember,
            [
                {
                    "network_id": networks[n % 4],
                    "organisation_id": org,
                    "contact_name": f"Contact {n}",
                    "contact_email": "",
                    "last_contact_on": date(2020, 1, 1) + timedelta(days=rng.randrange(2500)),
                    "notes": "",
                }
                for n, org in enumerate(rng.sample(members, min(1500, len(members) // 2)))
            ],
        )
        _bulk(
            session,
            SisterCity,
            [
                {
                    "organisation_id": org,
                    "relation": "twin_town",
                    "topics": "",
                    "focus_areas": rng.sample(AREAS, 2),
                    "contact_name": "",
                }
                for org in members[:8]
            ],
        )
        _bulk(
            session,
            Project,
            [
                {
                    "title": f"Project {n}",
                    "programme": PROGRAMMES[n % len(PROGRAMMES)][1],
                    "call_id": rng.choice(call_ids),
                    "role": "partner",
                    "status": rng.choice(["submitted", "awarded", "rejected", "closed"]),
                    "lead_office_id": office_id,
                    "focus_areas": rng.sample(AREAS, 2),
                    "submitted_on": date(2016, 1, 1) + timedelta(days=rng.randrange(3800)),
                    "currency": "EUR",
                    "covers_ordinary_municipal_tasks": False,
                    "outcome": "",
                    "results": "",
                    "documents": [],
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for n in range(2000)
            ],
        )
        project_ids = list(session.scalars(select(Project.id)))
        _bulk(
            session,
            ProjectPartner,
            [
                {"project_id": p, "organisation_id": org, "role": "partner"}
                for p in project_ids
                for org in rng.sample(members, 3)
            ],
        )
        session.commit()
    return {"call_ids": call_ids, "fill_s": round(time.perf_counter() - started, 1)}


class _GcTimer:
    """Adds up the time the garbage collector runs while ``active``."""

    def __init__(self) -> None:
        self.total = 0.0
        self.collections = 0
        self.active = False
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if not self.active:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._started
            self.collections += 1


def _profile(client: Any, call_ids: list[int], path: Path) -> None:
    """cProfile of the call page for ``call_ids``, the top of it by cumulative time."""
    profiler = cProfile.Profile()
    profiler.enable()
    for call_id in call_ids:
        client.get(f"/calls/{call_id}")
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(60)
    stats.sort_stats("tottime").print_stats(30)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(out.getvalue(), encoding="utf-8")
    print(f"profile -> {path}")


def measure(
    database_url: str,
    label: str,
    calls: int,
    organisations: int,
    pages: int,
    profile: Path | None = None,
    settle: bool = True,
) -> dict[str, Any]:
    upgrade(database_url, "head")
    engine = make_engine(database_url)
    filled = fill(engine, calls, organisations)
    factory = make_session_factory(engine)
    settings = settings_from_dict(
        {"app": {"secret_key": "bench-secret"}, "database": {"url": database_url}}
    )
    app = create_app(settings, session_factory=factory, clock=FixedClock(NOW))
    if settle:
        settle_startup_heap()  # as tracker.wsgi does in production
    client = app.test_client()
    with factory() as session:
        user = session.scalars(select(User)).one()
        user_id, nonce = user.id, user.session_nonce
    with client.session_transaction() as flask_session:
        flask_session["user_id"] = user_id
        flask_session["session_nonce"] = nonce
    rng = random.Random(7)
    chosen = rng.sample(filled["call_ids"], pages)
    client.get(f"/calls/{chosen[0]}")  # warm the templates and the connection pool
    page_samples, page_cpu, panel_samples, reader_samples = [], [], [], []
    sizes = []
    gc_timer = _GcTimer()
    gc.callbacks.append(gc_timer)
    gc_timer.active = True
    for call_id in chosen:
        t, cpu = time.perf_counter(), time.process_time()
        response = client.get(f"/calls/{call_id}")
        page_samples.append(time.perf_counter() - t)
        page_cpu.append(time.process_time() - cpu)
        assert response.status_code == 200 and "partners-heading" in response.get_data(as_text=True)
        sizes.append(len(response.data))
    gc_timer.active = False
    gc.callbacks.remove(gc_timer)
    if profile is not None:
        _profile(client, chosen[:20], profile.with_name(f"{profile.stem}_{label}{profile.suffix}"))
    with factory() as session:
        for call_id in chosen:
            call = session.get(FundingCall, call_id)
            assert call is not None
            t = time.perf_counter()
            rules = call_partner_rules(session, call)
            found = suggest_partners(session, call, rules, today=NOW.date(), limit=8)
            panel_samples.append(time.perf_counter() - t)
            assert found.fitting or found.apart
            t = time.perf_counter()
            read_partner_rules(call_text(call))
            reader_samples.append(time.perf_counter() - t)
    engine.dispose()
    return {
        "database": label,
        "calls": calls,
        "organisations": organisations,
        "fill_s": filled["fill_s"],
        **{f"page_{k}": v for k, v in summary_ms(page_samples).items()},
        **{f"page_cpu_{k}": v for k, v in summary_ms(page_cpu).items() if k != "n"},
        **{f"panel_{k}": v for k, v in summary_ms(panel_samples).items() if k != "n"},
        **{f"reader_{k}": v for k, v in summary_ms(reader_samples).items() if k != "n"},
        "gc_ms": round(gc_timer.total * 1000, 1),
        "gc_runs": gc_timer.collections,
        "page_kib": round(sum(sizes) / len(sizes) / 1024, 1),
        "peak_rss_mb": peak_rss_mb(),
    }


def _own_postgres_database(server_url: str) -> tuple[str, Engine]:
    url = make_url(server_url)
    name = f"tracker_bench_partners_{os.getpid()}_{secrets.token_hex(4)}"
    admin = make_engine(url.render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    return url.set(database=name).render_as_string(hide_password=False), admin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--organisations", type=int, default=5_000)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--profile", type=Path, default=None)
    parser.add_argument("--label", default="", help="a suffix for the results file")
    parser.add_argument(
        "--no-settle", action="store_true", help="leave the startup heap to the collector"
    )
    args = parser.parse_args()
    wanted = set(args.databases.split(","))
    rows = []
    if "sqlite" in wanted:
        with tempfile.TemporaryDirectory() as tmp:
            rows.append(
                measure(
                    f"sqlite:///{tmp}/bench.db",
                    "sqlite",
                    args.calls,
                    args.organisations,
                    args.pages,
                    args.profile,
                    not args.no_settle,
                )
            )
    server = os.environ.get("TRACKER_BENCH_DATABASE_URL")
    if server and "postgresql" in wanted:
        url, admin = _own_postgres_database(server)
        try:
            rows.append(
                measure(
                    url,
                    "postgresql",
                    args.calls,
                    args.organisations,
                    args.pages,
                    args.profile,
                    not args.no_settle,
                )
            )
        finally:
            name = make_url(url).database
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    name = f"partners_{args.label}" if args.label else "partners"
    report(name, rows, {"target": "call page p95 < 150 ms", "machine_note": "shared, 2 cores"})


if __name__ == "__main__":
    main()

"""Hostile and large uploads: an xlsx zip bomb (1.5 MB that unpacks to 1.5 GB, as in issue
11) given to the project import and to the call sheet upload, and the documented 5,000-row
project import as xlsx and CSV, on SQLite (and PostgreSQL when TRACKER_BENCH_DATABASE_URL
names an empty database), as a service call and as the web page's background run (its
``read_s`` is then the time to accept and save the upload). Each case runs in a fresh
process, so its peak memory is its own.

    .venv/bin/python bench/bench_uploads.py [--bomb-mb 1500]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import peak_rss_mb, report


def _bomb_case(kind: str, path: str) -> dict[str, Any]:
    from tracker.feeds.errors import FetchError
    from tracker.feeds.manual import parse_manual
    from tracker.services.project_import import ImportFileError, read_table

    data = Path(path).read_bytes()
    before = peak_rss_mb()
    started = time.perf_counter()
    try:
        if kind == "project import":
            read_table(data, "projects.xlsx")
        else:
            parse_manual(data, filename="calls.xlsx")
        outcome = "ACCEPTED"
    except (ImportFileError, FetchError) as exc:
        outcome = f"refused: {exc}"
    return {
        "seconds": round(time.perf_counter() - started, 3),
        "rss_before_mb": before,
        "outcome": outcome,
    }


def _import_case(fmt: str, url: str, rows: int) -> dict[str, Any]:
    from tests.factories.spreadsheets import OFFICES, project_rows, project_xlsx
    from tracker.clock import system_clock
    from tracker.db import make_engine, make_session_factory, session_scope
    from tracker.migrate import upgrade
    from tracker.services.offices import create_office
    from tracker.services.project_import import import_projects, read_table

    if fmt == "xlsx":
        data = project_xlsx(rows)
    else:
        lines = [",".join(f'"{c}"' for c in row) for row in project_rows(rows)]
        data = ("\n".join(lines) + "\n").encode("utf-8")
    upgrade(url, "head")
    factory = make_session_factory(make_engine(url))
    with session_scope(factory) as session:
        for slug in OFFICES:
            create_office(session, slug, name_sv=slug, name_en=slug, now=system_clock())
    before = peak_rss_mb()
    started = time.perf_counter()
    table = read_table(data, f"projects.{fmt}")
    read_s = time.perf_counter() - started
    with session_scope(factory) as session:
        result = import_projects(session, table, actor=None, now=system_clock())
    assert result.ok and len(result.created) == rows, result.errors[:3]
    return {
        "file_kib": len(data) // 1024,
        "read_s": round(read_s, 2),
        "seconds": round(time.perf_counter() - started, 2),
        "rss_before_mb": before,
        "outcome": f"{len(result.created)} created",
    }


def _background_case(url: str, rows: int) -> dict[str, Any]:
    """The project import as the web page runs it since the imports moved to the background
    (tracker/imports.py): the saved upload read, checked and written by ``run_job``, with its
    progress written to the status file. Run inline here; the page answers before it starts."""
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    from tests.factories.spreadsheets import OFFICES, project_xlsx
    from tracker.clock import system_clock
    from tracker.db import make_engine, make_session_factory, session_scope
    from tracker.imports import PROJECTS, ImportJob, ImportJobs, run_job
    from tracker.migrate import upgrade
    from tracker.models import Role
    from tracker.services.offices import create_office
    from tracker.services.users import create_user

    data = project_xlsx(rows)
    upgrade(url, "head")
    factory = make_session_factory(make_engine(url))
    with session_scope(factory) as session:
        for slug in OFFICES:
            create_office(session, slug, name_sv=slug, name_en=slug, now=system_clock())
        user = create_user(
            session, "bench@example.org", password=None, role=Role.EDITOR, now=system_clock()
        )
        user_id = user.id
    writes: list[tuple[str, int]] = []

    class CountingJobs(ImportJobs):
        def save(self, job: ImportJob) -> None:
            writes.append((job.phase, job.done))
            super().save(job)

    with tempfile.TemporaryDirectory() as folder:
        jobs = CountingJobs(Path(folder), system_clock)
        before = peak_rss_mb()
        started = time.perf_counter()
        job = jobs.create(
            PROJECTS, owner_id=user_id, data=data, filename="projects.xlsx", dry_run=False
        )
        accepted_s = time.perf_counter() - started
        run_job(
            jobs,
            job,
            factory,
            actor_id=user_id,
            in_zone=ZoneInfo("Europe/Stockholm"),
            sek_per_eur=Decimal("11.5"),
        )
        finished = jobs.load(job.id)
    assert finished is not None and finished.phase == "done", finished
    return {
        "file_kib": len(data) // 1024,
        "read_s": round(accepted_s, 3),
        "seconds": round(time.perf_counter() - started, 2),
        "rss_before_mb": before,
        "outcome": f"{finished.result['created']} created; {len(writes)} status writes",
    }


def _call_sheet_case(url: str, rows: int) -> dict[str, Any]:
    from tracker.clock import system_clock
    from tracker.db import make_engine, make_session_factory, session_scope
    from tracker.migrate import upgrade
    from tracker.services.calls import import_calls, manual_source

    lines = ["id;Titel;Program;url;Öppnar;Sista ansökningsdag;Budget;Valuta"]
    for n in range(rows):
        lines.append(
            f"c-{n};Utlysning {n} om hållbar omställning;ESF+;https://example.se/u/{n};"
            f"2026-10-01;2027-01-{1 + n % 28:02d};{n * 1000} kr;SEK"
        )
    data = ("\n".join(lines) + "\n").encode("utf-8")
    upgrade(url, "head")
    factory = make_session_factory(make_engine(url))
    before = peak_rss_mb()
    started = time.perf_counter()
    with session_scope(factory) as session:
        source = manual_source(session, "manual", now=system_clock())
        outcome = import_calls(session, source, data, filename="calls.csv", now=system_clock())
    assert outcome.stats.new == rows, outcome.stats
    return {
        "file_kib": len(data) // 1024,
        "seconds": round(time.perf_counter() - started, 2),
        "rss_before_mb": before,
        "outcome": f"{outcome.stats.new} calls created",
    }


def child(case: dict[str, Any]) -> None:
    if case["case"] == "bomb":
        result = _bomb_case(case["kind"], case["path"])
    elif case["case"] == "calls":
        result = _call_sheet_case(case["url"], case["rows"])
    elif case["case"] == "background":
        result = _background_case(case["url"], case["rows"])
    else:
        result = _import_case(case["fmt"], case["url"], case["rows"])
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


def run(case: dict[str, Any]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(case)],
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _reset_postgres(url: str) -> None:
    from sqlalchemy import text

    from tracker.db import make_engine

    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bomb-mb", type=int, default=1500)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--child", default=None)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return

    from tests.factories.spreadsheets import xlsx_bomb

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        bomb = Path(tmp) / "bomb.xlsx"
        bomb.write_bytes(xlsx_bomb(args.bomb_mb))
        size_mb = round(bomb.stat().st_size / 1024 / 1024, 2)
        for kind in ("project import", "call sheet upload"):
            result = run({"case": "bomb", "kind": kind, "path": str(bomb)})
            rows.append(
                {
                    "case": f"xlsx bomb, {kind}",
                    "database": "-",
                    "file": f"{size_mb} MB -> {args.bomb_mb} MB",
                    **result,
                }
            )
        databases: list[tuple[str, str | None]] = [("sqlite", None)]
        if os.environ.get("TRACKER_BENCH_DATABASE_URL"):
            databases.append(("postgresql", os.environ["TRACKER_BENCH_DATABASE_URL"]))
        for label, pg_url in databases:
            for fmt in ("xlsx", "csv"):
                if pg_url:
                    _reset_postgres(pg_url)
                url = pg_url or f"sqlite:///{tmp}/{fmt}.db"
                result = run({"case": "import", "fmt": fmt, "url": url, "rows": args.rows})
                kib = result.pop("file_kib")
                rows.append(
                    {
                        "case": f"{args.rows}-row project import",
                        "database": label,
                        "file": f"{kib} KiB {fmt}",
                        **result,
                    }
                )
            if pg_url:
                _reset_postgres(pg_url)
            url = pg_url or f"sqlite:///{tmp}/background.db"
            result = run({"case": "background", "url": url, "rows": args.rows})
            kib = result.pop("file_kib")
            rows.append(
                {
                    "case": f"{args.rows}-row project import, background run",
                    "database": label,
                    "file": f"{kib} KiB xlsx",
                    **result,
                }
            )
            if pg_url:
                _reset_postgres(pg_url)
            url = pg_url or f"sqlite:///{tmp}/calls.db"
            result = run({"case": "calls", "url": url, "rows": args.rows})
            kib = result.pop("file_kib")
            rows.append(
                {
                    "case": f"{args.rows}-row call sheet import",
                    "database": label,
                    "file": f"{kib} KiB csv",
                    **result,
                }
            )
    report("uploads", rows, {"bomb_unpacked_mb": args.bomb_mb, "import_rows": args.rows})


if __name__ == "__main__":
    main()

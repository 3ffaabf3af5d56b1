"""Projects at the size of a whole municipality's history: importing a spreadsheet of 2 000
projects (checked, then written), exporting it, and computing the report, on SQLite (and
PostgreSQL when TRACKER_BENCH_DATABASE_URL is set)."""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import peak_rss_mb, report, summary_ms

from tracker.clock import system_clock
from tracker.db import make_engine, make_session_factory, session_scope
from tracker.migrate import upgrade
from tracker.services.offices import create_office
from tracker.services.project_import import (
    COLUMNS,
    export_projects,
    import_projects,
    list_for_export,
    read_table,
)
from tracker.services.reports import compute_report

ROWS = 2000
OFFICES = ("kultur", "utb", "vof", "sbk", "kfn", "ssk")
PROGRAMMES = ("Creative Europe", "Erasmus+", "CERV", "Interreg Europe", "LIFE", "Nordplus Junior")
STATUSES = ("submitted", "awarded", "rejected", "running", "closed", "withdrawn")
PARTNERS = ("Riga (LV)", "Linz (AT)", "Esslingen am Neckar (DE)", "Tampere (FI)", "Odense (DK)")


def spreadsheet(rows: int) -> bytes:
    rng = random.Random(7)
    lines = [",".join(COLUMNS)]
    for n in range(rows):
        year = 2015 + n % 11
        total = rng.randrange(100_000, 5_000_000)
        municipal = total // rng.randrange(2, 8)
        grant = municipal * rng.randrange(50, 80) // 100
        partners = "; ".join(rng.sample(PARTNERS, rng.randrange(0, 4)))
        lines.append(
            ",".join(
                [
                    f"Project {n}",
                    f"P{n}",
                    rng.choice(PROGRAMMES),
                    rng.choice(("lead", "partner", "associated")),
                    rng.choice(STATUSES),
                    rng.choice(OFFICES),
                    f"{year}-0{1 + n % 9}-15",
                    "",
                    "",
                    "",
                    rng.choice(("EUR", "SEK")),
                    str(total),
                    str(municipal),
                    str(grant),
                    str(municipal - grant),
                    f'"{partners}"',
                ]
            )
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


def measure(database_url: str, label: str) -> dict[str, object]:
    upgrade(database_url, "head")
    factory = make_session_factory(make_engine(database_url))
    with session_scope(factory) as session:
        for slug in OFFICES:
            create_office(session, slug, name_sv=slug, name_en=slug, now=system_clock())
    data = spreadsheet(ROWS)

    t = time.perf_counter()
    table = read_table(data, "projects.csv")
    with session_scope(factory) as session:
        checked = import_projects(session, table, actor=None, now=system_clock(), dry_run=True)
    dry_run_s = time.perf_counter() - t
    assert checked.ok, checked.errors[:3]

    t = time.perf_counter()
    with session_scope(factory) as session:
        written = import_projects(session, table, actor=None, now=system_clock())
    import_s = time.perf_counter() - t
    assert len(written.created) == ROWS

    t = time.perf_counter()
    with session_scope(factory) as session:
        exported = export_projects(list_for_export(session), "projects.xlsx")
    export_s = time.perf_counter() - t

    samples = []
    for _ in range(5):
        t = time.perf_counter()
        with session_scope(factory) as session:
            figures = compute_report(session, year=None, sek_per_eur=Decimal("11.5"))
        samples.append(time.perf_counter() - t)
    assert figures.total.applications == ROWS
    return {
        "database": label,
        "rows": ROWS,
        "import_dry_run_s": round(dry_run_s, 2),
        "import_s": round(import_s, 2),
        "export_xlsx_s": round(export_s, 2),
        "export_kib": len(exported) // 1024,
        **{f"report_{k}": v for k, v in summary_ms(samples).items()},
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(measure(f"sqlite:///{tmp}/bench.db", "sqlite"))
    pg = os.environ.get("TRACKER_BENCH_DATABASE_URL")
    if pg:
        rows.append(measure(pg, "postgresql"))
    report("projects", rows)


if __name__ == "__main__":
    main()

"""Benchmark the matching engine: classify 10,000 calls against the nine focus areas.

Calls are built by varying the real calls of ../shared/samples/real_calls.jsonl (or
TRACKER_SAMPLES_DIR): each gets a new id, a numbered title and a description with a
piece of another call's text appended, so that no two calls are the same. Without
the samples, the small fixture calls of the test suite are varied instead.

Then the same 10,000 calls are stored in a fresh database (SQLite in a temporary
directory, or TRACKER_BENCH_DATABASE_URL, e.g. a PostgreSQL database of your own) and
re-matched in full with `tracker.services.strategy.match_calls`, scores and evidence
written back.

Targets (issue 4): >= 500 calls/s on one core, a full re-match of 10,000 stored calls
within 60 s, peak memory < 500 MB. Prints a table and writes bench/results/matching.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracker.matching.call import CallInput  # noqa: E402
from tracker.matching.engine import compile_profile, match_call  # noqa: E402
from tracker.matching.jsonl import read_calls  # noqa: E402
from tracker.matching.profile import default_profile  # noqa: E402

TARGET_RATE = 500.0
TARGET_MEMORY_MB = 500.0
TARGET_REMATCH_SECONDS = 60.0
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def source_calls() -> tuple[list[CallInput], str]:
    samples = Path(os.environ.get("TRACKER_SAMPLES_DIR", ROOT.parent / "shared" / "samples"))
    real = samples / "real_calls.jsonl"
    if real.is_file():
        return read_calls(real), str(real)
    fixture = ROOT / "tests" / "fixtures" / "matching" / "calls.jsonl"
    return read_calls(fixture), str(fixture)


def vary(base: list[CallInput], n: int) -> list[CallInput]:
    out = []
    for i in range(n):
        call = base[i % len(base)]
        other = base[(i * 7 + 3) % len(base)]
        piece = other.description[: 200 + (i % 5) * 100]
        out.append(
            replace(
                call,
                id=f"{call.id}~{i}",
                title=f"{call.title} ({i})",
                description=f"{call.description}\n{piece}",
            )
        )
    return out


def rematch_stored(calls: list[CallInput], url: str | None) -> dict[str, float | int | str]:
    """Store the calls in a fresh database and time a full re-match."""
    from sqlalchemy import delete, func, insert, select

    from tracker.db import make_engine, make_session_factory
    from tracker.migrate import upgrade
    from tracker.models import CallDeadline, CallMatch, FundingCall
    from tracker.services.strategy import ensure_default_profile, match_calls

    with tempfile.TemporaryDirectory() as tmp:
        url = url or f"sqlite:///{tmp}/bench.db"
        upgrade(url, "head")
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with factory() as session:
            session.execute(delete(FundingCall))
            session.commit()
            rows = [
                {
                    "identifier": call.id,
                    "title": call.title,
                    "programme_label": call.programme,
                    "description_text": call.description,
                    "keywords": [],
                    "tags": [],
                    "first_seen_at": NOW,
                    "updated_at": NOW,
                }
                for call in calls
            ]
            for start in range(0, len(rows), 1000):
                session.execute(insert(FundingCall), rows[start : start + 1000])
            ids = list(session.scalars(select(FundingCall.id)))
            session.execute(
                insert(CallDeadline),
                [{"call_id": i, "deadline_at": NOW + timedelta(days=30)} for i in ids],
            )
            ensure_default_profile(session, now=NOW)
            session.commit()

        t0 = time.perf_counter()
        with factory() as session:
            run = match_calls(session, None, now=NOW + timedelta(minutes=1), everything=True)
            session.commit()
        seconds = time.perf_counter() - t0
        with factory() as session:
            stored = session.scalar(select(func.count()).select_from(CallMatch)) or 0
        engine.dispose()
    return {
        "database": url.split(":", 1)[0] if "sqlite" in url else url.split("@")[-1],
        "calls": run.calls,
        "seconds": round(seconds, 2),
        "call_matches_stored": stored,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument(
        "--skip-database", action="store_true", help="Only classify; no stored re-match."
    )
    args = parser.parse_args()

    base, source = source_calls()
    calls = vary(base, args.calls)

    t0 = time.perf_counter()
    compiled = compile_profile(default_profile())
    compile_s = time.perf_counter() - t0

    t0 = time.process_time()
    wall0 = time.perf_counter()
    matched = gated = 0
    for call in calls:
        result = match_call(compiled, call)
        matched += bool(result.matches)
        gated += result.gate is not None
    cpu_s = time.process_time() - t0
    wall_s = time.perf_counter() - wall0
    rate = len(calls) / cpu_s

    rematch = (
        None
        if args.skip_database
        else rematch_stored(calls, os.environ.get("TRACKER_BENCH_DATABASE_URL"))
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rematch_ok = rematch is None or float(rematch["seconds"]) <= TARGET_REMATCH_SECONDS

    results = {
        "source": source,
        "calls": len(calls),
        "areas": len(compiled.areas),
        "compile_seconds": round(compile_s, 3),
        "classify_cpu_seconds": round(cpu_s, 2),
        "classify_wall_seconds": round(wall_s, 2),
        "calls_per_second": round(rate, 1),
        "peak_rss_mb": round(peak_mb, 1),
        "calls_matching_an_area": matched,
        "calls_gated": gated,
        "full_rematch": rematch,
        "targets": {
            "calls_per_second": TARGET_RATE,
            "peak_rss_mb": TARGET_MEMORY_MB,
            "full_rematch_seconds": TARGET_REMATCH_SECONDS,
        },
        "pass": rate >= TARGET_RATE and peak_mb < TARGET_MEMORY_MB and rematch_ok,
    }
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "matching.json").write_text(json.dumps(results, indent=2), encoding="utf-8")

    rows = [
        ("calls classified", f"{len(calls):,}", ""),
        ("focus areas", str(len(compiled.areas)), ""),
        ("profile compile", f"{compile_s * 1000:.0f} ms", ""),
        ("classify (CPU, one core)", f"{cpu_s:.2f} s", ""),
        ("throughput", f"{rate:,.0f} calls/s", f">= {TARGET_RATE:.0f}"),
        ("peak memory (RSS)", f"{peak_mb:.0f} MB", f"< {TARGET_MEMORY_MB:.0f}"),
        ("calls matching an area", f"{matched:,}", ""),
        ("calls gated", f"{gated:,}", ""),
    ]
    if rematch is not None:
        rows += [
            (f"full re-match ({rematch['database']})", f"{rematch['seconds']} s", "<= 60 s"),
            ("  call matches stored", f"{rematch['call_matches_stored']:,}", ""),
        ]
    print(f"Matching benchmark ({source})")
    for name, value, target in rows:
        print(f"  {name:<26}{value:>18}  {target}")
    print(f"  {'result':<26}{'PASS' if results['pass'] else 'FAIL':>18}")
    return 0 if results["pass"] else 1


if __name__ == "__main__":
    raise SystemExit(main())

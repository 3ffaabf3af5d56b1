"""Benchmark the matching engine: classify 10,000 calls against the nine focus areas.

Calls are built by varying the real calls of ../shared/samples/real_calls.jsonl (or
TRACKER_SAMPLES_DIR): each gets a new id, a numbered title and a description with a
piece of another call's text appended, so that no two calls are the same. Without
the samples, the small fixture calls of the test suite are varied instead.

Targets (issue 4): >= 500 calls/s on one core, peak memory < 500 MB.
Prints a table and writes bench/results/matching.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracker.matching.call import CallInput  # noqa: E402
from tracker.matching.engine import compile_profile, match_call  # noqa: E402
from tracker.matching.jsonl import read_calls  # noqa: E402
from tracker.matching.profile import default_profile  # noqa: E402

TARGET_RATE = 500.0
TARGET_MEMORY_MB = 500.0


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=10_000)
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
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

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
        "targets": {"calls_per_second": TARGET_RATE, "peak_rss_mb": TARGET_MEMORY_MB},
        "pass": rate >= TARGET_RATE and peak_mb < TARGET_MEMORY_MB,
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
    print(f"Matching benchmark ({source})")
    for name, value, target in rows:
        print(f"  {name:<26}{value:>18}  {target}")
    print(f"  {'result':<26}{'PASS' if results['pass'] else 'FAIL':>18}")
    return 0 if results["pass"] else 1


if __name__ == "__main__":
    raise SystemExit(main())

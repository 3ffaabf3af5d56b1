"""Ingest speed of interreg.eu's calls index.

2,000 hits in pages of 100 (the index's single-result shape with ``nbPages``), built by
varying the real recorded response in ../shared/samples (our own fixtures when the samples
are absent) with the fixtures' programmes: ids, titles, dates, programme pages (two hits in
ten share their programme's page, as real calls do), eligible areas (126 NUTS codes for the
SUDOE hits, a dozen for the others) and target audiences.

Measured: the first ingest (parse, dedupe, store, commit; the programme pages are not
fetched here) and its ratio to a floor measured in the same run on the same database:
``json.loads`` of the same bytes plus a SQLAlchemy Core ``executemany`` insert of the same
rows (calls, deadlines, source links). Target: at most 3x the floor. Also the re-fetch of
unchanged data. Each figure is the median of three rounds.

Runs on SQLite, and on PostgreSQL when TRACKER_BENCH_DATABASE_URL names a scratch database.
Prints a table and writes bench/results/interreg.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import report
from bench_ingest import NOW, RATE, ROOT, SAMPLES, fresh_engine
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from tracker.db import make_session_factory
from tracker.feeds.gcpause import gc_paused
from tracker.feeds.interreg import parse_interreg
from tracker.feeds.records import CallRecord
from tracker.models import CallDeadline, CallSourceLink, FundingCall, Source, SourceKind
from tracker.services.ingest import call_values, record_digest, upsert_calls

HITS = 2_000
PAGE_SIZE = 100
ROUNDS = 3
SAMPLE = "interreg_eu_algolia_calls_SUDOE_3hits_2026-08_fundhunt.json"


def _base_hits() -> tuple[list[dict[str, Any]], str]:
    own = []
    for name in ("interreg_page0.json", "interreg_page1.json"):
        page = json.loads((ROOT / "tests" / "fixtures" / "feeds" / name).read_bytes())
        result = page["results"][0] if "results" in page else page
        own += [h for h in result["hits"] if h.get("objectID")]
    recorded = SAMPLES / SAMPLE
    if recorded.exists():
        real = json.loads(recorded.read_bytes())["results"][0]["hits"]
        return [*real, *own], f"{recorded.name} + own fixtures"
    return own, "own fixtures (samples absent)"


def _shift(value: str | None, days: int) -> str | None:
    if not value:
        return value
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")) + timedelta(days=days)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def index_pages(count: int) -> tuple[list[bytes], str]:
    """`count` distinct hits in pages of the index's shape."""
    base, origin = _base_hits()
    hits = []
    for n in range(count):
        hit = json.loads(json.dumps(base[n % len(base)]))
        days = n % 400
        hit["objectID"] = f"callForProjectsPage_{100000 + n}"
        hit["pageId"] = 100000 + n
        hit["title"] = f"{hit['title']} ({n})"
        hit["updatedDate"] = _shift(hit.get("updatedDate"), days)
        for name in ("callOpenDate", "callDeadlineDate"):
            if hit.get(name) and n % 50:  # one hit in fifty has no dates
                hit[name] = _shift(hit[name], days)
            else:
                hit.pop(name, None)
        page = hit.get("callExternalUrl") or "https://programme.example/call"
        hit["callExternalUrl"] = f"{page.rstrip('/')}/{n // 2 if n % 10 < 2 else n}/"
        hits.append(hit)
    pages = []
    total = -(-count // PAGE_SIZE)
    for number in range(total):
        chunk = hits[number * PAGE_SIZE : (number + 1) * PAGE_SIZE]
        page_data = {
            "hits": chunk,
            "nbHits": count,
            "page": number,
            "nbPages": total,
            "hitsPerPage": PAGE_SIZE,
        }
        pages.append(json.dumps(page_data, ensure_ascii=False).encode())
    return pages, origin


def _source(session: Session) -> Source:
    source = Source(
        name="bench-interreg",
        kind=SourceKind.INTERREG,
        url="https://{app_id}-dsn.algolia.net/1/indexes/{index}/query",
        every="24h",
        is_enabled=True,
        settings={"app_id": "BENCH", "index": "calls", "api_key": "bench"},
        created_at=NOW,
    )
    session.add(source)
    session.flush()
    return source


def measure_ingest(url: str, pages: list[bytes]) -> dict[str, Any]:
    engine = fresh_engine(url)
    factory = make_session_factory(engine)
    with factory() as session:
        source_id = _source(session).id
        session.commit()

    def ingest() -> tuple[float, Any]:
        with factory() as session:
            source = session.get(Source, source_id)
            assert source is not None
            started = time.perf_counter()
            result = parse_interreg(pages)
            stats = upsert_calls(
                session, source, result.items, now=NOW, complete=True, sek_per_eur=RATE
            )
            session.commit()
            return time.perf_counter() - started, stats

    first_s, first = ingest()
    second_s, second = ingest()
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT count(*) FROM funding_calls")).scalar_one()
    engine.dispose()
    return {
        "first_s": first_s,
        "second_s": second_s,
        "new": first.new,
        "stored": stored,
        "unchanged_second": second.unchanged,
    }


def measure_floor(url: str, pages: list[bytes]) -> float:
    engine = fresh_engine(url)
    factory = make_session_factory(engine)
    with factory() as session:
        source_id = _source(session).id
        session.commit()
    records = [r for r in parse_interreg(pages).items if isinstance(r, CallRecord)]
    calls, deadlines, links = [], [], []
    for call_id, record in enumerate(records, start=1):
        record_dict = record.to_dict()
        values = call_values(record_dict, RATE)
        deadlines += [
            {"call_id": call_id, "deadline_at": d.at, "stage": d.stage, "is_date_only": d.date_only}
            for d in values.pop("deadlines")
        ]
        calls.append(
            {
                "id": call_id,
                **values,
                "raw": record.raw,
                "is_withdrawn": False,
                "first_seen_at": NOW,
                "updated_at": NOW,
            }
        )
        links.append(
            {
                "call_id": call_id,
                "source_id": source_id,
                "external_id": record.external_id,
                "content_hash": record_digest(record_dict),
                "record": record_dict,
                "first_seen_at": NOW,
                "updated_at": NOW,
            }
        )
    with engine.connect() as connection, gc_paused():
        started = time.perf_counter()
        for page in pages:
            json.loads(page)
        with connection.begin():
            connection.execute(insert(FundingCall.__table__), calls)
            if deadlines:
                connection.execute(insert(CallDeadline.__table__), deadlines)
            connection.execute(insert(CallSourceLink.__table__), links)
        elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def run(url: str, label: str, pages: list[bytes], rounds: int) -> dict[str, Any]:
    ingests = [measure_ingest(url, pages) for _ in range(rounds)]
    floors = [measure_floor(url, pages) for _ in range(rounds)]
    first = statistics.median(i["first_s"] for i in ingests)
    second = statistics.median(i["second_s"] for i in ingests)
    floor = statistics.median(floors)
    last = ingests[-1]
    return {
        "database": label,
        "hits": HITS,
        "stored": last["stored"],
        "ingest_s": round(first, 3),
        "floor_s": round(floor, 3),
        "ratio": round(first / floor, 2),
        "target_ratio": 3.0,
        "ok": first / floor <= 3.0,
        "refetch_s": round(second, 3),
        "unchanged_refetch": last["unchanged_second"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    pages, origin = index_pages(HITS)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(run(f"sqlite:///{tmp}/bench.db", "sqlite", pages, args.rounds))
    pg = os.environ.get("TRACKER_BENCH_DATABASE_URL")
    if pg:
        rows.append(run(pg, "postgresql", pages, args.rounds))
    report("interreg", rows, {"payload": origin, "payload_bytes": sum(len(p) for p in pages)})


if __name__ == "__main__":
    main()

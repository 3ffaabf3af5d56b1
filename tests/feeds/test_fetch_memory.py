"""Issue 11, finding 2: a search response far larger than any real page (rows the tracker skips,
under the size cap) is read row by row from a spool file, so the fetch's memory stays a small
fraction of the body instead of growing to many times its size. bench/bench_hostile.py
measures the same with a 195 MB body in a process of its own."""

from __future__ import annotations

import json
import tracemalloc
from datetime import UTC, datetime

from tests.feeds.conftest import LocalServer, Reply, local_policy
from tracker.feeds.http import build_session
from tracker.feeds.records import Quarantined, SourceKind
from tracker.feeds.registry import SourceSpec, fetch_source

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
ROWS = 40_000


def _row(n: int, kind: str) -> bytes:
    metadata = {
        "type": [kind],
        "identifier": [f"BIG-2026-{n:07d}"],
        "title": [f"Tender number {n} about roads, bridges, schools and the climate"],
        "deadlineDate": ["2027-03-01T17:00:00.000+0000"],
        "DATASOURCE": ["SEDIA"],
        "language": ["en"],
        "frameworkProgramme": ["43108390"],
    }
    return json.dumps({"reference": f"R{n}", "metadata": metadata}).encode()


def test_a_huge_search_response_is_parsed_in_little_memory(server: LocalServer) -> None:
    # Tenders (type 6), which the tracker skips, and two calls at the end.
    rows = [_row(n, "6") for n in range(ROWS)] + [_row(ROWS + 1, "1"), _row(ROWS + 2, "1")]
    body = b'{"totalResults": %d, "pageNumber": 1, "results": [' % len(rows)
    body += b",".join(rows) + b"]}"
    del rows
    server.routes["/search"] = Reply(body=body, headers={"Content-Type": "application/json"})
    server.routes["/facet"] = Reply(body=b'{"facets": []}')
    http = build_session(local_policy(max_bytes=200_000_000))
    spec = SourceSpec(
        kind=SourceKind.FT_SEARCH, url=server.url("/search"), settings={"page_size": 100}
    )

    tracemalloc.start()
    try:
        with fetch_source(http, spec, now=NOW) as result:
            calls = [i for i in result.items if not isinstance(i, Quarantined)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert len(body) > 10_000_000
    assert [c.external_id for c in calls][-2:] == ["BIG-2026-0040001", "BIG-2026-0040002"]
    # Parsing the whole body at once took about ten times its size; row by row, a sliver.
    assert peak < len(body) / 3, f"peak {peak / 1e6:.1f} MB for a {len(body) / 1e6:.1f} MB body"

"""Hostile sources: how many bytes, how long and how much memory the worst of them costs.

Each source is served by a local HTTP server in this process; each fetch runs in a child
process (so its peak memory is its own) through `fetch_source` with the limits of the
default config (``[fetch]`` of config.example.toml), except where a row says otherwise:

1. huge-calls:   a 195 MB search response of about 640,000 distinct calls (``totalResults``
                 says 10 million). Contained by the item cap (max_items_per_run).
2. huge-tenders: a 195 MB search response of as many rows the tracker skips (tenders):
                 the whole body is read, row by row. Target: peak memory < 400 MB.
3. drip:         a body of one byte every 2 s, read_timeout_seconds = 5. Target: < 60 s.
4. drip-headers: the status line and headers one byte every 2 s, read timeout 5 s.
5. lying-total:  every page full, ``totalResults`` 1,000,000, 5,000 programme codes.
                 Contained by max_requests_per_run.
6. deep-row:     a row nested 200,000 levels deep between two good rows: quarantined.

Prints a table and writes bench/results/hostile.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import report

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
HUGE_BYTES = 195_000_000  # under the default 200 MB cap of one response
DRIP_SECONDS = 2.0


# --- the hostile server ------------------------------------------------------------------------


def _row(n: int, kind: str) -> bytes:
    metadata = {
        "type": [kind],
        "identifier": [f"HOSTILE-2026-{n:07d}"],
        "title": [f"Call number {n} about culture, cities, schools and the climate"],
        "deadlineDate": ["2027-03-01T17:00:00.000+0000"],
        "DATASOURCE": ["SEDIA"],
        "language": ["en"],
        "frameworkProgramme": ["43108390"],
    }
    return json.dumps({"reference": f"R{n}", "metadata": metadata}).encode()


def write_huge(path: Path, kind: str) -> tuple[int, int]:
    """A search response of HUGE_BYTES: (its size, its rows)."""
    size, rows = 0, 0
    with path.open("wb") as out:
        size += out.write(b'{"totalResults": 10000000, "pageNumber": 1, "results": [')
        while size < HUGE_BYTES - 1000:
            if rows:
                size += out.write(b",")
            size += out.write(_row(rows, kind))
            rows += 1
        out.write(b"]}")
    return path.stat().st_size, rows


class Hostile:
    """Routes by path; counts the bytes it sends per path."""

    def __init__(self, files: dict[str, Path]) -> None:
        self.files = files
        self.sent: dict[str, int] = {}
        self.requests: dict[str, int] = {}
        hostile = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                self.do_GET()

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                path = parts.path
                hostile.requests[path] = hostile.requests.get(path, 0) + 1
                try:
                    hostile.answer(self, path, parse_qs(parts.query))
                except (BrokenPipeError, ConnectionResetError, OSError):
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def _count(self, path: str, n: int) -> None:
        self.sent[path] = self.sent.get(path, 0) + n

    def answer(self, handler: BaseHTTPRequestHandler, path: str, query: dict[str, Any]) -> None:
        wfile = handler.wfile
        if path in self.files:
            file = self.files[path]
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(file.stat().st_size))
            handler.end_headers()
            with file.open("rb") as data:
                while chunk := data.read(256 * 1024):
                    wfile.write(chunk)
                    self._count(path, len(chunk))
            return
        if path == "/drip":
            handler.send_response(200)
            handler.send_header("Content-Length", "1000000")
            handler.end_headers()
            wfile.flush()
            for _ in range(1_000_000):
                time.sleep(DRIP_SECONDS)
                wfile.write(b"x")
                wfile.flush()
                self._count(path, 1)
            return
        if path == "/drip-headers":
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 100_000:
                wfile.write(bytes([byte]))
                wfile.flush()
                self._count(path, 1)
                time.sleep(DRIP_SECONDS)
            return
        if path == "/lying/search":
            number = int(query.get("pageNumber", ["1"])[0])
            rows = b",".join(_row(number * 1000 + n, "1") for n in range(100))
            body = b'{"totalResults": 1000000, "results": [' + rows + b"]}"
        elif path == "/lying/facet":
            values = [{"rawValue": str(c), "value": f"P{c}", "count": 9999} for c in range(5000)]
            body = json.dumps(
                {"facets": [{"name": "frameworkProgramme", "values": values}]}
            ).encode()
        elif path == "/deep/search":
            deep = b"[" * 200_000 + b"]" * 200_000
            body = (
                b'{"totalResults": 3, "results": ['
                + _row(1, "1")
                + b',{"metadata": {"type": ["1"], "nest": '
                + deep
                + b"}},"
                + _row(2, "1")
                + b"]}"
            )
        elif path.endswith("/facet"):
            body = b'{"facets": []}'
        else:
            handler.send_response(404)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        wfile.write(body)
        self._count(path, len(body))


# --- one fetch, in a child process ---------------------------------------------------------------


def child(kind: str, url: str, overrides: dict[str, Any]) -> None:
    from tracker.config import settings_from_dict
    from tracker.feeds.errors import FetchError
    from tracker.feeds.records import Quarantined, SourceKind
    from tracker.feeds.registry import SourceSpec, fetch_source
    from tracker.services.sources import http_session

    settings = settings_from_dict(
        {"fetch": {"allow_private_addresses": True, **overrides}},
    )
    http = http_session(settings)
    spec = SourceSpec(
        kind=SourceKind(kind),
        url=url,
        settings={"page_size": 100} if kind == "ft-search" else {},
    )
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.monotonic()
    outcome: dict[str, Any] = {}
    try:
        with fetch_source(http, spec, now=NOW) as result:
            items = list(result.items)
        calls = sum(1 for i in items if not isinstance(i, Quarantined))
        outcome["outcome"] = f"ok: {calls} calls, {len(items) - calls} quarantined"
    except FetchError as exc:
        outcome["outcome"] = f"stopped: {exc}".replace(url, "<url>")[:150]
    outcome["seconds"] = round(time.monotonic() - started, 1)
    outcome["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    outcome["baseline_rss_mb"] = round(baseline, 1)
    print(json.dumps(outcome))


def run_child(kind: str, url: str, overrides: dict[str, Any]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, url, json.dumps(overrides)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", nargs=3, metavar=("KIND", "URL", "OVERRIDES"))
    parser.add_argument("--skip-huge", action="store_true", help="leave out the 195 MB bodies")
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], json.loads(args.child[2]))
        return

    with tempfile.TemporaryDirectory(prefix="tracker-bench-hostile-") as tmp:
        files: dict[str, Path] = {}
        sizes: dict[str, int] = {}
        counts: dict[str, int] = {}
        if not args.skip_huge:
            for name, kind in (("calls", "1"), ("tenders", "6")):
                path = Path(tmp) / f"{name}.json"
                sizes[f"/huge-{name}"], counts[f"/huge-{name}"] = write_huge(path, kind)
                files[f"/huge-{name}"] = path
        server = Hostile(files)
        scenarios: list[tuple[str, str, str, dict[str, Any]]] = []
        if not args.skip_huge:
            scenarios += [
                ("huge-calls", "ft-search", "/huge-calls", {}),
                ("huge-tenders", "ft-search", "/huge-tenders", {}),
            ]
        scenarios += [
            ("drip", "rss", "/drip", {"read_timeout_seconds": 5.0}),
            ("drip-headers", "rss", "/drip-headers", {"read_timeout_seconds": 5.0}),
            ("lying-total", "ft-search", "/lying/search", {}),
            ("deep-row", "ft-search", "/deep/search", {}),
        ]
        rows: list[dict[str, Any]] = []
        for name, kind, path, overrides in scenarios:
            before_sent = sum(server.sent.values())
            before_requests = sum(server.requests.values())
            measured = run_child(kind, server.url(path), overrides)
            time.sleep(0.2)
            rows.append(
                {
                    "scenario": name,
                    "body_mb": round(sizes[path] / 1e6, 1) if path in sizes else "",
                    "rows": counts.get(path, ""),
                    "sent_bytes": sum(server.sent.values()) - before_sent,
                    "requests": sum(server.requests.values()) - before_requests,
                    "seconds": measured["seconds"],
                    "peak_rss_mb": measured["peak_rss_mb"],
                    "outcome": measured["outcome"],
                }
            )
        server.httpd.shutdown()
    report(
        "hostile",
        rows,
        {
            "targets": {
                "huge-tenders peak_rss_mb": "< 400",
                "drip seconds": "< 60",
            },
            "host": socket.gethostname(),
        },
    )


if __name__ == "__main__":
    main()

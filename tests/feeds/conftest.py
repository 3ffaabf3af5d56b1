"""Fixtures for the feed adapters: sample payloads, own fixtures, a local HTTP server."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import local_fetch_folders, samples_dir
from tracker.feeds.http import FetchPolicy, TrackerSession, build_session

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"


@pytest.fixture
def samples() -> Path:
    """The real recorded payloads; tests using them are skipped when absent."""
    path = samples_dir()
    if not path.is_dir():
        pytest.skip(f"real sample payloads not found at {path} (set TRACKER_SAMPLES_DIR)")
    return path


def sample(samples: Path, name: str) -> Path:
    path = samples / name
    if not path.exists():
        pytest.skip(f"sample {name} not found in {samples}")
    return path


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def local_policy(**limits: Any) -> FetchPolicy:
    """A fetch policy that lets tests reach the local server and their own files."""
    return FetchPolicy(
        allow_private_addresses=True,
        allow_local_folders=tuple(local_fetch_folders()),
        **limits,
    )


@dataclass
class Reply:
    """One scripted answer of the local server."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before the body (for timeouts)
    declare_length: bool = True


@dataclass
class Seen:
    """A request as the server received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


Route = Callable[[Seen], Reply] | list[Reply] | Reply


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up (as the fetcher does on a refused key) is not an error.

    socketserver prints those to stderr, where a CLI test reading stdout and stderr
    together would find a traceback inside its JSON.
    """

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            return
        super().handle_error(request, client_address)


class LocalServer:
    """A threaded http.server on 127.0.0.1 answering from a route table."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Seen] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                seen = Seen(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                server.requests.append(seen)
                reply = server._reply(seen)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.declare_length:
                    self.send_header("Content-Length", str(len(reply.body)))
                else:
                    self.send_header("Connection", "close")
                self.end_headers()
                if reply.delay:
                    self.wfile.flush()
                    time.sleep(reply.delay)
                try:
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    return
                if not reply.declare_length:
                    self.close_connection = True

            do_GET = _handle
            do_POST = _handle

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def _reply(self, seen: Seen) -> Reply:
        route = self.routes.get(seen.path)
        if route is None:
            return Reply(status=404, body=b"not here")
        if isinstance(route, Reply):
            return route
        if isinstance(route, list):
            return route.pop(0) if len(route) > 1 else route[0]
        return route(seen)

    def url(self, path: str) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def hits(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]


@pytest.fixture
def server() -> Iterator[LocalServer]:
    local = LocalServer()
    local.thread.start()
    try:
        yield local
    finally:
        local.httpd.shutdown()
        local.httpd.server_close()


@dataclass
class FakeClock:
    """Records sleeps instead of sleeping."""

    slept: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def http(clock: FakeClock) -> Iterator[TrackerSession]:
    """The production session with short timeouts and a sleep that does not wait."""
    policy = local_policy(connect_timeout=2, read_timeout=0.5, max_bytes=256 * 1024)
    built = build_session(policy, sleep=clock.sleep)
    try:
        yield built
    finally:
        built.close()

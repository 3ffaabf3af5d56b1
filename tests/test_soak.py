"""Soak: the web server and the scheduler side by side on the suite's database (SQLite by
default, PostgreSQL in CI's second run), every real job firing every few seconds while staff
post forms. Nothing may fail: no job run, no request, no write.

Figures are printed (run with ``-s``) and written to bench/results/soak-<database>.json.
``TRACKER_SOAK_SECONDS`` sets the length (default 40).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tests.conftest import empty_all_tables
from tests.digests.conftest import SmtpHandler, free_port
from tests.factories import TEST_PASSWORD, make_profile, make_source, make_user
from tests.factories.digests import make_subscription
from tests.factories.inbox import make_matched_call
from tests.feeds.conftest import fixture_bytes
from tracker.models import Comment, FetchRun, JobRun, Role, SourceKind

REPO = Path(__file__).resolve().parent.parent
SECONDS = float(os.environ.get("TRACKER_SOAK_SECONDS", "40"))
CLIENTS = 4


class _Feed(BaseHTTPRequestHandler):
    body = fixture_bytes("feed_atom.xml")

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/atom+xml")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def feed_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Feed)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/feed.xml"
    server.shutdown()


def _child_env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    # Under CI's faketime run, libfaketime stalls the timed waits of the children's threads.
    for variable in ("LD_PRELOAD", "FAKETIME"):
        env.pop(variable, None)
    return env


def _wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


class Client(threading.Thread):
    """One member of staff: reads the inbox and a call, comments on it, again and again."""

    def __init__(self, base: str, email: str, call_ids: list[int], until: float) -> None:
        super().__init__(daemon=True)
        self.base, self.email, self.call_ids, self.until = base, email, call_ids, until
        self.statuses: Counter[int] = Counter()
        self.comments_posted = 0
        self.errors: list[str] = []
        self.slowest: list[tuple[float, str]] = []

    def _timed(self, method: str, url: str, http: requests.Session, **kw: Any) -> Any:
        began = time.monotonic()
        try:
            return http.request(method, url, timeout=60, **kw)
        finally:
            took = time.monotonic() - began
            self.slowest = sorted([*self.slowest, (round(took, 2), f"{method} {url}")])[-3:]

    def run(self) -> None:
        http = requests.Session()
        try:
            login_page = http.get(f"{self.base}/login", timeout=30).text
            http.post(
                f"{self.base}/login",
                data={
                    "email": self.email,
                    "password": TEST_PASSWORD,
                    "csrf_token": _csrf(login_page),
                },
                timeout=30,
            )
            n = 0
            while time.monotonic() < self.until:
                call_id = self.call_ids[n % len(self.call_ids)]
                n += 1
                inbox = self._timed("GET", f"{self.base}/calls", http)
                self.statuses[inbox.status_code] += 1
                page = self._timed("GET", f"{self.base}/calls/{call_id}", http)
                self.statuses[page.status_code] += 1
                posted = self._timed(
                    "POST",
                    f"{self.base}/calls/{call_id}/comments",
                    http,
                    data={"body": f"{self.email} note {n}", "csrf_token": _csrf(page.text)},
                    allow_redirects=False,
                )
                self.statuses[posted.status_code] += 1
                if posted.status_code == 302:
                    self.comments_posted += 1
        except Exception as exc:  # reported by the test, not lost in a thread
            self.errors.append(f"{type(exc).__name__}: {exc}")


@pytest.mark.soak
def test_web_and_scheduler_side_by_side_lose_nothing(
    tmp_path: Path, database_url: str, engine: Engine, feed_url: str
) -> None:
    smtp = SmtpHandler()
    smtp_port = free_port()
    controller = Controller(smtp, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    web_port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[app]\nsecret_key = "soak"\n[database]\nurl = "{database_url}"\n'
        f'[mail]\nhost = "127.0.0.1"\nport = {smtp_port}\nsender = "tracker@norrkoping.test"\n'
        f'base_url = "http://127.0.0.1:{web_port}"\n'
        # The feed is served from this machine, which sources may not reach by default.
        "[fetch]\nallow_private_addresses = true\n",
        encoding="utf-8",
    )
    with Session(engine) as session:
        runs_before = session.scalar(select(func.max(JobRun.id))) or 0
        make_profile(session)
        users = [
            make_user(session, role=Role.EDITOR, email=f"soak{i}@norrkoping.test")
            for i in range(CLIENTS)
        ]
        calls = [
            make_matched_call(session, {"culture-music": 60 + i}, title=f"Soak call {i}")
            for i in range(8)
        ]
        make_source(session, SourceKind.RSS, name="soak feed", url=feed_url, every="2s")
        for user in users:
            make_subscription(session, user, send_when_empty=True)
        session.commit()
        call_ids = [call.id for call in calls]
        emails = [user.email for user in users]

    base = [sys.executable, "-m", "tracker", "--config", str(config)]
    env = _child_env()
    # Their logs go to files: a pipe nobody reads fills up and blocks the server.
    logs = {name: tmp_path / f"{name}.log" for name in ("web", "scheduler")}
    web = subprocess.Popen(
        [*base, "web", "--port", str(web_port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=logs["web"].open("wb"),
    )
    scheduler = subprocess.Popen(
        [*base, "scheduler", "--jobs", "tests.soak_jobs:JOBS"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=logs["scheduler"].open("wb"),
    )
    try:
        url = f"http://127.0.0.1:{web_port}"
        _wait_for(f"{url}/healthz")
        clients = [Client(url, email, call_ids, time.monotonic() + SECONDS) for email in emails]
        for client in clients:
            client.start()
        for client in clients:
            client.join(timeout=SECONDS + 120)
        time.sleep(2)  # let the runs that started finish
    finally:
        for process in (web, scheduler):
            process.send_signal(signal.SIGINT)
        for process in (web, scheduler):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        controller.stop()
        outputs = {name: path.read_text("utf-8", "replace") for name, path in logs.items()}

    try:
        with Session(engine) as session:
            runs = session.scalars(select(JobRun).where(JobRun.id > runs_before)).all()
            comments = session.scalar(select(func.count()).select_from(Comment)) or 0
            fetches = Counter(run.status.value for run in session.scalars(select(FetchRun)))
    finally:
        empty_all_tables(engine)

    statuses: Counter[int] = Counter()
    for client in clients:
        statuses.update(client.statuses)
    per_job = Counter(run.job_name for run in runs)
    failed = [f"{run.job_name}: {run.error}" for run in runs if run.status != "succeeded"]
    posted = sum(client.comments_posted for client in clients)
    figures = {
        "database": engine.dialect.name,
        "seconds": SECONDS,
        "clients": CLIENTS,
        "requests": sum(statuses.values()),
        "statuses": {str(code): count for code, count in sorted(statuses.items())},
        "comments_posted": posted,
        "comments_stored": comments,
        "job_runs": dict(sorted(per_job.items())),
        "failed_job_runs": len(failed),
        "source_fetches": dict(fetches),
        "slowest_requests": sorted(x for client in clients for x in client.slowest)[-3:],
        "digests_received": len(smtp.received),
    }
    print("\nsoak:", json.dumps(figures))
    results = REPO / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / f"soak-{engine.dialect.name}.json").write_text(json.dumps(figures, indent=2))

    assert [e for client in clients for e in client.errors] == []
    assert not [code for code in statuses if code >= 500], statuses
    assert failed == [], failed
    assert fetches["succeeded"] >= 1 and fetches["failed"] == 0, fetches
    assert comments == posted and posted > 0  # every accepted post was stored
    assert set(per_job) >= {"fetch-sources", "match-calls", "digest-retry", "weekly-digest"}
    assert all(count >= 2 for count in per_job.values()), per_job
    assert "database is locked" not in outputs["scheduler"], outputs["scheduler"][-3000:]
    assert "Traceback" not in outputs["scheduler"], outputs["scheduler"][-3000:]
    assert "Traceback" not in outputs["web"], outputs["web"][-3000:]

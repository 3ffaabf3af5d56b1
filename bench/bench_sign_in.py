"""Sign-in timing per kind of account, and gunicorn against slow clients.

1. A refused sign-in (wrong password) through the real form and app on SQLite, with the
   production argon2 parameters: a known account, an unknown one and an invited account that
   has no password yet. Medians of interleaved tries; equal times mean the answer's timing
   does not tell which accounts exist.
2. gunicorn with the project's settings (tracker/gunicorn_conf.py, one process) and, for
   comparison, with four sync workers (the set-up the README used to give): four clients
   open a connection and send half a request, then /healthz is asked with a 10 s timeout.

Prints a table and writes bench/results/sign_in.json.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import report

from tracker.app import create_app
from tracker.clock import FixedClock
from tracker.config import settings_from_dict
from tracker.migrate import upgrade
from tracker.models import Role
from tracker.services.users import create_user

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
ACCOUNTS = {
    "known account, wrong password": "known@norrkoping.test",
    "unknown account": "nobody@norrkoping.test",
    "invited, no password yet": "invited@norrkoping.test",
}


def sign_in_times(folder: Path, tries: int) -> list[dict[str, Any]]:
    url = f"sqlite:///{folder / 'sign-in.db'}"
    upgrade(url)
    many = 10_000  # no throttle during the measurement
    settings = settings_from_dict(
        {
            "app": {
                "secret_key": "bench",
                "login_attempts_per_15_minutes": many,
                "login_attempts_per_address_per_15_minutes": many,
                "login_attempts_per_account_per_15_minutes": many,
            },
            "database": {"url": url},
        },
        instance_path=folder,
    )
    app = create_app(settings, clock=FixedClock(NOW))
    with app.extensions["tracker"].session_factory() as session:
        for kind, password in (
            ("known account, wrong password", "correct horse battery"),
            ("invited, no password yet", None),
        ):
            create_user(session, ACCOUNTS[kind], password=password, role=Role.VIEWER, now=NOW)
        session.commit()
    client = app.test_client()
    times: dict[str, list[float]] = {kind: [] for kind in ACCOUNTS}
    for _ in range(tries):
        for kind, email in ACCOUNTS.items():
            with client.session_transaction() as flask_session:
                flask_session["csrf_token"] = "bench"
            started = time.perf_counter()
            response = client.post(
                "/login", data={"email": email, "password": "wrong password", "csrf_token": "bench"}
            )
            times[kind].append(time.perf_counter() - started)
            assert response.status_code == 401, response.status_code
    return [
        {
            "measure": f"refused sign-in: {kind}",
            "median_s": round(statistics.median(values), 3),
            "min_s": round(min(values), 3),
            "max_s": round(max(values), 3),
            "tries": tries,
        }
        for kind, values in times.items()
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def slow_clients(folder: Path, label: str, *options: str) -> dict[str, Any]:
    database = folder / "gunicorn.db"
    upgrade(f"sqlite:///{database}")
    config = folder / "config.toml"
    config.write_text(
        f'[app]\nsecret_key = "bench"\n[database]\nurl = "sqlite:///{database}"\n',
        encoding="utf-8",
    )
    port = _free_port()
    env = {**os.environ, "TRACKER_CONFIG": str(config), "WEB_CONCURRENCY": "1"}
    command = [sys.executable, "-m", "gunicorn", "-c", "python:tracker.gunicorn_conf"]
    command += ["--bind", f"127.0.0.1:{port}", *options]
    with (folder / f"{label}.log").open("wb") as log:
        process = subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=log)
    health = f"http://127.0.0.1:{port}/healthz"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(health, timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        time.sleep(2)  # every worker up
        held = []
        for _ in range(4):
            connection = socket.create_connection(("127.0.0.1", port), timeout=5)
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nX-Slow: ")
            held.append(connection)
        time.sleep(0.5)
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(health, timeout=10) as reply:
                outcome = f"HTTP {reply.status}"
        except OSError as exc:
            outcome = f"no answer ({exc.__class__.__name__})"
        elapsed = time.perf_counter() - started
        for connection in held:
            connection.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
    return {
        "measure": f"/healthz with 4 slow clients: {label}",
        "outcome": outcome,
        "seconds": round(elapsed, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=7)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        rows += sign_in_times(Path(tmp), args.tries)
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(slow_clients(Path(tmp), "project settings (gthread, 1 x 8 threads)"))
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(
            slow_clients(
                Path(tmp),
                "4 sync workers",
                "--worker-class",
                "sync",
                "--threads",
                "1",
                "--workers",
                "4",
            )
        )
    report("sign_in", rows, {"load_average": os.getloadavg()})


if __name__ == "__main__":
    main()

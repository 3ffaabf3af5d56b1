"""App start-up time and /healthz latency, on SQLite (and PostgreSQL when
TRACKER_BENCH_DATABASE_URL is set), measured against a real server on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import report, summary_ms

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = 300


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure(database_url: str, label: str) -> dict[str, object]:
    # Start-up: import the package and build the app in a fresh interpreter, as a worker does.
    raw = {"app": {"secret_key": "b"}, "database": {"url": database_url}}
    code = (
        "import time; t=time.perf_counter(); from tracker.app import create_app; "
        "from tracker.config import settings_from_dict; "
        f"create_app(settings_from_dict({raw!r})); print(time.perf_counter()-t)"
    )
    startups = []
    for _ in range(5):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        startups.append(float(out.stdout.strip()))
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text(f'[app]\nsecret_key = "b"\n[database]\nurl = "{database_url}"\n')
        subprocess.run(
            [sys.executable, "-m", "tracker", "--config", str(config), "db", "upgrade"],
            check=True,
            capture_output=True,
        )
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "tracker", "--config", str(config), "web", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}/healthz"
            t0 = time.perf_counter()
            while True:
                try:
                    requests.get(url, timeout=1)
                    break
                except requests.ConnectionError:
                    if time.perf_counter() - t0 > 30:
                        raise
                    time.sleep(0.05)
            ready = time.perf_counter() - t0
            session = requests.Session()
            samples = []
            for _ in range(REQUESTS):
                t = time.perf_counter()
                response = session.get(url, timeout=5)
                samples.append(time.perf_counter() - t)
                assert response.status_code == 200
        finally:
            server.terminate()
            server.wait(timeout=10)
    latency = summary_ms(samples)
    return {
        "database": label,
        "create_app_median_s": round(sorted(startups)[2], 3),
        "server_ready_s": round(ready, 3),
        "healthz_median_ms": latency["median_ms"],
        "healthz_p95_ms": latency["p95_ms"],
        "requests": REQUESTS,
    }


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(measure(f"sqlite:///{tmp}/bench.db", "sqlite"))
    pg = os.environ.get("TRACKER_BENCH_DATABASE_URL")
    if pg:
        rows.append(measure(pg, "postgresql"))
    report("startup", rows)


if __name__ == "__main__":
    main()

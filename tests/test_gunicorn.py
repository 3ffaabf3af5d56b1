"""gunicorn with the project's settings (tracker/gunicorn_conf.py) keeps answering while
slow clients hold connections open: four of them froze the sync workers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.digests.conftest import free_port
from tracker.migrate import upgrade

pytest.importorskip("gunicorn")


def start_gunicorn(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[bytes], int]:
    database = tmp_path / "tracker.db"
    upgrade(f"sqlite:///{database}")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[app]\nsecret_key = "gunicorn-test"\n[database]\nurl = "sqlite:///{database}"\n',
        encoding="utf-8",
    )
    port = free_port()
    env = {**os.environ, "TRACKER_CONFIG": str(config), "WEB_CONCURRENCY": "1"}
    log = (tmp_path / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "python:tracker.gunicorn_conf",
            "--bind",
            f"127.0.0.1:{port}",
            *extra,
        ],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail((tmp_path / "gunicorn.log").read_text(errors="replace"))
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    pytest.fail("gunicorn did not answer within a minute")


@pytest.fixture()
def gunicorn(tmp_path: Path) -> Iterator[int]:
    process, port = start_gunicorn(tmp_path)
    try:
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_four_slow_clients_do_not_stop_healthz_from_answering(gunicorn: int) -> None:
    slow = []
    try:
        for _ in range(4):
            connection = socket.create_connection(("127.0.0.1", gunicorn), timeout=5)
            # Half a request, then silence: a sync worker waits for the rest, serving no one.
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: tracker\r\nX-Slow: ")
            slow.append(connection)
        time.sleep(0.5)
        started = time.monotonic()
        with urllib.request.urlopen(f"http://127.0.0.1:{gunicorn}/healthz", timeout=10) as reply:
            assert reply.status == 200
        assert time.monotonic() - started < 10
    finally:
        for connection in slow:
            connection.close()

"""The processes a deployment starts: ``tracker run`` stops its web server and its scheduler on
Ctrl-C and on SIGTERM, and every command finds the same instance folder (database, signing
key) whatever folder it is started from."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.digests.conftest import free_port
from tracker.config import (
    EXAMPLE_CONFIG,
    config_path,
    ensure_config_file,
    load_settings,
    signing_key,
)


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment without any TRACKER_ setting of the caller's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(extra)
    return env


def _gone(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status) == 200
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_tracker_run_stops_the_web_server_and_the_scheduler(
    tmp_path: Path, signum: signal.Signals
) -> None:
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[app]\nsecret_key = "k"\n[database]\nurl = "sqlite:///{tmp_path}/run.db"\n'
        f"[web]\nport = {port}\n",
        encoding="utf-8",
    )
    log_path = tmp_path / "run.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tracker", "--config", str(config), "run"],
            env=_clean_env(),
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        parent = psutil.Process(process.pid)
        deadline = time.monotonic() + 90
        children: list[psutil.Process] = []
        while time.monotonic() < deadline:
            children = parent.children(recursive=True)
            schedulers = [c for c in children if "scheduler" in c.cmdline()]
            if schedulers and _answers(f"http://127.0.0.1:{port}/healthz"):
                break
            assert process.poll() is None, log_path.read_text()
            time.sleep(0.2)
        else:
            pytest.fail(f"tracker run did not start: {log_path.read_text()}")
        pids = [c.pid for c in children]

        process.send_signal(signum)
        assert process.wait(timeout=30) == 0, log_path.read_text()
    finally:
        if process.poll() is None:
            process.kill()
    assert [pid for pid in pids if not _gone(pid)] == []
    assert not _answers(f"http://127.0.0.1:{port}/healthz")
    output = log_path.read_text()
    assert f"instance folder: {tmp_path / 'instance'}" in output
    assert "Traceback" not in output


def test_two_working_directories_get_the_same_database_and_signing_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = tmp_path / "srv" / "tracker"
    monkeypatch.delenv("TRACKER_CONFIG", raising=False)
    monkeypatch.delenv("TRACKER_DATABASE_URL", raising=False)
    monkeypatch.delenv("TRACKER_SECRET_KEY", raising=False)
    monkeypatch.setenv("TRACKER_INSTANCE", str(instance))
    seen = []
    for folder in ("a", "b/c"):
        cwd = tmp_path / folder
        cwd.mkdir(parents=True)
        monkeypatch.chdir(cwd)
        path = config_path()
        ensure_config_file(path)
        settings = load_settings(path)
        seen.append((path, settings.database.url, signing_key(settings)))
    assert seen[0] == seen[1]
    assert seen[0][:2] == (instance / "config.toml", f"sqlite:///{instance}/tracker.db")
    assert sorted(p.name for p in instance.iterdir()) == ["config.toml", "secret_key"]
    assert [p.name for p in (tmp_path / "a").iterdir()] == []


@pytest.mark.slow
def test_commands_from_another_folder_use_the_same_database(tmp_path: Path) -> None:
    config = tmp_path / "etc" / "config.toml"
    config.parent.mkdir()
    config.write_text(EXAMPLE_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()

    def tracker(cwd: Path, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "tracker", "--config", str(config), *args],
            env=_clean_env(),
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert "password:" in tracker(first, "setup")
    assert "password:" not in tracker(second, "setup")  # the same database: an admin exists
    users = json.loads(tracker(second, "users", "list", "--json"))
    assert [u["email"] for u in users] == ["admin@localhost.localdomain"]
    assert (tmp_path / "etc" / "instance" / "tracker.db").is_file()
    assert list(first.iterdir()) == [] and list(second.iterdir()) == []

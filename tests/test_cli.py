from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import TrackerCli


def test_help_lists_the_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tracker", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    for command in ("db", "run", "web", "scheduler", "users", "setup"):
        assert command in result.stdout


def test_usage_error_exits_2(runner: TrackerCli) -> None:
    assert runner("users", "add").exit_code == 2
    assert runner("users", "add", "x@y.se", "--role", "king").exit_code == 2


def test_users_add_generates_a_password_and_lists_as_json(runner: TrackerCli) -> None:
    result = runner("users", "add", "Anna@Norrkoping.test", "--role", "editor")
    assert result.exit_code == 0, result.output
    assert "password: " in result.output
    result = runner("users", "list", "--json")
    rows = json.loads(result.output)
    assert [(r["email"], r["role"]) for r in rows] == [("anna@norrkoping.test", "editor")]


def test_users_add_reads_the_password_from_stdin(runner: TrackerCli) -> None:
    result = runner(
        "users",
        "add",
        "bo@norrkoping.test",
        "--role",
        "admin",
        "--password-stdin",
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    assert "password:" not in result.output


def test_expected_failures_are_one_line_and_exit_1(runner: TrackerCli) -> None:
    runner("users", "add", "eva@norrkoping.test", "--role", "viewer")
    result = runner("users", "add", "eva@norrkoping.test", "--role", "viewer")
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert "Traceback" not in result.output
    result = runner(
        "users", "add", "fia@norrkoping.test", "--role", "viewer", "--office", "nowhere"
    )
    assert result.exit_code == 1
    assert "no office with slug 'nowhere'" in result.output


def test_bad_config_is_one_line_and_exit_1(tmp_path: object) -> None:
    from pathlib import Path

    config = Path(str(tmp_path)) / "bad.toml"
    config.write_text("[mail]\nprot = 1\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "tracker", "--config", str(config), "users", "list"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "unknown key 'prot' in [mail]" in result.stderr
    assert "Traceback" not in result.stderr


def test_setup_creates_one_admin_and_prints_the_password_once(runner: TrackerCli) -> None:
    first = runner("setup")
    assert first.exit_code == 0, first.output
    assert "password:" in first.output
    second = runner("setup")
    assert second.exit_code == 0
    assert "password:" not in second.output
    rows = json.loads(runner("users", "list", "--json").output)
    assert [r["role"] for r in rows] == ["admin"]


def test_unknown_migration_revision_is_one_line_and_exit_1(runner: TrackerCli) -> None:
    result = runner("db", "downgrade", "nosuchrev")
    assert result.exit_code == 1
    assert "Can't locate revision identified by 'nosuchrev'" in result.output
    assert "Traceback" not in result.output

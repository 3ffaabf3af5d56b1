"""The review workspace's command: a user's calendar feed address."""

from __future__ import annotations

import re

from tests.conftest import TrackerCli


def test_cli_prints_the_feed_address(runner: TrackerCli) -> None:
    result = runner("users", "add", "gun@norrkoping.test", "--role", "viewer")
    assert result.exit_code == 0
    result = runner("users", "ical-url", "Gun@Norrkoping.test")
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"http://127\.0\.0\.1:5000/calendar/[\w-]{20,}\.ics\n", result.output)
    missing = runner("users", "ical-url", "nobody@norrkoping.test")
    assert missing.exit_code == 1 and "no user with email" in missing.output

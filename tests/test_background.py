"""Background fetches: one at a time per source, progress readable while it runs."""

from __future__ import annotations

import threading
import time
from typing import Any

from tests.factories import NOW
from tracker.background import BackgroundFetches, FetchProgress
from tracker.clock import FixedClock


def _wait_until(predicate: Any, seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_fetch_runs_in_the_background_and_reports_its_phases() -> None:
    background = BackgroundFetches(FixedClock(NOW))
    release = threading.Event()

    def work(progress: FetchProgress) -> dict[str, Any]:
        progress.phase = "matching"
        release.wait(5)
        return {"new": 3, "error": None}

    started = background.start(7, work)

    assert started is not None
    _wait_until(lambda: started.phase == "matching")
    assert background.progress(7) is started
    assert background.start(7, work) is None  # the same source is not fetched twice at once
    release.set()
    _wait_until(lambda: not started.is_running)
    assert started.phase == "done" and started.result == {"new": 3, "error": None}
    assert started.finished_at == NOW
    assert background.start(7, lambda p: {"error": None}) is not None  # and again afterwards


def test_a_crashing_fetch_is_reported_not_raised() -> None:
    background = BackgroundFetches(FixedClock(NOW), inline=True)

    def work(progress: FetchProgress) -> dict[str, Any]:
        raise RuntimeError("adapter bug")

    progress = background.start(1, work)

    assert progress is not None and progress.phase == "failed"
    assert progress.result["error"] == "RuntimeError: adapter bug"
    assert progress.to_json()["running"] is False

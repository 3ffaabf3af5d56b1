"""Work started from a page that must not wait for it: "fetch now" on the sources page, the
spreadsheet imports (``tracker.imports``) and the account mails.

One thread per source at most; the page asks for the progress (``progress``) until the run is
done. The registry lives in the web process (a second web worker answers "not known here",
and the page then shows what the database says: the source's last run).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tracker.clock import Clock

log = logging.getLogger(__name__)


@dataclass
class FetchProgress:
    """Where one background fetch is: ``phase`` is "fetching", "matching", "done" or
    "failed"; ``result`` holds the counts (or the error) once it is over."""

    source_id: int
    started_at: datetime
    phase: str = "fetching"
    finished_at: datetime | None = None
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def is_running(self) -> bool:
        return self.phase in ("fetching", "matching")

    def to_json(self) -> dict[str, Any]:
        return {
            "source_id": self.source_id,
            "phase": self.phase,
            "running": self.is_running,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "result": self.result,
        }


class BackgroundFetches:
    """Runs at most one fetch per source at a time, each in a daemon thread (or inline, for
    tests whose database lives in one connection)."""

    def __init__(self, clock: Clock, *, inline: bool = False) -> None:
        self._clock = clock
        self._inline = inline
        self._lock = threading.Lock()
        self._runs: dict[int, FetchProgress] = {}

    def progress(self, source_id: int) -> FetchProgress | None:
        with self._lock:
            return self._runs.get(source_id)

    def start(
        self, source_id: int, work: Callable[[FetchProgress], dict[str, Any]]
    ) -> FetchProgress | None:
        """Start ``work`` for ``source_id``; None when a fetch of it is already running.
        ``work`` moves ``progress.phase`` along and returns the result's figures."""
        with self._lock:
            current = self._runs.get(source_id)
            if current is not None and current.is_running:
                return None
            progress = FetchProgress(source_id=source_id, started_at=self._clock())
            self._runs[source_id] = progress
        if self._inline:
            self._run(progress, work)
        else:
            thread = threading.Thread(
                target=self._run, args=(progress, work), name=f"fetch-{source_id}", daemon=True
            )
            thread.start()
        return progress

    def run(self, name: str, work: Callable[[], None]) -> None:
        """Run ``work`` in a daemon thread called ``name`` (inline for tests). ``work`` keeps
        its own record of how it went (a spreadsheet import writes a status file); an error
        it lets through is logged, never raised into the page that started it."""

        def guarded() -> None:
            try:
                work()
            except Exception:
                log.exception("background work %s failed", name)

        if self._inline:
            guarded()
        else:
            threading.Thread(target=guarded, name=name, daemon=True).start()

    def _run(
        self, progress: FetchProgress, work: Callable[[FetchProgress], dict[str, Any]]
    ) -> None:
        try:
            result = work(progress)
            phase = "failed" if result.get("error") else "done"
        except Exception as exc:  # shown on the page; the web process carries on
            log.exception("background fetch of source %d failed", progress.source_id)
            result, phase = {"error": f"{type(exc).__name__}: {exc}"}, "failed"
        with self._lock:
            progress.result = result
            progress.finished_at = self._clock()
            progress.phase = phase

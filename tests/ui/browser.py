"""Shared plumbing for the browser tests: the app served on 127.0.0.1 with a fixed clock, and
Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Engine
from werkzeug.serving import make_server

from tests.conftest import make_settings
from tests.factories import NOW
from tracker.app import create_app
from tracker.clock import FixedClock
from tracker.db import make_session_factory

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TABLET: ViewportSize = {"width": 800, "height": 1100}
LAPTOP: ViewportSize = {"width": 1366, "height": 768}

needs_chromium = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's Chromium (/usr/bin/chromium) is not installed"
    ),
]

# Measures how far a page runs past the window's right edge, in CSS pixels.
SIDEWAYS = "document.documentElement.scrollWidth - window.innerWidth"


class LiveServer:
    def __init__(
        self,
        engine: Engine,
        database_url: str,
        clock: FixedClock | None = None,
        mail: dict[str, Any] | None = None,
    ) -> None:
        app = create_app(
            make_settings(database_url, mail={"base_url": "http://127.0.0.1", **(mail or {})}),
            session_factory=make_session_factory(engine),
            clock=clock or FixedClock(NOW),
        )
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)


def screenshot_dir(name: str) -> Path:
    """Where a test keeps its screenshots: TRACKER_SCREENSHOTS or a fresh temporary folder
    (never inside the repository); the test prints it."""
    base = os.environ.get("TRACKER_SCREENSHOTS")
    folder = Path(base) / name if base else Path(tempfile.mkdtemp(prefix=f"tracker-{name}-"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder

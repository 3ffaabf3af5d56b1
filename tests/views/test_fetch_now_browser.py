""" "Fetch now" in a real browser: the fetch starts at once in the server's background, the row
says how it goes, and the result appears without the user reloading the page."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.conftest import empty_all_tables
from tests.factories import TEST_PASSWORD, make_source, make_user
from tests.feeds.conftest import fixture_bytes
from tests.ui.browser import CHROMIUM, CHROMIUM_ARGS, LiveServer
from tracker.models import Role, SourceKind

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's Chromium (/usr/bin/chromium) is not installed"
    ),
]


class _SlowFeed(BaseHTTPRequestHandler):
    """A feed that takes three seconds to answer, so the page has time to show progress."""

    def do_GET(self) -> None:
        time.sleep(3)
        body = fixture_bytes("feed_atom.xml")
        self.send_response(200)
        self.send_header("Content-Type", "application/atom+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def slow_feed() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowFeed)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/feed.xml"
    server.shutdown()


def test_fetch_now_shows_progress_then_the_result(
    engine: Engine, database_url: str, slow_feed: str
) -> None:
    from playwright.sync_api import expect, sync_playwright

    try:
        with Session(engine) as session:
            make_user(session, role=Role.ADMIN, email="admin@norrkoping.test", language="en")
            make_source(session, SourceKind.RSS, name="Slow feed", url=slow_feed)
            session.commit()
        with LiveServer(engine, database_url) as live, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.set_default_timeout(20_000)
                page.goto(f"{live.url}/admin/sources")
                page.get_by_label("E-post").fill("admin@norrkoping.test")
                page.get_by_label("Lösenord").fill(TEST_PASSWORD)
                page.get_by_role("button", name="Logga in").click()

                page.get_by_role("button", name="Fetch now").click()

                row = page.locator("tr", has_text="Slow feed")
                expect(row.locator(".fetch-progress")).to_contain_text("Fetching now")
                # No reload by the test: the page's script follows the fetch to its end.
                expect(row.locator(".fetch-progress")).to_contain_text(
                    "2 new, 0 changed", timeout=30_000
                )
                expect(row).not_to_contain_text("never")  # the last success is filled in
            finally:
                browser.close()
    finally:
        empty_all_tables(engine)

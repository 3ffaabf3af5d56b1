"""In Chromium, as an admin: a feed item's `javascript:` links run nothing, its images are
never requested, and the Content-Security-Policy refuses script the page did not bring."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tests.conftest import empty_all_tables
from tests.factories import TEST_PASSWORD, make_call, make_user
from tests.ui.browser import CHROMIUM, CHROMIUM_ARGS, LiveServer
from tracker.models import Role, User

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's Chromium (/usr/bin/chromium) is not installed"
    ),
]

PAYLOAD = "window.__pwned = 1; document.title = 'pwned'"


@pytest.fixture()
def hostile(engine: Engine) -> Iterator[dict[str, Any]]:
    try:
        with Session(engine) as session:
            make_user(session, role=Role.ADMIN, email="admin@norrkoping.test")
            call = make_call(
                session,
                title="Script link call",
                url=f"javascript:{PAYLOAD}",
                links=[{"url": f"javascript:{PAYLOAD}", "label": "Guide for applicants"}],
                description_html=(
                    f'<p>Read the <a href="javascript:{PAYLOAD}">rules</a>.</p>'
                    '<img src="http://tracker.attacker.example/pixel.png" alt="pixel">'
                    '<p style="background:url(http://tracker.attacker.example/bg.png)">x</p>'
                ),
            )
            session.commit()
            facts = {"call_id": call.id}
        yield facts
    finally:
        empty_all_tables(engine)


def test_clicking_a_feeds_links_runs_no_script(
    engine: Engine, database_url: str, hostile: dict[str, Any]
) -> None:
    from playwright.sync_api import expect, sync_playwright

    with LiveServer(engine, database_url) as live, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            requested: list[str] = []
            page.on("request", lambda request: requested.append(request.url))
            page.goto(f"{live.url}/login")
            page.get_by_label("E-post").fill("admin@norrkoping.test")
            page.get_by_label("Lösenord").fill(TEST_PASSWORD)
            page.get_by_role("button", name="Logga in").click()
            page.goto(f"{live.url}/calls/{hostile['call_id']}")
            expect(page.get_by_role("heading", level=1)).to_have_text("Script link call")
            title = page.title()

            assert page.locator('a[href^="javascript:" i], a[href^="data:" i]').count() == 0
            # the label of the script link stays as text; the description's link text too
            expect(page.get_by_text("Guide for applicants")).to_be_visible()
            page.get_by_text("rules").click()
            page.wait_for_timeout(300)
            assert page.evaluate("window.__pwned") is None
            assert page.title() == title

            # Script the page did not bring from /static is refused by the CSP.
            page.evaluate(
                "document.body.appendChild(Object.assign(document.createElement('script'),"
                " {textContent: 'window.__inline = 1'}))"
            )
            page.wait_for_timeout(200)
            assert page.evaluate("window.__inline") is None
            assert not any("attacker.example" in url for url in requested)
        finally:
            browser.close()
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1

"""Every main page on a tablet (800 px) and a laptop (1366 px): nothing runs past the right
edge, and the two things an officer comes for are on the first screen: the inbox's first
call and the call page's decision form."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.conftest import empty_all_tables
from tests.factories import TEST_PASSWORD
from tests.ui.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LAPTOP,
    SIDEWAYS,
    TABLET,
    LiveServer,
    needs_chromium,
    screenshot_dir,
)
from tests.ui.world import World, main_pages, populate

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

pytestmark = needs_chromium


@pytest.fixture()
def world(engine: Engine) -> Iterator[World]:
    try:
        with Session(engine) as session:
            facts = populate(session)
            session.commit()
        yield facts
    finally:
        empty_all_tables(engine)


@pytest.mark.parametrize("viewport", [TABLET, LAPTOP], ids=["800px", "1366px"])
def test_no_page_scrolls_sideways_and_the_work_is_on_the_first_screen(
    engine: Engine, database_url: str, world: World, viewport: ViewportSize
) -> None:
    from playwright.sync_api import sync_playwright

    shots = screenshot_dir(f"layout-{viewport['width']}")
    print(f"screenshots in {shots}")
    with LiveServer(engine, database_url) as live, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=viewport)
            page.set_default_timeout(15_000)
            page.goto(f"{live.url}/login")
            page.get_by_label("E-post").fill("ada@norrkoping.test")
            page.get_by_label("Lösenord").fill(TEST_PASSWORD)
            page.get_by_role("button", name="Logga in").click()
            page.wait_for_load_state()

            sideways = {}
            for path in main_pages(world):
                response = page.goto(f"{live.url}{path}")
                assert response is not None and response.status == 200, path
                name = path.strip("/").replace("/", "_").replace("?", "_") or "start"
                page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
                overflow = page.evaluate(SIDEWAYS)
                if overflow > 0:
                    sideways[path] = overflow
            assert sideways == {}, f"pages wider than {viewport['width']} px: {sideways}"

            # The menu: at most seven entries on top.
            page.goto(f"{live.url}/calls")
            top = page.locator("header nav > ul > li")
            assert top.count() <= 7

            # The inbox's first call is on the first screen.
            row_top = page.locator("table.inbox tbody tr").first.bounding_box()
            assert row_top is not None
            print(f"{viewport['width']} px: first inbox row at {row_top['y']:.0f} px")
            assert row_top["y"] + 40 < viewport["height"]

            # The call page's decision form too, its button included.
            page.goto(f"{live.url}/calls/{world.call_ids[0]}")
            button = page.get_by_role("button", name="Spara beslut").bounding_box()
            height = page.evaluate("document.documentElement.scrollHeight")
            assert button is not None
            print(f"{viewport['width']} px: decision button at {button['y']:.0f} px of {height}")
            assert button["y"] + button["height"] < viewport["height"]
        finally:
            browser.close()

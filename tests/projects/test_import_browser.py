"""The documented 5,000-row project import in a real browser: the page answers at once, shows
the rows done out of all while the server works in the background, then the result, without
the user reloading anything."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tests.conftest import empty_all_tables
from tests.factories import TEST_PASSWORD, make_office, make_user
from tests.factories.spreadsheets import OFFICES, project_xlsx
from tests.ui.browser import CHROMIUM, CHROMIUM_ARGS, LiveServer
from tracker.models import Project, Role

if TYPE_CHECKING:
    from playwright.sync_api import FilePayload

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's Chromium (/usr/bin/chromium) is not installed"
    ),
]


def test_a_large_import_shows_its_progress_then_the_result(
    engine: Engine, database_url: str
) -> None:
    from playwright.sync_api import expect, sync_playwright

    sheet = project_xlsx(5000)
    try:
        with Session(engine) as session:
            make_user(session, role=Role.EDITOR, email="editor@norrkoping.test", language="en")
            for slug in OFFICES:
                make_office(session, slug=slug)
            session.commit()
        with LiveServer(engine, database_url) as live, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.set_default_timeout(20_000)
                page.goto(f"{live.url}/projects/import")
                page.get_by_label("E-post").fill("editor@norrkoping.test")
                page.get_by_label("Lösenord").fill(TEST_PASSWORD)
                page.get_by_role("button", name="Logga in").click()
                upload: FilePayload = {"name": "projects.xlsx", "mimeType": XLSX, "buffer": sheet}
                page.get_by_label("File (.csv or .xlsx)").set_input_files(upload)

                started = time.monotonic()
                page.get_by_role("button", name="Import", exact=True).click()
                progress = page.locator(".import-progress")
                expect(progress).to_contain_text("Importing projects.xlsx")
                answered = time.monotonic() - started
                # The page's script follows the import: rows done out of the 5,000.
                expect(progress).to_contain_text(re.compile(r"[0-9]+ of 5000"), timeout=60_000)
                result = page.locator("section", has_text="Imported")
                expect(result.locator("dd").first).to_have_text("5000", timeout=120_000)
                assert answered < 10, f"the upload page took {answered:.1f} s to answer"
            finally:
                browser.close()
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(Project)) == 5000
    finally:
        empty_all_tables(engine)

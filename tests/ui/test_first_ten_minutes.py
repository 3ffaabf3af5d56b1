"""An officer's first ten minutes, in Debian's Chromium at 1366 and 800 px, in Swedish and in
English: an admin invites her, she chooses a password from the mail's link, looks at the start
page, searches, opens a call, decides on it with a reason, assigns a colleague and mentions
her; the colleague signs in and finds it; then the calendar and the export. Every page is
photographed, and the test fails on a page that scrolls sideways or shows a string of the
other language."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.conftest import empty_all_tables
from tests.digests.conftest import SmtpServer, smtp  # noqa: F401 (the SMTP server fixture)
from tests.factories import TEST_PASSWORD
from tests.test_translations import foreign_strings
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
from tests.ui.world import World, populate
from tracker.models import CallReview, FundingCall, Mention, TriageState, User

if TYPE_CHECKING:
    from playwright.sync_api import Page, ViewportSize

pytestmark = needs_chromium

# Search that understands Swedish (issue 14, item 3) is another branch's work. Until it is
# merged, a Swedish query that finds nothing is noted and the tour goes on with the English
# words; set this to True when it lands, and the Swedish query must find the call itself.
SWEDISH_SEARCH_READY = True

NEW_PASSWORD = "a long password for nora"
LINK = re.compile(r"(/account/set-password/[A-Za-z0-9_.\-]+)")
WORDS = {
    "sv": {
        "sign_in": "Logga in",
        "sign_out": "Logga ut",
        "invite": "Skicka inbjudan",
        "save_password": "Spara lösenordet",
        "show": "Visa utlysningar",
        "save_decision": "Spara beslut",
        "save_assignment": "Spara tilldelning",
        "comment": "Lägg till kommentar",
        "query": "klimatanpassning",
    },
    "en": {
        "sign_in": "Sign in",
        "sign_out": "Sign out",
        "invite": "Send the invitation",
        "save_password": "Save the password",
        "show": "Show calls",
        "save_decision": "Save decision",
        "save_assignment": "Save assignment",
        "comment": "Add comment",
        "query": "climate adaptation",
    },
}


@pytest.fixture()
def world(engine: Engine) -> Iterator[World]:
    try:
        with Session(engine) as session:
            facts = populate(session)
            session.commit()
        yield facts
    finally:
        empty_all_tables(engine)


def mail_link(server: SmtpServer, address: str) -> str:
    deadline = time.monotonic() + 10
    while not server.handler.to(address) and time.monotonic() < deadline:
        time.sleep(0.05)
    (received,) = server.handler.to(address)
    message: EmailMessage = received.message
    body = message.get_body(("plain",))
    assert body is not None
    found = LINK.search(body.get_content())
    assert found, body.get_content()
    return found.group(1)


class Tour:
    """Visits pages, photographs each, and checks that none scrolls sideways or speaks the
    other language."""

    def __init__(self, page: Page, base: str, language: str, shots: Path) -> None:
        self.page = page
        self.base = base
        self.language = language
        self.shots = shots
        self.foreign = foreign_strings()[language]
        self.steps = 0
        self.problems: list[str] = []

    def check(self, name: str) -> None:
        from tests.test_translations import page_text

        self.page.wait_for_load_state()
        self.steps += 1
        self.page.screenshot(path=str(self.shots / f"{self.steps:02d}-{name}.png"), full_page=True)
        overflow = self.page.evaluate(SIDEWAYS)
        if overflow > 0:
            self.problems.append(f"{name}: {overflow} px wider than the window")
        text = page_text(self.page.content())
        hits = sorted(s for s in self.foreign if s in text)
        if hits:
            self.problems.append(f"{name}: strings of the other language {hits}")

    def go(self, path: str, name: str) -> None:
        self.page.goto(f"{self.base}{path}")
        self.check(name)

    def sign_in(self, email: str, password: str) -> None:
        self.page.goto(f"{self.base}/login")
        self.page.locator("#email").fill(email)
        self.page.locator("#password").fill(password)
        self.page.locator("form button[type=submit].primary").click()
        self.page.wait_for_load_state()

    def sign_out(self) -> None:
        self.page.get_by_role("button", name=WORDS[self.language]["sign_out"]).click()
        self.page.wait_for_load_state()


@pytest.mark.parametrize("language", ["sv", "en"])
@pytest.mark.parametrize("viewport", [LAPTOP, TABLET], ids=["1366px", "800px"])
def test_an_officers_first_ten_minutes(
    engine: Engine,
    database_url: str,
    world: World,
    smtp: SmtpServer,  # noqa: F811
    language: str,
    viewport: ViewportSize,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    words = WORDS[language]
    with Session(engine) as session:
        for user in session.scalars(select(User)):
            user.language = language
        session.commit()
    shots = screenshot_dir(f"first-ten-minutes-{language}-{viewport['width']}")
    print(f"screenshots in {shots}")
    mail = {"host": "127.0.0.1", "port": smtp.port, "sender": "tracker@norrkoping.test"}
    with LiveServer(engine, database_url, mail=mail) as live, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=viewport, accept_downloads=True)
            page.set_default_timeout(15_000)
            tour = Tour(page, live.url, language, shots)

            # The admin invites the new officer.
            tour.sign_in("ada@norrkoping.test", TEST_PASSWORD)
            tour.go("/admin/users", "admin-users")
            page.locator("#i-email").fill("nora@norrkoping.test")
            page.locator("#i-display_name").fill("Nora Berg")
            page.locator("#i-role").select_option("editor")
            page.locator("#i-language").select_option(language)
            page.get_by_role("button", name=words["invite"]).click()
            tour.check("invited")
            tour.sign_out()

            # She opens the link from the mail and chooses her password: she is signed in.
            tour.go(mail_link(smtp, "nora@norrkoping.test"), "set-password")
            page.locator("input[name=password]").fill(NEW_PASSWORD)
            page.locator("input[name=password_again]").fill(NEW_PASSWORD)
            page.get_by_role("button", name=words["save_password"]).click()
            tour.check("start-page")
            expect(page.locator(".user")).to_contain_text("Nora Berg")

            # A search in her language finds the call about climate adaptation.
            tour.go("/calls", "inbox")
            panel = page.locator("#filter-panel")
            if panel.get_attribute("open") is None:
                panel.locator("summary").click()
            page.locator("#f-q").fill(words["query"])
            page.get_by_role("button", name=words["show"]).click()
            tour.check("search")
            rows = page.locator("table.inbox tbody tr")
            if language == "sv" and not SWEDISH_SEARCH_READY and rows.count() == 0:
                print(f"NOT YET: the Swedish query {words['query']!r} finds no English call")
                page.goto(f"{live.url}/calls?q=climate+adaptation")
                tour.check("search-in-english")
            expect(rows.first).to_contain_text("climate adaptation")

            # She opens it: the decision form is on the first screen.
            rows.first.locator("td.call > a").click()
            tour.check("call")
            button = page.get_by_role("button", name=words["save_decision"]).bounding_box()
            assert button is not None and button["y"] + button["height"] < viewport["height"]
            call_path = page.url.removeprefix(live.url)
            page.locator("#f-state").select_option("interested")
            page.locator("#f-note").fill("Town twinning fits our Riga partnership")
            page.get_by_role("button", name=words["save_decision"]).click()
            tour.check("decided")

            # She assigns her colleague and mentions her in a comment.
            page.locator("#f-assignee").select_option(str(world.colleague_id))
            page.get_by_role("button", name=words["save_assignment"]).click()
            tour.check("assigned")
            page.locator("#f-body").fill("@kim could you take this one? Deadline in a month.")
            page.get_by_role("button", name=words["comment"]).click()
            tour.check("commented")
            expect(page.locator(".comment")).to_contain_text("Kim Lund")
            tour.sign_out()

            # The colleague signs in and finds the call she was given.
            tour.sign_in("kim@norrkoping.test", TEST_PASSWORD)
            tour.check("colleague-start-page")
            title = page_title_of(engine, call_path)
            start = page.locator("main").inner_text()
            assert title in start, "the assigned call is not on her start page"
            tour.go(call_path, "colleague-call")
            expect(page.locator(".comment")).to_contain_text("@kim")

            # The calendar shows its deadline (the call is of interest to the office).
            month = deadline_month(engine, call_path)
            tour.go(f"/calendar?month={month}", "calendar")
            expect(
                page.locator("table.month").get_by_role(
                    "link", name=re.compile(re.escape(title[:30]))
                )
            ).to_be_visible()

            # The export holds the call with its decision and assignee.
            tour.go("/calls", "inbox-before-export")
            with page.expect_download() as download_info:
                page.locator(".exports a", has_text="CSV").first.click()
            target = tmp_path / download_info.value.suggested_filename
            download_info.value.save_as(target)
            text = target.read_text(encoding="utf-8-sig")
            # Swedish Excel's semicolons in the Swedish interface, commas in the English one.
            delimiter = ";" if language == "sv" else ","
            table = list(csv.reader(io.StringIO(text), delimiter=delimiter))
            exported = next(r for r in table[1:] if r[2] == title)
            assert "Kim Lund" in exported

            assert tour.problems == [], "\n".join(tour.problems)
        finally:
            browser.close()

    with Session(engine) as session:
        call_id = int(call_path.rsplit("/", 1)[1])
        review = session.scalars(select(CallReview).where(CallReview.call_id == call_id)).one()
        assert review.state is TriageState.INTERESTED
        assert review.assignee_id == world.colleague_id
        assert session.scalars(select(Mention.user_id)).all() == [world.colleague_id]


def page_title_of(engine: Engine, call_path: str) -> str:
    with Session(engine) as session:
        call = session.get(FundingCall, int(call_path.rsplit("/", 1)[1]))
        assert call is not None
        return call.title


def deadline_month(engine: Engine, call_path: str) -> str:
    with Session(engine) as session:
        call = session.get(FundingCall, int(call_path.rsplit("/", 1)[1]))
        assert call is not None and call.deadlines
        return call.deadlines[0].deadline_at.strftime("%Y-%m")

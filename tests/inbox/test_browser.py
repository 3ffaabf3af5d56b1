"""An officer's day in a real browser: Debian's Chromium, driven by Playwright, against the app
served on 127.0.0.1 by werkzeug from a database whose data is committed (the test database,
emptied afterwards)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.conftest import empty_all_tables
from tests.factories import NOW, TEST_PASSWORD, make_office, make_profile, make_user
from tests.factories.inbox import evidence_for, make_matched_call
from tests.ui.browser import CHROMIUM, CHROMIUM_ARGS, LiveServer
from tracker.models import Comment, Mention, Role, TriageEvent, User, Watch

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's Chromium (/usr/bin/chromium) is not installed"
    ),
]

STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture()
def world(engine: Engine) -> Iterator[dict[str, Any]]:
    """Committed data: a profile, an office, an editor and colleagues, matched calls."""
    now = NOW
    deadline = (now + timedelta(days=40)).astimezone(STOCKHOLM).replace(hour=17, minute=0, second=0)
    try:
        with Session(engine) as session:
            make_profile(session)
            office = make_office(session, slug="kultur", name_sv="Kultur- och fritidskontoret")
            editor = make_user(
                session, role=Role.EDITOR, email="eva@norrkoping.test", display_name="Eva Ek"
            )
            colleague = make_user(
                session,
                role=Role.EDITOR,
                email="kim@norrkoping.test",
                display_name="Kim Lund",
                office=office,
            )
            festival = make_matched_call(
                session,
                {"culture-music": 88, "education": 55},
                title="Musikfestivaler i Europas städer",
                deadlines=[deadline.astimezone(UTC)],
                evidence={
                    "culture-music": evidence_for(
                        "music festival", "support for music festivals in European cities"
                    )
                },
                now=now,
            )
            for n in range(3):
                make_matched_call(
                    session,
                    {"culture-music": 60 + n},
                    title=f"Kulturarv {n}",
                    deadlines=[now + timedelta(days=10 + n)],
                    now=now,
                )
            make_matched_call(
                session,
                {"education": 75},
                title="Skolor utomlands",
                deadlines=[now + timedelta(days=20)],
                now=now,
            )
            session.commit()
            facts = {
                "festival_id": festival.id,
                "editor_id": editor.id,
                "colleague_id": colleague.id,
                "deadline": deadline,
            }
        yield facts
    finally:
        empty_all_tables(engine)


def test_an_officer_triages_a_call_and_finds_it_again(
    engine: Engine, database_url: str, world: dict[str, Any], tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    with LiveServer(engine, database_url) as live, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(accept_downloads=True, viewport={"width": 1280, "height": 900})
            page.set_default_timeout(15_000)

            # Sign in with the form (Swedish by default).
            page.goto(f"{live.url}/calls")
            page.get_by_label("E-post").fill("eva@norrkoping.test")
            page.get_by_label("Lösenord").fill(TEST_PASSWORD)
            page.get_by_role("button", name="Logga in").click()
            expect(page.get_by_role("heading", name="Inkorg", exact=True)).to_be_visible()

            # Keyboard: the first Tab reaches the skip link, and it shows where focus is.
            page.keyboard.press("Tab")
            focused = page.evaluate("document.activeElement.className")
            assert focused == "skip-link"

            # Filter: the area and a word; the address keeps the filter.
            page.get_by_label("Fokusområde", exact=True).select_option(
                label="Kultur, kreativitet och musik"
            )
            page.get_by_label("Sök (svenska eller engelska)").fill("festival")
            page.get_by_role("button", name="Visa utlysningar").click()
            expect(page).to_have_url(re.compile(r"area=culture-music.*q=festival"))
            rows = page.locator("table.inbox tbody tr")
            expect(rows).to_have_count(1)
            expect(page.locator("#result-count")).to_have_text("1 utlysning")

            # Open the call: evidence with the words marked.
            page.get_by_role("link", name="Musikfestivaler i Europas städer").click()
            expect(page.get_by_role("heading", level=1)).to_have_text(
                "Musikfestivaler i Europas städer"
            )
            expect(page.locator("mark").first).to_have_text("music")

            # Dismissing needs a reason: the browser asks for one before sending (the server
            # refuses it too, see test_review_pages); then with one.
            reason = page.get_by_label("Skäl (när utlysningen avfärdas)")
            expect(reason).to_be_disabled()
            page.get_by_label("Nytt läge", exact=True).select_option("dismissed")
            expect(reason).to_be_enabled()
            page.get_by_role("button", name="Spara beslut").click()
            assert page.evaluate("document.getElementById('f-reason').validity.valueMissing")
            expect(page.get_by_text("Inget beslut än.")).to_be_visible()
            page.get_by_label("Skäl (när utlysningen avfärdas)").select_option("no_capacity")
            page.get_by_label("Anteckning om beslutet").fill("Ingen kan skriva ansökan i år")
            page.get_by_role("button", name="Spara beslut").click()
            expect(page.locator(".flash")).to_contain_text("Utlysningen är nu: Avfärdad.")
            expect(page.locator(".timeline")).to_contain_text("från Ny till Avfärdad")

            # Assign it to a colleague; their office comes with them.
            page.get_by_label("Person", exact=True).select_option(
                label="Kim Lund (Kultur- och fritidskontoret)"
            )
            page.get_by_role("button", name="Spara tilldelning").click()
            expect(page.locator(".timeline")).to_contain_text(
                "tilldelad Kim Lund, Kultur- och fritidskontoret"
            )

            # Comment and mention the colleague.
            page.get_by_label("Din kommentar").fill("@kim kan du titta på nästa omgång?")
            page.get_by_role("button", name="Lägg till kommentar").click()
            expect(page.locator(".comment")).to_contain_text("Nämnda: Kim Lund")

            # Watch it and find the deadline in the calendar.
            page.get_by_role("button", name="Bevaka utlysningen").click()
            expect(page.get_by_role("button", name="Sluta bevaka")).to_be_visible()
            month = world["deadline"].strftime("%Y-%m")
            page.goto(f"{live.url}/calendar?month={month}")
            entry = page.locator("table.month").get_by_role(
                "link", name=re.compile("Musikfestivaler i Europas städer")
            )
            expect(entry).to_be_visible()
            expect(entry).to_contain_text("17:00")
            day = page.locator(
                "table.month td",
                has=page.get_by_role("link", name=re.compile("Musikfestivaler i Europas städer")),
            ).locator(".day-number")
            expect(day).to_contain_text(str(world["deadline"].day))

            # The inbox with every state; the CSV holds exactly its rows.
            page.goto(f"{live.url}/calls?state=all")
            shown = page.locator("table.inbox td.call > a").evaluate_all(
                "links => links.map(a => a.getAttribute('href'))"
            )
            assert len(shown) == 5
            with page.expect_download() as download_info:
                page.get_by_role("link", name="CSV", exact=True).click()
            download = download_info.value
            target = tmp_path / download.suggested_filename
            download.save_as(target)
            # Swedish Excel's separator, for the Swedish interface.
            text = target.read_text(encoding="utf-8-sig")
            table = list(csv.reader(io.StringIO(text), delimiter=";"))
            assert table[0][:3] == ["Utlysningssida", "Id", "Titel"]
            assert [row[0].removeprefix(live.url) for row in table[1:]] == shown
            festival = next(r for r in table[1:] if r[2] == "Musikfestivaler i Europas städer")
            assert festival[9:13] == [
                "Avfärdad",
                "Ingen kapacitet",
                "Kultur- och fritidskontoret",
                "Kim Lund",
            ]

            # A tablet: the inbox fits the screen's width.
            page.set_viewport_size({"width": 768, "height": 1024})
            page.goto(f"{live.url}/calls")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0
        finally:
            browser.close()

    with Session(engine) as session:
        events = session.scalars(
            select(TriageEvent).where(TriageEvent.call_id == world["festival_id"])
        ).all()
        assert [e.kind for e in events] == ["state", "assignment"]
        assert events[0].reason == "no_capacity" and events[0].actor_id == world["editor_id"]
        comment = session.scalars(select(Comment)).one()
        mention = session.scalars(select(Mention)).one()
        assert mention.comment_id == comment.id and mention.user_id == world["colleague_id"]
        assert session.scalars(select(Watch.call_id)).all() == [world["festival_id"]]
        assert session.get(User, world["editor_id"]) is not None

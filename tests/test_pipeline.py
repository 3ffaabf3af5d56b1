"""One pipeline, fetch -> store -> match -> inbox: a focus-area edit, a call typed in on the
sources page and a ``tracker calls import`` show in the inbox and in the digest preview at
once, without waiting for the matching job."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.conftest import TrackerCli
from tests.factories import NOW, login, make_call, make_user
from tests.factories.digests import make_subscription
from tests.factories.inbox import area
from tracker.models import CallMatch, FundingCall, InboxEntry, Role, StrategyProfile
from tracker.services.inbox import refresh_inbox_entries
from tracker.services.strategy import ensure_default_profile, match_calls

HEATING = "Local heating and cooling plans for municipalities"
HEATING_TEXT = (
    "Local authorities prepare heating and cooling plans and improve the energy efficiency "
    "of buildings with citizens."
)
ENERGY = "Energy and environment"


def _area_count(inbox: str, name: str) -> int:
    found = re.search(re.escape(name) + r' <span class="count">(\d+)</span>', inbox)
    assert found, name
    return int(found.group(1))


def test_after_a_focus_area_edit_the_inbox_and_digest_preview_are_up_to_date(
    client: FlaskClient, session: Session, csrf: str
) -> None:
    ensure_default_profile(session, now=NOW)
    heating = make_call(session, title=HEATING, description_text=HEATING_TEXT)
    match_calls(session, [heating.id], now=NOW)
    # A call matched while it was open, closed since: the inbox still lists it as closed.
    closed = make_call(session, title="Closed heating plans", deadlines=[NOW - timedelta(days=3)])
    session.add(
        CallMatch(
            call_id=closed.id,
            focus_area_id=area(session, "energy-environment").id,
            score=70,
            is_match=True,
            evidence=[],
            matched_at=NOW - timedelta(days=20),
        )
    )
    session.flush()
    refresh_inbox_entries(session, [closed.id], now=NOW)
    admin = make_user(session, role=Role.ADMIN, language="en")
    subscription = make_subscription(session, admin)
    login(client, admin)
    assert _area_count(client.get("/calls").get_data(as_text=True), ENERGY) == 1
    assert _area_count(client.get("/calls?status=all").get_data(as_text=True), ENERGY) == 2

    # Editing another area makes a new version of the whole profile.
    response = client.post(
        "/strategy/areas/culture-music/edit",
        data={
            "csrf_token": csrf,
            "slug": "culture-music",
            "name_sv": "Kultur och musik",
            "name_en": "Culture and music",
            "threshold": "65",
            "terms": "3 en music\n2 sv musik",
            "negative_terms": "",
            "programme_priors": "",
        },
    )

    assert response.status_code == 302
    active = session.scalar(select(StrategyProfile).where(StrategyProfile.is_active.is_(True)))
    assert active is not None and active.version == 2
    inbox = client.get("/calls").get_data(as_text=True)
    assert _area_count(inbox, ENERGY) == 1
    assert HEATING in inbox
    assert _area_count(client.get("/calls?status=all").get_data(as_text=True), ENERGY) == 2
    preview = client.get(f"/admin/digests/{subscription.id}/preview").get_data(as_text=True)
    assert HEATING in preview


def test_a_call_typed_in_on_the_sources_page_is_in_the_inbox_when_the_page_returns(
    client: FlaskClient, session: Session, csrf: str
) -> None:
    ensure_default_profile(session, now=NOW)
    editor = make_user(session, role=Role.EDITOR, language="en")
    login(client, editor)

    response = client.post(
        "/admin/manual-calls",
        data={
            "action": "add",
            "title": HEATING,
            "summary": HEATING_TEXT,
            "programme": "LIFE",
            "deadlines": "2027-03-15",
            "language": "en",
            "csrf_token": csrf,
        },
    )

    assert response.status_code == 302
    call = session.scalars(select(FundingCall).where(FundingCall.title == HEATING)).one()
    assert call.matched_at is not None
    assert session.scalar(select(InboxEntry.call_id).where(InboxEntry.call_id == call.id))
    inbox = client.get("/calls").get_data(as_text=True)
    assert HEATING in inbox and _area_count(inbox, ENERGY) == 1
    subscription = make_subscription(session, editor)
    admin = make_user(session, role=Role.ADMIN, language="en")
    login(client, admin)
    preview = client.get(f"/admin/digests/{subscription.id}/preview").get_data(as_text=True)
    assert HEATING in preview


def test_calls_import_puts_the_calls_in_the_inbox_and_the_digest_preview(
    runner: TrackerCli, engine: Engine, tmp_path: Path
) -> None:
    assert runner("users", "add", "anna@norrkoping.test", "--role", "editor").exit_code == 0
    assert runner("digest", "subscribe", "anna@norrkoping.test", "--language", "en").exit_code == 0
    before = runner("digest", "preview", "anna@norrkoping.test").output
    assert HEATING not in before
    runner.clock.advance(timedelta(minutes=5))
    sheet = tmp_path / "calls.csv"
    sheet.write_text(
        f'title,summary,programme,deadlines,language\n"{HEATING}","{HEATING_TEXT}",LIFE,'
        "2027-03-15,en\n",
        encoding="utf-8",
    )

    result = runner("calls", "import", str(sheet))

    assert result.exit_code == 0, result.output
    assert "imported 1 of 1 rows: 1 new" in result.output
    with Session(engine) as session:
        call = session.scalars(select(FundingCall).where(FundingCall.title == HEATING)).one()
        assert session.scalar(select(InboxEntry.call_id).where(InboxEntry.call_id == call.id))
    after = runner("digest", "preview", "anna@norrkoping.test").output
    assert HEATING in after

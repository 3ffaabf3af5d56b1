"""The call page for deciding: the facts to decide on at the top, the description once,
earlier editions of the same call series only."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.factories import NOW, login, make_call, make_profile, make_source, make_user
from tests.factories.inbox import in_days, make_matched_call
from tracker.models import CallSourceLink, Role, SourceKind, User
from tracker.services.inbox.call_page import call_descriptions, earlier_editions, series_key

LONG = (
    "Municipalities twin with towns in other member states to exchange how cities adapt to "
    "climate change and involve citizens."
)


@pytest.fixture()
def editor(client: FlaskClient, session: Session) -> User:
    make_profile(session)
    user = make_user(session, role=Role.EDITOR)
    login(client, user)
    return user


def link(session: Session, call_id: int, name: str, record: dict[str, str]) -> None:
    source = make_source(session, SourceKind.RSS, name=name)
    session.add(
        CallSourceLink(
            call_id=call_id,
            source_id=source.id,
            external_id=f"{name}-1",
            content_hash="x",
            record=record,
            first_seen_at=NOW,
            updated_at=NOW,
        )
    )
    session.flush()


def test_the_description_is_shown_once_and_other_texts_are_folded(session: Session) -> None:
    call = make_call(
        session, description_html=f"<p>{LONG}</p>", description_text=LONG, summary=LONG[:40]
    )
    link(session, call.id, "Portal", {"description_html": f"<p>{LONG}</p>"})
    link(session, call.id, "Agency feed", {"summary_html": "<p>Town twinning, 2027 round.</p>"})
    found = call_descriptions(session, call)
    assert found.main is not None and found.main.text == LONG
    assert [(o.source, o.text) for o in found.others] == [
        ("Agency feed", "Town twinning, 2027 round.")
    ]


def test_series_key_drops_the_year_only() -> None:
    assert series_key("CERV-2024-CITIZENS-TOWN-TT") == series_key("cerv-2026-citizens-town-tt")
    assert series_key("CERV-2024-CITIZENS-TOWN-TT") != series_key("CERV-2024-CITIZENS-NET")
    assert series_key("NETZEROCITIES-PILOT") is None


def test_earlier_editions_are_past_calls_of_the_same_series(session: Session) -> None:
    call = make_call(session, identifier="CERV-2026-CITIZENS-TOWN-TT", deadlines=[in_days(30)])
    old = make_call(
        session, identifier="CERV-2024-CITIZENS-TOWN-TT", deadlines=[NOW - timedelta(days=500)]
    )
    older = make_call(
        session, identifier="CERV-2023-CITIZENS-TOWN-TT", deadlines=[NOW - timedelta(days=900)]
    )
    make_call(session, identifier="CERV-2027-CITIZENS-TOWN-TT", deadlines=[in_days(400)])
    make_call(session, identifier="CERV-2024-CITIZENS-NET", deadlines=[NOW - timedelta(days=90)])
    make_call(session, identifier="ERC-2024-STG", deadlines=[NOW - timedelta(days=90)])
    assert earlier_editions(session, call, now=NOW) == [old, older]


@pytest.mark.usefixtures("editor")
def test_the_top_of_the_call_page_holds_what_a_decision_needs(
    client: FlaskClient, session: Session
) -> None:
    call = make_matched_call(
        session,
        {"culture-music": 91.6, "education": 62},
        eligible_applicants="Local and regional authorities",
        budget_total_eur=Decimal("4000000"),
        budget_max_eur=Decimal("60000"),
        cofinancing_rate=Decimal("90"),
        deadlines=[in_days(12)],
        organiser="Culture Helps",
        parent_identifier="CREA-CULT-2025-COOP-UA",
        identifier=None,
    )
    page = client.get(f"/calls/{call.id}").get_data(as_text=True)
    top = page[: page.index('id="decision-heading"')]
    for text in (
        "om 12 dagar",
        "Local and regional authorities",
        "4\xa0000\xa0000 EUR",
        "60\xa0000 EUR",
        "90 % finansieras",
        "EU-projektet Culture Helps",
        "Stark matchning",
        "Möjlig matchning",
    ):
        assert text in top, text
    assert "92" in top and "91.6" not in page
    assert "Id –" not in page and "CREA-CULT-2025-COOP-UA" in page

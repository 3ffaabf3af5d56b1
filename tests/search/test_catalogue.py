"""The catalogue of every stored call: matched or not, gated with the reason, typed in by
staff, filterable and searchable."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from tests.factories import NOW, login, make_call, make_profile, make_source, make_user
from tests.factories.inbox import make_matched_call
from tracker.models import CallDeadline, CallSourceLink, FundingCall, Role, SourceKind
from tracker.services.catalogue import CatalogueFilters, catalogue_options, catalogue_page
from tracker.services.inbox import refresh_inbox_entries


@pytest.fixture
def calls(session: Session) -> None:
    make_profile(session)
    make_matched_call(session, {"education": 70}, title="Matched school call")
    make_call(session, title="Unmatched industry call")
    make_call(
        session,
        title="Gated Interreg call",
        gate_code="region",
        gate_reason="The programme area does not include Östergötland.",
    )
    make_call(session, title="Closed call", deadlines=[NOW - timedelta(days=3)])
    make_call(session, title="Withdrawn call", is_withdrawn=True)
    make_call(
        session,
        title="Forthcoming call",
        opens_at=NOW + timedelta(days=20),
        deadlines=[NOW + timedelta(days=60)],
    )
    manual = make_source(session, kind=SourceKind.MANUAL, name="Typed in")
    typed = make_call(
        session,
        title="Call typed in by hand",
        programme_code="SKOLVERKET",
        programme_label="Skolverket",
    )
    session.add(
        CallSourceLink(
            call_id=typed.id,
            source_id=manual.id,
            external_id="row-1",
            content_hash="x",
            first_seen_at=NOW,
            updated_at=NOW,
        )
    )
    session.flush()


def shown(session: Session, **filters: Any) -> set[str]:
    page = catalogue_page(session, CatalogueFilters(**filters), now=NOW)
    return {row.title for row in page.rows}


@pytest.mark.usefixtures("calls")
def test_every_stored_call_is_listed_and_filtered(session: Session) -> None:
    assert len(shown(session)) == 7
    assert shown(session, gate="gated") == {"Gated Interreg call"}
    assert shown(session, gate="region") == {"Gated Interreg call"}
    assert "Gated Interreg call" not in shown(session, gate="none")
    assert shown(session, status="closed") == {"Closed call"}
    assert shown(session, status="withdrawn") == {"Withdrawn call"}
    assert shown(session, status="forthcoming") == {"Forthcoming call"}
    assert "Closed call" not in shown(session, status="open")
    assert shown(session, source="Typed in") == {"Call typed in by hand"}
    assert shown(session, programme="SKOLVERKET") == {"Call typed in by hand"}
    assert shown(session, q="hand") == {"Call typed in by hand"}


@pytest.mark.usefixtures("calls")
def test_the_catalogue_page(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session, role=Role.VIEWER))
    html = client.get("/catalogue").get_data(as_text=True)
    assert "Alla utlysningar" in html  # in the menu and as the heading
    assert 'href="/catalogue"' in html
    assert "Unmatched industry call" in html and "Matched school call" in html
    assert "does not include Östergötland" in html and "<code>region</code>" in html
    assert "inskriven" in html  # typed in by staff
    html = client.get("/catalogue?q=skolor").get_data(as_text=True)
    assert "Matched school call" in html and "Unmatched industry call" not in html
    response = client.get("/catalogue?source=nowhere")
    assert response.status_code == 400
    assert "Unmatched industry call" in response.get_data(as_text=True)
    # Empty fields are dropped from the address.
    assert client.get("/catalogue?q=&status=").status_code == 302


def test_the_catalogue_pages_through_many_calls(client: FlaskClient, session: Session) -> None:
    for n in range(30):
        make_call(session, title=f"Numbered call {n:02d}")
    page = catalogue_page(session, CatalogueFilters(page=2), now=NOW)
    assert page.total == 30 and page.page_count == 2 and len(page.rows) == 5
    # Newest first: the first five stored are on the second page.
    assert {row.title for row in page.rows} == {f"Numbered call {n:02d}" for n in range(5)}
    login(client, make_user(session, role=Role.VIEWER))
    html = client.get("/catalogue?page=2").get_data(as_text=True)
    assert "Sida 2 av 2" in html


def test_the_catalogue_follows_changes_of_calls(session: Session) -> None:
    """Its entries are rebuilt with every change of a call, its deadlines or its gate."""
    call = make_call(session, title="A changing call", deadlines=[NOW + timedelta(days=10)])
    assert shown(session, status="open") == {"A changing call"}
    # A deadline moved into the past (through the ORM, as ingestion merges a record).
    call.deadlines[0].deadline_at = NOW - timedelta(days=1)
    session.flush()
    assert shown(session, status="closed") == {"A changing call"}
    assert shown(session, status="open") == set()
    # A new later deadline opens it again.
    call.deadlines.append(CallDeadline(deadline_at=NOW + timedelta(days=40), stage="stage 2"))
    session.flush()
    assert shown(session, status="open") == {"A changing call"}
    call.programme_code, call.programme_label = "NEW-PROG", "A renamed programme"
    call.is_withdrawn = True
    session.flush()
    assert shown(session, status="withdrawn", programme="NEW-PROG") == {"A changing call"}
    assert ("NEW-PROG", "A renamed programme") in catalogue_options(session)["programmes"]
    # Matching sets gates with a bulk statement the flush does not see; it rebuilds the
    # entries of the calls it matched.
    session.execute(update(FundingCall).where(FundingCall.id == call.id).values(gate_code="region"))
    refresh_inbox_entries(session, [call.id], now=NOW)
    assert shown(session, gate="region") == {"A changing call"}
    assert catalogue_options(session)["gates"] == ["region"]
    session.delete(call)
    session.flush()
    assert shown(session) == set()

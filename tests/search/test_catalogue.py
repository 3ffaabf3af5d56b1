"""The catalogue of every stored call: matched or not, gated with the reason, typed in by
staff, filterable and searchable."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.factories import NOW, login, make_call, make_profile, make_source, make_user
from tests.factories.inbox import make_matched_call
from tracker.models import CallSourceLink, Role, SourceKind
from tracker.services.catalogue import CatalogueFilters, catalogue_page


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

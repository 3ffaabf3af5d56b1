"""The admin pages for sources (health, add, edit, disable, fetch now) and quarantine."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories import login, make_source, make_user
from tests.feeds.conftest import fixture_bytes
from tracker.models import (
    FetchRun,
    FetchStatus,
    FundingCall,
    QuarantinedItem,
    Role,
    Source,
    SourceKind,
)

T0 = datetime(2026, 9, 20, 6, 0, tzinfo=UTC)


def _admin(client: FlaskClient, session: Session, language: str = "en") -> None:
    login(client, make_user(session, role=Role.ADMIN, language=language))


def _run(session: Session, source: Source, status: FetchStatus, at: datetime, **kw: object) -> None:
    session.add(
        FetchRun(
            source_id=source.id,
            started_at=at,
            finished_at=at + timedelta(seconds=5),
            status=status,
            **kw,
        )
    )
    session.flush()


@pytest.mark.parametrize(("role", "status"), [(Role.VIEWER, 403), (Role.EDITOR, 403)])
def test_only_admins_see_the_sources(
    client: FlaskClient, session: Session, role: Role, status: int
) -> None:
    login(client, make_user(session, role=role))
    assert client.get("/admin/sources").status_code == status
    assert client.get("/admin/quarantine").status_code == status


def test_health_shows_last_success_last_error_and_next_run(
    client: FlaskClient, session: Session
) -> None:
    _admin(client, session)
    ok = make_source(session, SourceKind.FT_SEARCH, name="eu-search", every="6h")
    down = make_source(session, SourceKind.VINNOVA, name="vinnova", every="1d")
    _run(session, ok, FetchStatus.SUCCEEDED, T0, new_count=12)
    _run(session, down, FetchStatus.SUCCEEDED, T0 - timedelta(days=2))
    _run(
        session,
        down,
        FetchStatus.FAILED,
        T0,
        error="connection failed: Name or service not known (https://data.vinnova.se/api/)",
    )

    page = client.get("/admin/sources").get_data(as_text=True)

    assert "eu-search" in page and "vinnova" in page
    assert "Name or service not known" in page
    assert 'class="failing"' in page
    assert "Fetch now" in page and "Disable" in page
    # last success of the failing source is still shown, and each source has a next run
    assert page.count("/admin/sources/") >= 2


def test_add_a_source_and_see_form_errors(client: FlaskClient, session: Session, csrf: str) -> None:
    _admin(client, session)
    response = client.post(
        "/admin/sources",
        data={
            "name": "interreg-bsr",
            "kind": "rss",
            "url": "https://interreg-baltic.example/feed",
            "every": "12h",
            "settings": '{"programme": "Interreg Baltic Sea Region"}',
            "csrf_token": csrf,
        },
    )
    assert response.status_code == 302
    source = session.scalars(select(Source).where(Source.name == "interreg-bsr")).one()
    assert source.settings == {"programme": "Interreg Baltic Sea Region"}

    bad = client.post(
        "/admin/sources",
        data={
            "name": "x",
            "kind": "rss",
            "url": "gopher://x",
            "every": "often",
            "csrf_token": csrf,
        },
    )
    page = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "http://, https:// or file://" in page
    assert "30m, 6h or 1d" in page
    assert 'value="gopher://x"' in page  # what was typed is kept


def test_edit_a_source(client: FlaskClient, session: Session, csrf: str) -> None:
    _admin(client, session)
    source = make_source(session, SourceKind.RSS, name="feed", etag='"old"')

    response = client.post(
        f"/admin/sources/{source.id}",
        data={
            "name": "feed-renamed",
            "url": "https://new.example/feed.xml",
            "every": "2h",
            "settings": "",
            "enabled": "on",
            "csrf_token": csrf,
        },
    )

    assert response.status_code == 302
    session.refresh(source)
    assert (source.name, source.url, source.every) == (
        "feed-renamed",
        "https://new.example/feed.xml",
        "2h",
    )
    assert source.etag is None  # a new address starts without validators
    assert client.get(f"/admin/sources/{source.id}").status_code == 200


def test_fetch_now_fetches_at_once_and_shows_the_result(
    client: FlaskClient, session: Session, csrf: str, tmp_path: Path
) -> None:
    """ "Fetch now" runs fetch -> store -> match -> inbox straight away (inline in tests, a
    background thread in a server) and the source's row shows the result."""
    _admin(client, session)
    feed = tmp_path / "feed.xml"
    feed.write_bytes(fixture_bytes("feed_atom.xml"))
    source = make_source(session, SourceKind.RSS, name="feed", url=feed.as_uri())
    session.commit()

    response = client.post(f"/admin/sources/{source.id}/fetch", data={"csrf_token": csrf})

    assert response.status_code == 302
    progress = client.get(f"/admin/sources/{source.id}/progress").get_json()
    assert progress["phase"] == "done" and progress["result"]["new"] == 2
    page = client.get("/admin/sources").get_data(as_text=True)
    assert "2 new, 0 changed" in page
    calls = session.scalars(select(FundingCall)).all()
    assert len(calls) == 2 and all(call.matched_at is not None for call in calls)
    assert source.fetch_requested_at is None  # nothing left for the scheduled job


def test_a_disabled_source_is_not_fetched_now(
    client: FlaskClient, session: Session, csrf: str, tmp_path: Path
) -> None:
    _admin(client, session)
    feed = tmp_path / "feed.xml"
    feed.write_bytes(fixture_bytes("feed_atom.xml"))
    source = make_source(session, SourceKind.RSS, name="feed", url=feed.as_uri())
    client.post(f"/admin/sources/{source.id}/enabled", data={"enabled": "0", "csrf_token": csrf})
    session.refresh(source)
    assert not source.is_enabled

    response = client.post(
        f"/admin/sources/{source.id}/fetch", data={"csrf_token": csrf}, follow_redirects=True
    )

    assert "A disabled source is not fetched." in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(FetchRun)) == 0
    assert client.get(f"/admin/sources/{source.id}/progress").get_json()["phase"] == "unknown"


def test_quarantine_page_shows_reason_and_escaped_payload(
    client: FlaskClient, session: Session
) -> None:
    _admin(client, session)
    source = make_source(session, SourceKind.FT_SEARCH, name="eu-search")
    session.add(
        QuarantinedItem(
            source_id=source.id,
            fingerprint="f" * 64,
            external_id=None,
            reason="call without an identifier",
            raw={"metadata": {"title": ["<script>alert(1)</script>"]}},
            first_seen_at=T0,
        )
    )
    session.flush()

    page = client.get(f"/admin/quarantine?source={source.id}").get_data(as_text=True)

    assert "call without an identifier" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_pages_speak_swedish_by_default(client: FlaskClient, session: Session) -> None:
    _admin(client, session, language="sv")
    make_source(session, SourceKind.RSS, name="feed")

    page = client.get("/admin/sources").get_data(as_text=True)

    assert "Källor" in page and "Hämta nu" in page


def test_editors_add_a_call_with_the_form(client: FlaskClient, session: Session, csrf: str) -> None:
    login(client, make_user(session, role=Role.EDITOR, language="en"))
    form = {
        "action": "add",
        "title": "Hållbar omställning i Östra Mellansverige",
        "identifier": "20261234",
        "programme": "Regionalfonden",
        "url": "https://example.se/utlysning",
        "opens": "2026-09-01",
        "deadlines": "2026-11-15 14:00",
        "region": "Östra Mellansverige",
        "eligible_applicants": "Kommuner och regioner",
        "cofinancing_pct": "40",
        "budget_total": "120 000 000",
        "currency": "SEK",
        "csrf_token": csrf,
    }

    response = client.post("/admin/manual-calls", data=form)

    assert response.status_code == 302
    call = session.scalars(select(FundingCall).where(FundingCall.identifier == "20261234")).one()
    assert call.region == "Östra Mellansverige"
    assert call.cofinancing_rate == Decimal(60)
    assert call.budget_total == Decimal(120_000_000) and call.currency == "SEK"
    assert [d.deadline_at for d in call.deadlines] == [datetime(2026, 11, 15, 13, 0, tzinfo=UTC)]

    bad = client.post(
        "/admin/manual-calls",
        data={**form, "title": "", "deadlines": "mid November", "csrf_token": csrf},
    )
    page = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "A title is required" in page and "is not a date" in page


def test_a_sheet_upload_reports_row_errors_and_a_check_saves_nothing(
    client: FlaskClient, session: Session, csrf: str
) -> None:
    login(client, make_user(session, role=Role.EDITOR, language="en"))
    sheet = fixture_bytes("manual_calls.csv")

    checked = client.post(
        "/admin/manual-calls",
        data={
            "action": "upload",
            "dry_run": "on",
            "csrf_token": csrf,
            "sheet": (io.BytesIO(sheet), "calls.csv"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    page = checked.get_data(as_text=True)
    assert "nothing was saved" in page
    assert "3 of 6 rows are valid" in page
    assert "is not an http(s) address" in page
    assert session.scalar(select(func.count()).select_from(FundingCall)) == 0

    client.post(
        "/admin/manual-calls",
        data={"action": "upload", "csrf_token": csrf, "sheet": (io.BytesIO(sheet), "calls.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert session.scalar(select(func.count()).select_from(FundingCall)) == 3


def test_viewers_cannot_add_calls(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session, role=Role.VIEWER))
    assert client.get("/admin/manual-calls").status_code == 403


def test_manual_page_in_swedish(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session, role=Role.EDITOR, language="sv"))
    page = client.get("/admin/manual-calls").get_data(as_text=True)
    assert "Utlysningar utan flöde" in page and "Lägg till en utlysning" in page


def test_the_interreg_key_is_never_shown_and_survives_an_edit(
    client: FlaskClient, session: Session, csrf: str
) -> None:
    _admin(client, session)
    key = "f00dfacecafe-search-key"
    settings = {"app_id": "ABC123", "index": "calls_en", "api_key": key}
    source = make_source(
        session,
        SourceKind.INTERREG,
        name="interreg-eu",
        url="https://{app_id}-dsn.algolia.net/1/indexes/{index}/query",
        settings=settings,
    )
    _run(
        session,
        source,
        FetchStatus.FAILED,
        T0,
        error="interreg.eu's search index refused the key (HTTP 403): the public search key "
        "has probably been rotated.",
    )

    form = client.get(f"/admin/sources/{source.id}").get_data(as_text=True)
    health = client.get("/admin/sources").get_data(as_text=True)

    assert key not in form and "********" in form
    assert "probably been rotated" in health and key not in health
    client.post(
        f"/admin/sources/{source.id}",
        data={
            "name": "interreg-eu",
            "url": source.url,
            "every": "24h",
            "settings": '{"app_id": "ABC123", "index": "calls_v2", "api_key": "********"}',
            "enabled": "on",
            "csrf_token": csrf,
        },
    )
    session.refresh(source)
    assert source.settings == {**settings, "index": "calls_v2"}


def test_the_add_form_offers_every_kind_of_source_in_the_readers_language(
    client: FlaskClient, session: Session
) -> None:
    _admin(client, session, language="sv")
    page = client.get("/admin/sources").get_data(as_text=True)
    for kind in SourceKind:
        assert f'value="{kind.value}"' in page
    assert "Interreg-utlysningar (sökningen på interreg.eu)" in page

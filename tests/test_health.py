"""Failures are visible: a failing source or job shows on the sources page, in a banner on
every admin page and in /healthz (200 "degraded" with reasons; 503 only without a database)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from jobs import JOBS, JobContext
from tests.factories import NOW, login, make_source, make_user
from tracker.clock import FixedClock
from tracker.config import Settings
from tracker.models import JobRun, Role, SourceKind


def _run_fetch_job(
    settings: Settings, session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    job = next(spec for spec in JOBS if spec.name == "fetch-sources")
    job.run(JobContext(settings, session_factory, clock(), clock))


def test_a_stopped_source_shows_its_error_on_the_sources_page_and_in_healthz(
    client: FlaskClient,
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FixedClock,
    tmp_path: Path,
) -> None:
    gone = tmp_path / "feed-that-was-removed.xml"
    make_source(session, SourceKind.RSS, name="Kulturrådet", url=gone.as_uri(), every="1h")
    session.commit()
    login(client, make_user(session, role=Role.ADMIN, language="en"))
    assert client.get("/healthz").get_json()["status"] == "ok"

    _run_fetch_job(settings, session_factory, clock)  # within its first interval

    health = client.get("/healthz")
    assert health.status_code == 200
    body = health.get_json()
    assert body["status"] == "degraded" and body["database"] == "ok"
    reasons = [p["reason"] for p in body["problems"]]
    assert any("Kulturrådet" in reason and "failed" in reason for reason in reasons), reasons
    page = client.get("/admin/sources").get_data(as_text=True)
    assert "feed-that-was-removed.xml" in page  # the error itself, on the source's row
    # One failed fetch is not yet worth a banner on every page...
    assert "needs an admin" not in client.get("/").get_data(as_text=True)

    # ...three of its intervals without a success are.
    clock.advance(timedelta(hours=3))
    banner = client.get("/").get_data(as_text=True)
    assert "needs an admin" in banner and "Kulturrådet" in banner


def test_a_failed_job_is_shown_to_admins_only(
    client: FlaskClient, session: Session, clock: FixedClock
) -> None:
    session.add(
        JobRun(
            job_name="weekly-digest",
            scheduled_for=NOW - timedelta(hours=1),
            holder="test",
            started_at=NOW - timedelta(hours=1),
            finished_at=NOW - timedelta(hours=1),
            status="failed",
            error="SMTPServerDisconnected: Connection unexpectedly closed",
        )
    )
    session.commit()
    editor = make_user(session, role=Role.EDITOR, language="en")
    admin = make_user(session, role=Role.ADMIN, language="sv")

    login(client, editor)
    assert "weekly-digest" not in client.get("/").get_data(as_text=True)
    login(client, admin)
    page = client.get("/").get_data(as_text=True)
    assert "Det schemalagda jobbet weekly-digest misslyckades" in page
    assert "Connection unexpectedly closed" in page
    problems = client.get("/healthz").get_json()["problems"]
    assert [p["name"] for p in problems] == ["weekly-digest"]

    # A later successful run ends the problem.
    session.add(
        JobRun(
            job_name="weekly-digest",
            scheduled_for=NOW,
            holder="test",
            started_at=NOW,
            finished_at=NOW,
            status="succeeded",
        )
    )
    session.commit()
    assert client.get("/healthz").get_json()["status"] == "ok"
    assert "weekly-digest" not in client.get("/").get_data(as_text=True)


def test_the_sources_page_shows_the_fetch_jobs_last_error(
    client: FlaskClient, session: Session
) -> None:
    session.add(
        JobRun(
            job_name="fetch-sources",
            scheduled_for=NOW,
            holder="test",
            started_at=NOW,
            status="failed",
            error="OperationalError: could not connect",
        )
    )
    session.commit()
    login(client, make_user(session, role=Role.ADMIN, language="en"))
    page = client.get("/admin/sources").get_data(as_text=True)
    assert "last error:" in page and "could not connect" in page

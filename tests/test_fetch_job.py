"""The scheduled fetch job: fetches the sources that are due, each in its own transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jobs import JOBS, JobContext
from tests.factories import make_source
from tests.feeds.conftest import fixture_bytes
from tracker.config import Settings
from tracker.models import FetchRun, FetchStatus, SourceKind

T0 = datetime(2026, 9, 20, 6, 0, tzinfo=UTC)


def test_fetch_job_fetches_due_sources_only(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(fixture_bytes("feed_atom.xml"))
    due = make_source(
        session, SourceKind.RSS, url=feed.as_uri(), created_at=T0 - timedelta(hours=1)
    )
    later = make_source(
        session, SourceKind.RSS, url=feed.as_uri(), created_at=T0 + timedelta(days=1)
    )
    off = make_source(session, SourceKind.RSS, url=feed.as_uri(), created_at=T0, is_enabled=False)
    session.commit()
    job = next(spec for spec in JOBS if spec.name == "fetch-sources")

    job.run(JobContext(settings, session_factory, T0, lambda: T0))

    runs = {run.source_id: run for run in session.scalars(select(FetchRun))}
    assert set(runs) == {due.id}
    assert runs[due.id].status is FetchStatus.SUCCEEDED and runs[due.id].new_count == 2
    assert later.id not in runs and off.id not in runs

    job.run(JobContext(settings, session_factory, T0, lambda: T0 + timedelta(minutes=5)))
    assert len(session.scalars(select(FetchRun)).all()) == 1  # not due again yet

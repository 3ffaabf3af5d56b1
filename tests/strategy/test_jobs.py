"""The matching jobs: calls are matched after each fetch, every 15 minutes, and the model is
retrained nightly when there are new decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from jobs import JOBS, JobContext
from tests.factories import make_call, make_source
from tests.feeds.conftest import fixture_bytes
from tracker.config import Settings
from tracker.models import CallMatch, FundingCall, MatchModel, SourceKind
from tracker.services.strategy import ensure_default_profile, record_decision

T0 = datetime(2026, 9, 20, 6, 0, tzinfo=UTC)


def test_fetched_calls_are_matched_right_after_the_fetch(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(fixture_bytes("feed_atom.xml"))
    make_source(session, SourceKind.RSS, url=feed.as_uri(), created_at=T0 - timedelta(hours=1))
    session.commit()
    fetch = next(spec for spec in JOBS if spec.name == "fetch-sources")

    fetch.run(JobContext(settings, session_factory, T0, lambda: T0))

    calls = session.scalars(select(FundingCall)).all()
    assert len(calls) == 2
    assert all(c.matched_at is not None for c in calls)
    assert session.scalar(select(func.count()).select_from(CallMatch)) == 2 * 9


def test_match_job_and_nightly_retraining(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    call = make_call(
        session,
        title="Town twinning for active citizenship",
        programme_label="Citizens, Equality, Rights and Values Programme (CERV)",
        description_text="Municipalities bring citizens of twinned towns together.",
        updated_at=T0 - timedelta(days=1),
    )
    session.commit()
    match = next(spec for spec in JOBS if spec.name == "match-calls")
    retrain = next(spec for spec in JOBS if spec.name == "retrain-matching")

    match.run(JobContext(settings, session_factory, T0, lambda: T0))
    session.refresh(call)
    assert call.matched_at == T0

    retrain.run(JobContext(settings, session_factory, T0, lambda: T0))
    assert session.scalar(select(func.count()).select_from(MatchModel)) == 0  # no decisions

    ensure_default_profile(session, now=T0)
    record_decision(
        session,
        call.id,
        "participation-democracy",
        relevant=True,
        reason="fits-strategy",
        actor=None,
        now=T0 + timedelta(hours=1),
    )
    session.commit()
    night = T0 + timedelta(hours=20)
    retrain.run(JobContext(settings, session_factory, night, lambda: night))
    assert session.scalar(select(func.count()).select_from(MatchModel)) == 1
    # The new model makes the call due again at the next matching run.
    match.run(JobContext(settings, session_factory, night, lambda: night + timedelta(minutes=1)))
    session.refresh(call)
    assert call.matched_at == night + timedelta(minutes=1)

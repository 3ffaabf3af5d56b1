"""``tracker backup`` and ``tracker restore``: a backup of a populated database, restored into
an empty one, holds every call, decision, digest and project. On SQLite (files in a temporary
folder) and on PostgreSQL (scratch databases on the test server, created and dropped here)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url

from tests.conftest import TrackerCli
from tests.factories import NOW, make_call, make_office, make_user
from tests.factories.digests import make_previous_digest, make_subscription
from tests.factories.projects import make_funder, make_line, make_project
from tracker.clock import FixedClock
from tracker.db import make_engine, make_session_factory, session_scope
from tracker.migrate import current_revision, upgrade
from tracker.models import (
    Digest,
    DigestSection,
    DismissReason,
    FundingCall,
    Project,
    Role,
    TriageEvent,
    TriageState,
)
from tracker.services.inbox import change_state

pytestmark = pytest.mark.slow


@pytest.fixture()
def scratch_url(database_url: str, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Makes empty databases of the suite's kind; PostgreSQL ones are dropped afterwards."""
    created: list[str] = []
    admin: Engine | None = None
    if database_url.startswith("postgresql"):
        admin = make_engine(
            make_url(database_url).set(database="postgres").render_as_string(hide_password=False)
        ).execution_options(isolation_level="AUTOCOMMIT")

    def make() -> str:
        name = f"tracker_backup_{uuid.uuid4().hex[:12]}"
        if admin is None:
            return f"sqlite:///{tmp_path / name}.db"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return make_url(database_url).set(database=name).render_as_string(hide_password=False)

    yield make
    if admin is not None:
        with admin.connect() as connection:
            for name in created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _cli(tmp_path: Path, url: str) -> TrackerCli:
    config = tmp_path / f"config-{uuid.uuid4().hex[:8]}.toml"
    config.write_text(f'[app]\nsecret_key = "k"\n[database]\nurl = "{url}"\n', encoding="utf-8")
    return TrackerCli(config, FixedClock(NOW))


def _populate(url: str) -> None:
    upgrade(url, "head")
    engine = make_engine(url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            office = make_office(session, slug="kultur")
            admin = make_user(session, role=Role.ADMIN, office=office, email="anna@kommun.test")
            calls = [make_call(session, title=f"Backed-up call {i}") for i in range(3)]
            change_state(session, calls[0], TriageState.INTERESTED, actor=admin, now=NOW)
            change_state(
                session,
                calls[1],
                TriageState.DISMISSED,
                actor=admin,
                now=NOW,
                reason=DismissReason.NOT_ELIGIBLE,
            )
            subscription = make_subscription(session, user=admin)
            make_previous_digest(
                session,
                subscription,
                period_end=NOW,
                items=[(calls[0], DigestSection.NEW, {})],
                week="2026-W47",
            )
            project = make_project(session, office=office, title="Backed-up project")
            make_line(session, project, make_funder(session, name="Backed-up funder"), 25_000)
    finally:
        engine.dispose()


def _contents(url: str) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return {
                "calls": sorted(session.scalars(select(FundingCall.title))),
                "decisions": sorted(
                    (title, str(state), str(reason))
                    for title, state, reason in session.execute(
                        select(FundingCall.title, TriageEvent.to_state, TriageEvent.reason).join(
                            FundingCall, FundingCall.id == TriageEvent.call_id
                        )
                    )
                ),
                "digests": sorted(
                    (d.iso_week, d.address, len(d.items)) for d in session.scalars(select(Digest))
                ),
                "projects": sorted(
                    (p.title, p.lead_office.slug, [line.funder.name for line in p.lines])
                    for p in session.scalars(select(Project))
                ),
            }
    finally:
        engine.dispose()


def test_a_backup_restores_into_an_empty_database_with_everything_in_it(
    tmp_path: Path, scratch_url: Callable[[], str]
) -> None:
    source, target = scratch_url(), scratch_url()
    _populate(source)
    backup_file = tmp_path / "backups" / "tracker.backup"

    result = _cli(tmp_path, source)("backup", str(backup_file))
    assert result.exit_code == 0, result.output
    assert backup_file.stat().st_size > 0

    result = _cli(tmp_path, target)("restore", str(backup_file), "--yes")
    assert result.exit_code == 0, result.output

    restored = _contents(target)
    assert restored == _contents(source)
    assert restored["calls"] == [f"Backed-up call {i}" for i in range(3)]
    assert [(title, state) for title, state, _ in restored["decisions"]] == [
        ("Backed-up call 0", "interested"),
        ("Backed-up call 1", "dismissed"),
    ]
    assert restored["digests"] == [("2026-W47", "anna@kommun.test", 1)]
    assert restored["projects"] == [("Backed-up project", "kultur", ["Backed-up funder"])]
    assert current_revision(target) == current_revision(source)


def test_restore_refuses_a_file_that_is_no_backup_of_this_kind(
    tmp_path: Path, scratch_url: Callable[[], str]
) -> None:
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello", encoding="utf-8")
    result = _cli(tmp_path, scratch_url())("restore", str(not_a_backup), "--yes")
    assert result.exit_code == 1
    assert "is not an SQLite backup" in result.output or "is not a PostgreSQL backup" in (
        result.output
    )
    assert "Traceback" not in result.output

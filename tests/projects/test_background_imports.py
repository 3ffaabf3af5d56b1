"""Spreadsheet imports run in the background (tracker/imports.py): the status file says how far
an import is, then what it did; a failing row or a crash writes nothing; a check's file can be
imported once; an import whose worker died is reported, not left "running" for ever."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import make_office, make_user
from tests.factories.spreadsheets import OFFICES, project_rows, project_xlsx
from tests.feeds.conftest import fixture_bytes
from tracker.clock import FixedClock
from tracker.imports import CALLS, PROJECTS, ImportJob, ImportJobs, run_job
from tracker.models import FundingCall, Project, Role, User
from tracker.services import project_import

ZONE = ZoneInfo("Europe/Stockholm")


class RecordingJobs(ImportJobs):
    """The real file store, remembering each status it wrote."""

    def __init__(self, folder: Path, clock: FixedClock) -> None:
        super().__init__(folder, clock)
        self.written: list[tuple[str, int, int]] = []

    def save(self, job: ImportJob) -> None:
        self.written.append((job.phase, job.done, job.total))
        super().save(job)


@pytest.fixture()
def jobs(tmp_path: Path, clock: FixedClock) -> RecordingJobs:
    return RecordingJobs(tmp_path / "imports", clock)


@pytest.fixture()
def editor(session: Session) -> User:
    for slug in OFFICES:
        make_office(session, slug=slug)
    return make_user(session, role=Role.EDITOR)


def _run(jobs: ImportJobs, job: ImportJob, factory: sessionmaker[Session], user: User) -> None:
    run_job(jobs, job, factory, actor_id=user.id, in_zone=ZONE, sek_per_eur=Decimal("11.5"))


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _projects(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Project)) or 0


def test_a_project_import_reports_its_rows_as_it_goes_then_the_result(
    jobs: RecordingJobs, session: Session, session_factory: sessionmaker[Session], editor: User
) -> None:
    job = jobs.create(
        PROJECTS, owner_id=editor.id, data=project_xlsx(400), filename="p.xlsx", dry_run=False
    )
    assert jobs.load(job.id, owner_id=editor.id) is not None
    assert jobs.load(job.id, owner_id=editor.id + 1) is None  # nobody else's to follow

    _run(jobs, job, session_factory, editor)

    checking = [done for phase, done, total in jobs.written if phase == "checking"]
    writing = [done for phase, done, total in jobs.written if phase == "writing"]
    assert {total for phase, _, total in jobs.written if phase in ("checking", "writing")} == {400}
    assert 0 < len(checking) <= 60 and checking[-1] == 400 and checking == sorted(checking)
    assert writing and writing[-1] == 400
    finished = jobs.load(job.id)
    assert finished is not None and finished.phase == "done" and not finished.is_running
    assert finished.result["created"] == 400 and finished.result["errors"] == []
    assert _projects(session) == 400
    assert jobs.upload(finished) is None  # the upload is not kept once imported


def test_one_bad_row_imports_nothing_and_names_the_row(
    jobs: RecordingJobs, session: Session, session_factory: sessionmaker[Session], editor: User
) -> None:
    rows = project_rows(50)
    rows[31][4] = "won"  # status; spreadsheet row 32
    job = jobs.create(
        PROJECTS, owner_id=editor.id, data=_xlsx(rows), filename="p.xlsx", dry_run=False
    )

    _run(jobs, job, session_factory, editor)

    finished = jobs.load(job.id)
    assert finished is not None and finished.phase == "done"
    assert [(e["row"], e["column"]) for e in finished.result["errors"]] == [(32, "status")]
    assert (
        "'won' is not one of"
        in finished.result["errors"][0]["message"]["template"]
        % (finished.result["errors"][0]["message"]["params"])
    )
    assert _projects(session) == 0


def test_a_crash_while_writing_loses_nothing_and_says_so(
    jobs: RecordingJobs,
    session: Session,
    session_factory: sessionmaker[Session],
    editor: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_existing = project_rows(3)
    first = jobs.create(
        PROJECTS, owner_id=editor.id, data=_xlsx(make_existing), filename="p.xlsx", dry_run=False
    )
    _run(jobs, first, session_factory, editor)
    assert _projects(session) == 3

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk full")

    # New rows are written, then the changed ones: the crash comes after the bulk insert.
    monkeypatch.setattr(project_import, "update_project", broken)
    changed = project_rows(20)
    changed[1][1] = "CHANGED"  # the acronym of an existing project
    job = jobs.create(
        PROJECTS, owner_id=editor.id, data=_xlsx(changed), filename="p.xlsx", dry_run=False
    )

    _run(jobs, job, session_factory, editor)

    finished = jobs.load(job.id)
    assert finished is not None and finished.phase == "failed"
    assert finished.error_message == "The import failed and nothing was written: RuntimeError"
    assert _projects(session) == 3  # the 17 new projects were rolled back with the rest


def test_an_unreadable_file_ends_with_a_clear_error(
    jobs: RecordingJobs, session_factory: sessionmaker[Session], editor: User
) -> None:
    job = jobs.create(
        PROJECTS,
        owner_id=editor.id,
        data=b"acronym,status\nX,idea\n",
        filename="p.csv",
        dry_run=False,
    )
    _run(jobs, job, session_factory, editor)
    finished = jobs.load(job.id)
    assert finished is not None and finished.failed
    assert finished.error_message == "the header lacks the column(s) title, lead_office"


def test_a_checked_file_is_kept_for_one_import_only(
    jobs: RecordingJobs, session: Session, session_factory: sessionmaker[Session], editor: User
) -> None:
    check = jobs.create(
        PROJECTS, owner_id=editor.id, data=project_xlsx(5), filename="p.xlsx", dry_run=True
    )
    _run(jobs, check, session_factory, editor)
    checked = jobs.load(check.id)
    assert checked is not None and checked.result["ok"] and checked.result["created"] == 5
    assert _projects(session) == 0

    data = jobs.take_upload(checked)
    assert data is not None and jobs.take_upload(checked) is None


def test_an_import_whose_worker_died_is_reported_as_stopped(
    jobs: RecordingJobs, clock: FixedClock, editor: User
) -> None:
    job = jobs.create(PROJECTS, owner_id=editor.id, data=b"x", filename="p.csv", dry_run=False)
    job.phase = "checking"
    jobs.save(job)
    clock.advance(timedelta(minutes=5))
    running = jobs.load(job.id)
    assert running is not None and running.is_running
    clock.advance(timedelta(minutes=6))
    stopped = jobs.load(job.id)
    assert stopped is not None and stopped.failed
    assert stopped.error_message == "The import stopped before it ended; nothing was saved."


def test_old_imports_and_their_uploads_are_cleared(
    jobs: RecordingJobs, clock: FixedClock, editor: User
) -> None:
    old = jobs.create(PROJECTS, owner_id=editor.id, data=b"x", filename="p.csv", dry_run=True)
    clock.advance(timedelta(hours=2))
    jobs.create(PROJECTS, owner_id=editor.id, data=b"y", filename="q.csv", dry_run=True)
    assert jobs.load(old.id) is None
    assert sorted(p.suffix for p in jobs.folder.iterdir()) == [".csv", ".json"]


def test_a_calls_sheet_is_imported_in_the_background(
    jobs: RecordingJobs, session: Session, session_factory: sessionmaker[Session], editor: User
) -> None:
    sheet = fixture_bytes("manual_calls.csv")
    check = jobs.create(CALLS, owner_id=editor.id, data=sheet, filename="c.csv", dry_run=True)
    _run(jobs, check, session_factory, editor)
    checked = jobs.load(check.id)
    assert checked is not None and checked.phase == "done"
    assert (checked.result["rows"], checked.result["valid"]) == (6, 3)
    assert session.scalar(select(func.count()).select_from(FundingCall)) == 0

    job = jobs.create(CALLS, owner_id=editor.id, data=sheet, filename="c.csv", dry_run=False)
    _run(jobs, job, session_factory, editor)

    done = jobs.load(job.id)
    assert done is not None and done.phase == "done" and done.result["new"] == 3
    assert ("writing", 3, 3) in jobs.written
    assert len({e["row"] for e in done.result["errors"]}) == 3  # the three rejected rows
    assert session.scalar(select(func.count()).select_from(FundingCall)) == 3
    status = json.loads((jobs.folder / f"{job.id}.json").read_text(encoding="utf-8"))
    assert status["phase"] == "done"

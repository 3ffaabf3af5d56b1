"""Spreadsheet imports that run in the background: the project import and the calls sheet.

The page that receives the upload checks it cheaply (its kind, the zip-bomb guard), saves it
and answers at once with a progress page; a background thread (``tracker.background``) reads,
checks and writes the rows in one transaction, so a failing row still loses nothing.

Where an import is, is kept in a small JSON file per import in the instance folder
(``imports/<id>.json``), written atomically (a temporary file renamed over it). A file rather
than the web process's memory because gunicorn runs several workers and the page's polls may
reach any of them; a file rather than a table because it needs no migration, is gone with
the upload an hour later, and a poll reads it without touching the database that the import
is holding a write lock on (SQLite).
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from tracker.clock import Clock
from tracker.db import writing_sessions
from tracker.i18n import Message, msg

log = logging.getLogger(__name__)

PROJECTS = "projects"
CALLS = "calls"
RUNNING_PHASES = ("queued", "reading", "checking", "writing", "matching")
# An upload and its status are removed this long after the import started.
KEEP_FOR = timedelta(hours=1)
# A running import whose status has not moved for this long died with its worker: its
# transaction was never committed, so nothing of it was written.
STALE_AFTER = timedelta(minutes=10)
# Progress is written at most this many times per phase (each write is a small file).
PROGRESS_STEPS = 50
_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
SUFFIXES = (".csv", ".xlsx", ".xlsm")

# Called as (phase, done, total): "checking", 120, 5000.
ProgressCallback = Callable[[str, int, int], None]


def message_to_json(text: str) -> dict[str, Any]:
    """A (translatable) message as JSON: its template and parameters, shown later in the
    reader's language."""
    if isinstance(text, Message):
        return {"template": text.template, "params": _plain_params(text.params)}
    return {"text": str(text)}


def message_from_json(value: Any) -> str:
    """The message again: a ``Message`` when it was one (translated when shown)."""
    if isinstance(value, dict) and "template" in value:
        return Message(str(value["template"]), dict(value.get("params") or {}))
    if isinstance(value, dict):
        return str(value.get("text", ""))
    return str(value)


def _plain_params(params: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value if isinstance(value, int | float | str) else str(value)
        for key, value in params.items()
    }


@dataclass
class ImportJob:
    """One import: who started it, on what file, how far it is, and how it ended."""

    id: str
    kind: str
    owner_id: int
    filename: str
    suffix: str
    dry_run: bool
    created_at: str
    updated_at: str
    phase: str = "queued"
    done: int = 0
    total: int = 0
    result: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None

    @property
    def is_running(self) -> bool:
        return self.phase in RUNNING_PHASES

    @property
    def failed(self) -> bool:
        return self.phase == "failed"

    @property
    def error_message(self) -> str | None:
        return message_from_json(self.error) if self.error is not None else None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "phase": self.phase,
            "running": self.is_running,
            "done": self.done,
            "total": self.total,
        }


class ImportJobs:
    """The imports' files in ``folder``: ``<id>.json`` (the status) and ``<id><suffix>`` (the
    upload, kept until the import is over, or for an hour after a check so that "Import now"
    needs no second upload)."""

    def __init__(self, folder: Path, clock: Clock) -> None:
        self.folder = folder
        self.clock = clock

    def create(
        self, kind: str, *, owner_id: int, data: bytes, filename: str, dry_run: bool
    ) -> ImportJob:
        self._clear_old()
        now = self.clock().isoformat()
        job = ImportJob(
            id=secrets.token_urlsafe(18),
            kind=kind,
            owner_id=owner_id,
            filename=Path(filename).name[:200],
            suffix=Path(filename).suffix.lower(),
            dry_run=dry_run,
            created_at=now,
            updated_at=now,
        )
        self._folder().joinpath(job.id + job.suffix).write_bytes(data)
        self.save(job)
        return job

    def load(self, job_id: str, *, owner_id: int | None = None) -> ImportJob | None:
        """The import ``job_id`` (of ``owner_id`` when given); None when unknown or gone.
        A running import that stopped moving long ago is reported as failed."""
        if not _ID.match(job_id):
            return None
        try:
            raw = json.loads((self.folder / f"{job_id}.json").read_text(encoding="utf-8"))
            job = ImportJob(**raw)
        except (OSError, ValueError, TypeError):
            return None
        if owner_id is not None and job.owner_id != owner_id:
            return None
        if job.is_running and self.clock() - datetime.fromisoformat(job.updated_at) > STALE_AFTER:
            job.phase = "failed"
            stopped = msg("The import stopped before it ended; nothing was saved.")
            job.error = message_to_json(stopped)
        return job

    def save(self, job: ImportJob) -> None:
        job.updated_at = self.clock().isoformat()
        folder = self._folder()
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".status-", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(asdict(job), out, ensure_ascii=False, default=str)
        os.replace(temporary, folder / f"{job.id}.json")

    def upload(self, job: ImportJob) -> bytes | None:
        try:
            return (self.folder / (job.id + job.suffix)).read_bytes()
        except OSError:
            return None

    def take_upload(self, job: ImportJob) -> bytes | None:
        """The upload of a finished check, taken away so that it is imported once only (a
        rename is atomic: of two workers asked at once, one gets it)."""
        source = self.folder / (job.id + job.suffix)
        taken = self.folder / f".taken-{secrets.token_hex(8)}{job.suffix}"
        try:
            source.rename(taken)
        except OSError:
            return None
        try:
            return taken.read_bytes()
        finally:
            taken.unlink(missing_ok=True)

    def drop_upload(self, job: ImportJob) -> None:
        (self.folder / (job.id + job.suffix)).unlink(missing_ok=True)

    def reporter(self, job: ImportJob) -> ProgressCallback:
        """A callback ``(phase, done, total)`` that records how far the import is, writing the
        status file when the phase changes and about ``PROGRESS_STEPS`` times within one."""
        last_phase, last_done = job.phase, -1

        def report(phase: str, done: int, total: int) -> None:
            nonlocal last_phase, last_done
            if phase == last_phase and done == last_done:
                return
            step = max(1, total // PROGRESS_STEPS)
            if phase != last_phase or done == total or done - last_done >= step:
                job.phase, job.done, job.total = phase, done, total
                last_phase, last_done = phase, done
                self.save(job)

        return report

    def _folder(self) -> Path:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return self.folder

    def _clear_old(self) -> None:
        """Remove the imports started more than ``KEEP_FOR`` ago, with their uploads."""
        if not self.folder.is_dir():
            return
        cutoff = self.clock() - KEEP_FOR
        for status in self.folder.glob("*.json"):
            job = self.load(status.stem)
            if job is not None and datetime.fromisoformat(job.created_at) >= cutoff:
                continue
            status.unlink(missing_ok=True)
            for suffix in SUFFIXES:
                (self.folder / (status.stem + suffix)).unlink(missing_ok=True)


# --- the work run in the background ---------------------------------------------------------


def run_job(
    jobs: ImportJobs,
    job: ImportJob,
    factory: sessionmaker[Session],
    *,
    actor_id: int,
    in_zone: ZoneInfo,
    sek_per_eur: Decimal,
) -> None:
    """Run ``job`` to its end in one transaction and record how it ended; a check (``dry_run``)
    is rolled back. Any failure is recorded on the job, and nothing is written."""
    data = jobs.upload(job)
    try:
        if data is None:
            raise _JobFailed(msg("The uploaded file is no longer kept; choose it again."))
        with writing_sessions(factory)() as session:
            if job.kind == PROJECTS:
                result, keep = _import_projects(session, jobs, job, data, actor_id=actor_id)
            else:
                result, keep = _import_calls(
                    session, jobs, job, data, in_zone=in_zone, sek_per_eur=sek_per_eur
                )
            if keep:
                session.commit()
            else:
                session.rollback()
        job.result, job.phase = result, "done"
    except _JobFailed as exc:
        job.error, job.phase = message_to_json(exc.message), "failed"
    except Exception as exc:  # shown on the page; the web process carries on
        log.exception("background %s import %s failed", job.kind, job.id)
        job.error = message_to_json(
            msg("The import failed and nothing was written: %(reason)s", reason=type(exc).__name__)
        )
        job.phase = "failed"
    # A correct check keeps its file for "Import now"; otherwise the upload is done with.
    if not (job.dry_run and job.phase == "done" and job.result.get("ok")):
        jobs.drop_upload(job)
    jobs.save(job)


class _JobFailed(Exception):
    def __init__(self, message: Message) -> None:
        super().__init__(str(message))
        self.message = message


def _import_projects(
    session: Session, jobs: ImportJobs, job: ImportJob, data: bytes, *, actor_id: int
) -> tuple[dict[str, Any], bool]:
    from tracker.models import User
    from tracker.services.project_import import import_projects
    from tracker.services.project_sheets import ImportFileError, read_table

    report = jobs.reporter(job)
    report("reading", 0, 0)
    try:
        table = read_table(data, job.filename)
        result = import_projects(
            session,
            table,
            actor=session.get(User, actor_id),
            now=jobs.clock(),
            dry_run=job.dry_run,
            progress=report,
        )
    except ImportFileError as exc:
        raise _JobFailed(exc.args[0]) from None
    summary = {
        "ok": result.ok,
        "written": result.written,
        "dry_run": result.dry_run,
        "rows": result.rows,
        "created": len(result.created),
        "updated": len(result.updated),
        "unchanged": len(result.unchanged),
        "new_partners": result.new_partners,
        "extra_columns": result.extra_columns,
        "missing_columns": result.missing_columns,
        "errors": [
            {"row": e.row, "column": e.column, "message": message_to_json(e.message)}
            for e in result.errors
        ],
    }
    return summary, result.written


def _import_calls(
    session: Session,
    jobs: ImportJobs,
    job: ImportJob,
    data: bytes,
    *,
    in_zone: ZoneInfo,
    sek_per_eur: Decimal,
) -> tuple[dict[str, Any], bool]:
    from tracker.feeds.errors import FetchError
    from tracker.services.calls import import_calls, manual_source

    report = jobs.reporter(job)
    report("reading", 0, 0)
    now = jobs.clock()
    try:
        source = manual_source(session, "manual", now=now)
        outcome = import_calls(
            session,
            source,
            data,
            filename=job.filename,
            now=now,
            sek_per_eur=sek_per_eur,
            in_zone=in_zone,
            progress=report,
        )
    except FetchError as exc:
        raise _JobFailed(msg("The file could not be read: %(reason)s", reason=str(exc))) from None
    sheet, stats = outcome.sheet, outcome.stats
    summary = {
        "ok": True,
        "dry_run": job.dry_run,
        "rows": sheet.rows,
        "valid": len(sheet.records),
        "new": stats.new,
        "updated": stats.updated,
        "unchanged": stats.unchanged,
        "warnings": [str(w) for w in sheet.warnings],
        "errors": [
            {"row": e.row, "column": e.column, "message": message_to_json(e.message)}
            for e in sheet.errors
        ],
    }
    return summary, not job.dry_run

"""What the project and calls import pages share: taking an upload in, starting its import in
the background, and reading back how it goes (``tracker.imports``). Not a blueprint."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from flask import abort

from tracker import web
from tracker.i18n import Message, msg
from tracker.imports import SUFFIXES, ImportJob, ImportJobs, run_job
from tracker.spreadsheets import UnreadableSpreadsheet, check_xlsx_archive

IMPORTS_FOLDER = "imports"


def import_jobs() -> ImportJobs:
    state = web.app_state()
    return ImportJobs(state.settings.instance_path / IMPORTS_FOLDER, state.clock)


def refused_upload(data: bytes, filename: str) -> Message | None:
    """Why an upload is refused before it is saved (the cheap checks), or None."""
    suffix = Path(filename).suffix.lower()
    if suffix not in SUFFIXES:
        return msg("only .csv and .xlsx files can be imported")
    if not data:
        return msg("the file is empty")
    if suffix != ".csv":
        try:
            check_xlsx_archive(data)
        except UnreadableSpreadsheet as exc:
            return exc.message
    return None


def start_import(kind: str, data: bytes, filename: str, *, dry_run: bool) -> ImportJob:
    """Save the upload and start its import in the background; the job to follow."""
    state = web.app_state()
    user = web.require_user()
    jobs = import_jobs()
    job = jobs.create(kind, owner_id=user.id, data=data, filename=filename, dry_run=dry_run)
    settings = state.settings
    sek_per_eur = Decimal(str(settings.reports.sek_per_eur))
    # The page is done with the database: end its transaction (on SQLite a form post holds
    # the write lock) before the import begins its own.
    web.close_db()
    state.background.run(
        f"import-{job.id}",
        lambda: run_job(
            jobs,
            job,
            state.session_factory,
            actor_id=user.id,
            in_zone=settings.tz,
            sek_per_eur=sek_per_eur,
        ),
    )
    return job


def own_job(job_id: str, kind: str) -> ImportJob:
    """The signed-in user's import ``job_id`` of ``kind`` (404 for anyone else's)."""
    job = import_jobs().load(job_id, owner_id=web.require_user().id)
    if job is None or job.kind != kind:
        abort(404)
    return job

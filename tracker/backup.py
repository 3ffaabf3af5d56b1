"""Backups of the whole database (``tracker backup FILE``, ``tracker restore FILE``).

SQLite: SQLite's online backup API copies a consistent snapshot into a new SQLite file while
the web server and the scheduler go on writing. PostgreSQL: ``pg_dump --format=custom``, and
``pg_restore`` back. Both take the connection parameters from the database URL; the password
travels in ``PGPASSWORD``, so it never shows in the process list.

A backup is written to a temporary file beside FILE and renamed when complete, so a backup
that failed half-way never looks like a good one.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from tracker.errors import TrackerError

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


class BackupFailed(TrackerError):
    """A backup or restore could not be made; the message says why."""


def backup_database(url: str, target: Path) -> None:
    """Write a backup of the database at ``url`` to ``target`` (replaced if it exists)."""
    parsed = make_url(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        if parsed.get_backend_name() == "sqlite":
            _sqlite_copy(_sqlite_path(parsed, must_exist=True), partial)
        else:
            _run_pg("pg_dump", parsed, ["--format=custom", f"--file={partial}"])
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def restore_database(url: str, source: Path) -> None:
    """Replace everything in the database at ``url`` with the backup ``source``."""
    parsed = make_url(url)
    try:
        with source.open("rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupFailed(f"cannot read {source}: {exc.strerror}") from None
    if parsed.get_backend_name() == "sqlite":
        if head != SQLITE_MAGIC:
            raise BackupFailed(f"{source} is not an SQLite backup")
        _sqlite_copy(source, _sqlite_path(parsed, must_exist=False))
    else:
        if not head.startswith(PG_DUMP_MAGIC):
            raise BackupFailed(f"{source} is not a PostgreSQL backup (pg_dump --format=custom)")
        _run_pg(
            "pg_restore",
            parsed,
            [
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                str(source),
            ],
        )


def _sqlite_path(parsed: URL, *, must_exist: bool) -> Path:
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupFailed(f"cannot back up the SQLite database {database or ':memory:'!r}")
    path = Path(database)
    if must_exist and not path.is_file():
        raise BackupFailed(f"the database {path} does not exist")
    return path


def _sqlite_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with (
            closing(sqlite3.connect(source)) as src,
            closing(sqlite3.connect(target)) as dst,
        ):
            src.backup(dst)
    except sqlite3.Error as exc:
        raise BackupFailed(f"SQLite backup from {source} to {target} failed: {exc}") from None


def _run_pg(program: str, parsed: URL, arguments: list[str]) -> None:
    executable = shutil.which(program)
    if executable is None:
        raise BackupFailed(f"{program} not found: install the PostgreSQL client tools")
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    libpq_url = parsed.set(drivername="postgresql", password=None).render_as_string(
        hide_password=False
    )
    result = subprocess.run(
        [executable, f"--dbname={libpq_url}", *arguments],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit status {result.returncode}"
        raise BackupFailed(f"{program} failed: {reason}")

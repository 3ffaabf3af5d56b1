"""The SQLite database (password hashes, every decision) and the generated signing key are
readable by their owner only, whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tracker.config import settings_from_dict, signing_key
from tracker.db import make_engine


@pytest.fixture()
def permissive_umask() -> Iterator[None]:
    """The usual 022, under which files are world-readable unless made otherwise."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("permissive_umask")
def test_the_sqlite_file_and_its_journal_are_created_owner_only(tmp_path: Path) -> None:
    database = tmp_path / "instance" / "tracker.db"
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (secret TEXT)"))
        connection.execute(text("INSERT INTO t VALUES ('argon2 hash')"))
        wal = database.with_name("tracker.db-wal")
        assert wal.exists()
        assert mode(wal) == 0o600
    engine.dispose()
    assert mode(database) == 0o600


@pytest.mark.usefixtures("permissive_umask")
def test_an_existing_world_readable_database_is_made_owner_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = tmp_path / "tracker.db"
    database.touch(mode=0o644)
    os.chmod(database, 0o644)
    make_engine(f"sqlite:///{database}").dispose()
    assert mode(database) == 0o600
    assert "was readable by others" in caplog.text


@pytest.mark.usefixtures("permissive_umask")
def test_the_generated_signing_key_is_owner_only(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    settings = settings_from_dict({"database": {"url": "sqlite://"}}, instance_path=instance)
    key = signing_key(settings)
    key_file = instance / "secret_key"
    assert key_file.read_text(encoding="utf-8").strip() == key
    assert mode(key_file) == 0o600

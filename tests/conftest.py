"""Fixtures shared by the whole suite.

The suite runs on SQLite by default and on PostgreSQL when ``TRACKER_TEST_DATABASE_URL`` is
set. The schema is built once per run by the real migrations; each test's ``session`` lives in
a transaction that is rolled back afterwards, and the app under test joins that transaction.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import NOW
from tracker import security
from tracker.app import create_app
from tracker.cli import CliContext
from tracker.cli import main as cli_main
from tracker.clock import FixedClock
from tracker.config import Settings, settings_from_dict
from tracker.db import make_engine
from tracker.migrate import downgrade, upgrade
from tracker.models import Base

REPO_ROOT = Path(__file__).resolve().parent.parent


def samples_dir() -> Path:
    """Recorded real payloads (../shared/samples by default)."""
    return Path(os.environ.get("TRACKER_SAMPLES_DIR", REPO_ROOT.parent / "shared" / "samples"))


def shared_dir() -> Path:
    return samples_dir().parent


requires_samples = pytest.mark.skipif(
    not samples_dir().is_dir(),
    reason=(
        "real sample payloads not found: set TRACKER_SAMPLES_DIR or put shared/ beside the repo"
    ),
)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """argon2 with its production parameters takes 0.1-0.5 s per check, which adds up over
    hundreds of sign-ins; the suite tests what is around the hash, so it hashes cheaply.
    (The timing test of tests/test_sign_in.py puts the real parameters back.)"""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        )
        security._dummy_hash.cache_clear()
        yield
    security._dummy_hash.cache_clear()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TRACKER_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    if database_url.startswith("postgresql"):
        _reset_postgres(database_url)
    upgrade(database_url, "head")
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _reset_postgres(url: str) -> None:
    """Start from an empty schema whatever an earlier run left behind."""
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture()
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        if transaction.is_active:
            transaction.rollback()


@pytest.fixture()
def session_factory(connection: Connection) -> sessionmaker[Session]:
    """Sessions that join the test's transaction: their commits become savepoints."""
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture()
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


def local_fetch_folders() -> list[str]:
    """Where tests keep files that sources read through file:// URLs."""
    return [tempfile.gettempdir(), str(Path(__file__).parent / "fixtures"), str(samples_dir())]


# The tests' instance folder (uploads waiting for their import), never the checkout's.
TEST_INSTANCE = Path(tempfile.mkdtemp(prefix="tracker-test-instance-"))
atexit.register(shutil.rmtree, TEST_INSTANCE, True)


def make_settings(database_url: str, **sections: dict[str, Any]) -> Settings:
    raw: dict[str, Any] = {
        "app": {"secret_key": "test-secret-key-not-for-production"},
        "database": {"url": database_url},
        "mail": {"base_url": "http://tracker.test"},
        # The suite's feeds are served from 127.0.0.1 and temporary folders, which the
        # default refuses (tests/feeds/test_addresses.py shows it).
        "fetch": {"allow_private_addresses": True, "allow_local_folders": local_fetch_folders()},
    }
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return settings_from_dict(raw, instance_path=TEST_INSTANCE)


@pytest.fixture()
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture()
def clock() -> FixedClock:
    """The suite's "now": a fixed moment that tests move on purpose, never the wall clock."""
    return FixedClock(NOW)


@pytest.fixture()
def app(settings: Settings, session_factory: sessionmaker[Session], clock: FixedClock) -> Flask:
    return create_app(settings, session_factory=session_factory, testing=True, clock=clock)


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def csrf(client: FlaskClient) -> str:
    """A CSRF token installed in the client's session, for form posts."""
    token = "test-csrf-token"
    with client.session_transaction() as flask_session:
        flask_session["csrf_token"] = token
    return token


class TrackerCli:
    """Runs the ``tracker`` command against a config file that points at the test database."""

    def __init__(self, config_file: Path, clock: FixedClock) -> None:
        self.config_file = config_file
        self.clock = clock
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None) -> Result:
        return self.runner.invoke(
            cli_main,
            ["--config", str(self.config_file), *args],
            input=input,
            obj=CliContext(clock=self.clock),
            catch_exceptions=False,
        )


@pytest.fixture()
def runner(
    tmp_path: Path, database_url: str, engine: Engine, clock: FixedClock
) -> Iterator[TrackerCli]:
    """The CLI on the test database. Its commits are real, so every table is emptied after."""
    config_file = tmp_path / "config.toml"
    folders = ", ".join(f'"{folder}"' for folder in local_fetch_folders())
    config_file.write_text(
        f'[app]\nsecret_key = "cli-test"\n[database]\nurl = "{database_url}"\n'
        f"[fetch]\nallow_private_addresses = true\nallow_local_folders = [{folders}]\n",
        encoding="utf-8",
    )
    yield TrackerCli(config_file, clock)
    empty_all_tables(engine)


def empty_all_tables(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


__all__ = ["downgrade", "requires_samples", "samples_dir", "shared_dir"]

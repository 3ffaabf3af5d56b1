"""Engine and session factory. Callers own the session scope: a web request, a job or a CLI
command opens a session, calls services and commits."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
T = TypeVar("T")

# Execution option naming how an SQLite transaction begins: "DEFERRED" (default) or "IMMEDIATE".
SQLITE_BEGIN_OPTION = "sqlite_begin"


def for_writing(session: Session) -> Session:
    """Make SQLite take the write lock when ``session`` begins (PostgreSQL ignores this).

    A deferred SQLite transaction that reads and then writes fails at once with "database is
    locked" when another writer committed in between, whatever the busy timeout; an immediate
    one waits for the lock instead. Short units of work that will write (a web form post) use
    this; long-running jobs do not, so they never hold the lock while they download.
    Call before the session's first query."""
    session.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE"})
    return session


def writing_sessions(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """The same sessions, beginning with the SQLite write lock taken (waiting for it up to the
    busy timeout) instead of failing when a reading transaction later writes.

    Scheduled jobs and background fetches use these: on the embedded SQLite default several
    jobs that fire in the same second would otherwise meet "database is locked". A factory
    bound to a connection (a test's transaction) or to PostgreSQL is returned as it is."""
    bind = factory.kw.get("bind")
    if isinstance(bind, Engine) and bind.dialect.name == "sqlite":
        options = {SQLITE_BEGIN_OPTION: "IMMEDIATE"}
        return sessionmaker(**{**factory.kw, "bind": bind.execution_options(**options)})
    return factory


def is_busy_error(exc: BaseException) -> bool:
    """True for SQLite's "database is locked"/"busy" and PostgreSQL's lock and serialisation
    failures: errors that a later try of the same unit of work can get past."""
    if not isinstance(exc, OperationalError | DBAPIError):
        return False
    text = str(getattr(exc, "orig", exc)).lower()
    return any(
        marker in text
        for marker in ("database is locked", "database is busy", "deadlock", "could not serialize")
    )


def retry_when_busy(
    work: Callable[[], T],
    *,
    attempts: int = 6,
    first_pause: float = 0.2,
    sleep: Callable[[float], None] = time.sleep,
    what: str = "database write",
) -> T:
    """Run ``work`` (a whole unit of work that opens and commits its own session) again when
    the database is busy, with growing pauses; other errors and the last busy one propagate."""
    pause = first_pause
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except DBAPIError as exc:
            if not is_busy_error(exc) or attempt == attempts:
                raise
            log.warning(
                "%s: database busy (try %d of %d), waiting %.1f s", what, attempt, attempts, pause
            )
            sleep(pause)
            pause *= 2
    raise AssertionError("unreachable")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL and real transactions."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT and defers BEGIN; take it over as the
    # SQLAlchemy documentation recommends, so SQLite behaves like PostgreSQL for our code.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        if mode not in ("DEFERRED", "IMMEDIATE"):
            raise ValueError(f"unknown SQLite transaction mode {mode!r}")
        connection.exec_driver_sql(f"BEGIN {mode}")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()

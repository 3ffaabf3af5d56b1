from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect

from tracker.db import make_engine
from tracker.migrate import alembic_config, current_revision, downgrade, heads, upgrade
from tracker.models import Base


def test_exactly_one_head() -> None:
    assert len(heads()) == 1


def test_models_and_migrations_do_not_drift(engine: Engine, database_url: str) -> None:
    # The session fixture's engine is already at head; alembic check compares it to the models.
    command.check(alembic_config(database_url))


def test_upgrade_to_head_and_back_to_base(engine: Engine, database_url: str) -> None:
    # Runs against the shared test database, so it restores head when done.
    try:
        downgrade(database_url, "base")
        probe = make_engine(database_url)
        names = set(inspect(probe).get_table_names()) - {"alembic_version"}
        probe.dispose()
        assert names == set()
        upgrade(database_url, "head")
        probe = make_engine(database_url)
        names = set(inspect(probe).get_table_names())
        probe.dispose()
        assert set(Base.metadata.tables) <= names
        assert current_revision(database_url) == heads()[0]
    finally:
        upgrade(database_url, "head")

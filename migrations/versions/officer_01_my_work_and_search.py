"""my work and search: visits to the start page, calls' texts as stems, indexes for the
catalogue of all calls

Revision ID: officer_01
Revises: auth_01
Create Date: 2026-12-04 18:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

import tracker.models.base

revision: str = 'officer_01'
down_revision: str | Sequence[str] | None = 'auth_01'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('call_terms',
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('title_terms', sa.Text(), nullable=False),
    sa.Column('body_terms', sa.Text(), nullable=False),
    sa.Column('refreshed_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(
        ['call_id'], ['funding_calls.id'],
        name=op.f('fk_call_terms_call_id_funding_calls'), ondelete='CASCADE',
    ),
    sa.PrimaryKeyConstraint('call_id', name=op.f('pk_call_terms'))
    )
    op.create_table('user_visits',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('last_visit_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('previous_visit_at', tracker.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(
        ['user_id'], ['users.id'], name=op.f('fk_user_visits_user_id_users'), ondelete='CASCADE'
    ),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_user_visits'))
    )
    # Plain CREATE INDEX, not a batch: SQLite must keep funding_calls' search triggers.
    op.create_index('ix_funding_calls_gate_code', 'funding_calls', ['gate_code', 'id'])
    op.create_index('ix_funding_calls_first_seen_at', 'funding_calls', ['first_seen_at'])
    op.create_index('ix_call_sources_source_call', 'call_sources', ['source_id', 'call_id'])
    _create_call_search_stems()
    _index_existing_calls()


def downgrade() -> None:
    _drop_call_search_stems()
    op.drop_index('ix_call_sources_source_call', table_name='call_sources')
    op.drop_index('ix_funding_calls_first_seen_at', table_name='funding_calls')
    op.drop_index('ix_funding_calls_gate_code', table_name='funding_calls')
    op.drop_table('user_visits')
    op.drop_table('call_terms')


# The stems' full-text index, outside the models like the review migration's call_search:
# on SQLite an FTS5 table over call_terms kept in step by triggers, on PostgreSQL a generated
# tsvector column (title stems weighted A, description stems D) with a GIN index.
TERMS = "title_terms, body_terms"


def _create_call_search_stems() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(
            f"CREATE VIRTUAL TABLE call_search_stems USING fts5({TERMS}, "
            "content='call_terms', content_rowid='call_id', "
            "tokenize='unicode61 remove_diacritics 0')"
        )
        op.execute(
            "CREATE TRIGGER call_search_stems_after_insert AFTER INSERT ON call_terms BEGIN "
            f"INSERT INTO call_search_stems(rowid, {TERMS}) "
            "VALUES (new.call_id, new.title_terms, new.body_terms); END"
        )
        op.execute(
            "CREATE TRIGGER call_search_stems_after_delete AFTER DELETE ON call_terms BEGIN "
            f"INSERT INTO call_search_stems(call_search_stems, rowid, {TERMS}) "
            "VALUES ('delete', old.call_id, old.title_terms, old.body_terms); END"
        )
        op.execute(
            "CREATE TRIGGER call_search_stems_after_update AFTER UPDATE ON call_terms BEGIN "
            f"INSERT INTO call_search_stems(call_search_stems, rowid, {TERMS}) "
            "VALUES ('delete', old.call_id, old.title_terms, old.body_terms); "
            f"INSERT INTO call_search_stems(rowid, {TERMS}) "
            "VALUES (new.call_id, new.title_terms, new.body_terms); END"
        )
    elif dialect == "postgresql":
        op.execute(
            "ALTER TABLE call_terms ADD COLUMN call_search_vector tsvector GENERATED ALWAYS AS ("
            "setweight(to_tsvector('simple', title_terms), 'A') || "
            "setweight(to_tsvector('simple', body_terms), 'D')) STORED"
        )
        op.execute(
            "CREATE INDEX call_search_vector_gin ON call_terms USING gin (call_search_vector)"
        )


def _drop_call_search_stems() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS call_search_stems_after_{trigger}")
        op.execute("DROP TABLE IF EXISTS call_search_stems")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS call_search_vector_gin")
        op.execute("ALTER TABLE call_terms DROP COLUMN IF EXISTS call_search_vector")


def _index_existing_calls() -> None:
    # The calls stored before this revision; afterwards ingestion keeps the terms current.
    from tracker.clock import system_clock
    from tracker.services.search import refresh_search_terms

    session = Session(bind=op.get_bind())
    refresh_search_terms(session, None, now=system_clock())
    session.flush()

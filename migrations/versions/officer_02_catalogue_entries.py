"""catalogue entries: a narrow row per call for the catalogue of all calls; on PostgreSQL an
index of the calls' title stems for ranking search results

Revision ID: officer_02
Revises: hostile_01
Create Date: 2026-12-05 05:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

import tracker.models.base

revision: str = 'officer_02'
down_revision: str | Sequence[str] | None = 'hostile_01'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('catalogue_entries',
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('opens_at', tracker.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_deadline_at', tracker.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('active_until', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('is_continuous', sa.Boolean(), nullable=False),
    sa.Column('is_announced', sa.Boolean(), nullable=False),
    sa.Column('is_withdrawn', sa.Boolean(), nullable=False),
    sa.Column('gate_code', sa.String(length=64), nullable=True),
    sa.Column('programme_code', sa.String(length=100), nullable=True),
    sa.Column('programme_label', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(
        ['call_id'], ['funding_calls.id'],
        name=op.f('fk_catalogue_entries_call_id_funding_calls'), ondelete='CASCADE',
    ),
    sa.PrimaryKeyConstraint('call_id', name=op.f('pk_catalogue_entries'))
    )
    op.create_index('ix_catalogue_entries_active', 'catalogue_entries', [
        'active_until', 'is_withdrawn', 'opens_at', 'last_deadline_at', 'is_continuous',
        'is_announced', 'gate_code', 'programme_code',
    ])
    op.create_index('ix_catalogue_entries_gate', 'catalogue_entries', ['gate_code', 'call_id'])
    op.create_index(
        'ix_catalogue_entries_programme', 'catalogue_entries',
        ['programme_code', 'programme_label', 'call_id'],
    )
    if op.get_bind().dialect.name == "postgresql":
        # tracker.services.search.TITLE_VECTOR; outside the models like call_search_vector.
        op.execute(
            "CREATE INDEX call_search_title_gin ON call_terms "
            "USING gin (to_tsvector('simple', title_terms))"
        )
    _fill_entries()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS call_search_title_gin")
    op.drop_index('ix_catalogue_entries_programme', table_name='catalogue_entries')
    op.drop_index('ix_catalogue_entries_gate', table_name='catalogue_entries')
    op.drop_index('ix_catalogue_entries_active', table_name='catalogue_entries')
    op.drop_table('catalogue_entries')


def _fill_entries() -> None:
    # The calls stored before this revision; afterwards the flush and matching keep them.
    from tracker.services.catalogue_entries import refresh_catalogue_entries

    session = Session(bind=op.get_bind())
    refresh_catalogue_entries(session, None)
    session.flush()

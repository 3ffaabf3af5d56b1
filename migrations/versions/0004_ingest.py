"""ingest: source links, change history, quarantine, more call fields

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 08:17:14.068695
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sqlalchemy.dialects import postgresql

import tracker.models.base

revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('call_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=32), nullable=False),
    sa.Column('old_value', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('new_value', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('changed_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['call_id'], ['funding_calls.id'], name=op.f('fk_call_changes_call_id_funding_calls'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_call_changes_source_id_sources'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_changes'))
    )
    with op.batch_alter_table('call_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_changes_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_changes_changed_at'), ['changed_at'], unique=False)

    op.create_table('call_sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=500), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('record', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('first_seen_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', tracker.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['call_id'], ['funding_calls.id'], name=op.f('fk_call_sources_call_id_funding_calls'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_call_sources_source_id_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_sources')),
    sa.UniqueConstraint('source_id', 'external_id', name=op.f('uq_call_sources_source_id_external_id'))
    )
    with op.batch_alter_table('call_sources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_sources_call_id'), ['call_id'], unique=False)

    op.create_table('quarantined_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('external_id', sa.String(length=500), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('raw', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('first_seen_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_quarantined_items_source_id_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quarantined_items')),
    sa.UniqueConstraint('source_id', 'fingerprint', name=op.f('uq_quarantined_items_source_id_fingerprint'))
    )
    with op.batch_alter_table('quarantined_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quarantined_items_first_seen_at'), ['first_seen_at'], unique=False)

    with op.batch_alter_table('call_deadlines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_date_only', sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table('fetch_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warnings', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, server_default=sa.text("'[]'")))

    with op.batch_alter_table('funding_calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('identifier_key', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('url_key', sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column('parent_identifier', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('organiser', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('other_titles', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column('programme_divisions', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('published_at', tracker.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('opening_note', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('budget_total', sa.Numeric(precision=18, scale=2), nullable=True))
        batch_op.add_column(sa.Column('budget_min', sa.Numeric(precision=18, scale=2), nullable=True))
        batch_op.add_column(sa.Column('budget_max', sa.Numeric(precision=18, scale=2), nullable=True))
        batch_op.add_column(sa.Column('region', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('eligible_applicants', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('cross_cutting_priorities', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('links', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('warnings', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('withdrawn_at', tracker.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_funding_calls_identifier_key'), ['identifier_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_funding_calls_url_key'), ['url_key'], unique=False)

    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fetch_requested_at', tracker.models.base.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_column('fetch_requested_at')

    with op.batch_alter_table('funding_calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_funding_calls_url_key'))
        batch_op.drop_index(batch_op.f('ix_funding_calls_identifier_key'))
        batch_op.drop_column('withdrawn_at')
        batch_op.drop_column('warnings')
        batch_op.drop_column('links')
        batch_op.drop_column('cross_cutting_priorities')
        batch_op.drop_column('eligible_applicants')
        batch_op.drop_column('region')
        batch_op.drop_column('budget_max')
        batch_op.drop_column('budget_min')
        batch_op.drop_column('budget_total')
        batch_op.drop_column('opening_note')
        batch_op.drop_column('published_at')
        batch_op.drop_column('programme_divisions')
        batch_op.drop_column('other_titles')
        batch_op.drop_column('organiser')
        batch_op.drop_column('parent_identifier')
        batch_op.drop_column('url_key')
        batch_op.drop_column('identifier_key')

    with op.batch_alter_table('fetch_runs', schema=None) as batch_op:
        batch_op.drop_column('warnings')

    with op.batch_alter_table('call_deadlines', schema=None) as batch_op:
        batch_op.drop_column('is_date_only')

    with op.batch_alter_table('quarantined_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quarantined_items_first_seen_at'))

    op.drop_table('quarantined_items')
    with op.batch_alter_table('call_sources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_sources_call_id'))

    op.drop_table('call_sources')
    with op.batch_alter_table('call_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_changes_changed_at'))
        batch_op.drop_index(batch_op.f('ix_call_changes_call_id'))

    op.drop_table('call_changes')

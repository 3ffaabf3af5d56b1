"""foundation

Revision ID: 0001
Revises: 
Create Date: 2026-11-21 08:03:48.731783
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.models.base
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('funding_calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('identifier', sa.String(length=300), nullable=True),
    sa.Column('call_identifier', sa.String(length=300), nullable=True),
    sa.Column('call_title', sa.Text(), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('title_sv', sa.Text(), nullable=True),
    sa.Column('programme_code', sa.String(length=100), nullable=True),
    sa.Column('programme_label', sa.String(length=300), nullable=True),
    sa.Column('type_of_action', sa.String(length=300), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('description_html', sa.Text(), nullable=True),
    sa.Column('description_text', sa.Text(), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('opens_at', tracker.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('deadline_model', sa.String(length=32), nullable=True),
    sa.Column('budget_total_eur', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('budget_min_eur', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('budget_max_eur', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('expected_grants', sa.Integer(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('cofinancing_rate', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('keywords', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('tags', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('raw', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('is_withdrawn', sa.Boolean(), nullable=False),
    sa.Column('first_seen_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('gate_code', sa.String(length=64), nullable=True),
    sa.Column('gate_reason', sa.Text(), nullable=True),
    sa.Column('matched_at', tracker.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funding_calls'))
    )
    with op.batch_alter_table('funding_calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_funding_calls_identifier'), ['identifier'], unique=False)
        batch_op.create_index(batch_op.f('ix_funding_calls_programme_code'), ['programme_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_funding_calls_updated_at'), ['updated_at'], unique=False)

    op.create_table('job_leases',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=True),
    sa.Column('expires_at', tracker.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_leases'))
    )
    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_name', sa.String(length=100), nullable=False),
    sa.Column('scheduled_for', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('started_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', tracker.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs')),
    sa.UniqueConstraint('job_name', 'scheduled_for', name=op.f('uq_job_runs_job_name_scheduled_for'))
    )
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_runs_job_name'), ['job_name'], unique=False)

    op.create_table('login_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('remote_addr', sa.String(length=64), nullable=False),
    sa.Column('attempted_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts'))
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_attempts_attempted_at'), ['attempted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_attempts_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_attempts_remote_addr'), ['remote_addr'], unique=False)

    op.create_table('offices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('name_sv', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('shared_mailbox', sa.String(length=320), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offices')),
    sa.UniqueConstraint('slug', name=op.f('uq_offices_slug'))
    )
    op.create_table('sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('ft-search', 'ft-bulk', 'rss', 'vinnova', 'manual', name='sourcekind', native_enum=False, length=32), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('every', sa.String(length=16), nullable=False),
    sa.Column('is_enabled', sa.Boolean(), nullable=False),
    sa.Column('settings', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('etag', sa.String(length=500), nullable=True),
    sa.Column('last_modified', sa.String(length=100), nullable=True),
    sa.Column('created_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sources')),
    sa.UniqueConstraint('name', name=op.f('uq_sources_name'))
    )
    op.create_table('call_deadlines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('deadline_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('stage', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['call_id'], ['funding_calls.id'], name=op.f('fk_call_deadlines_call_id_funding_calls'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_deadlines'))
    )
    with op.batch_alter_table('call_deadlines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_deadlines_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_deadlines_deadline_at'), ['deadline_at'], unique=False)

    op.create_table('fetch_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('started_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', tracker.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.Enum('running', 'succeeded', 'failed', 'not_modified', name='fetchstatus', native_enum=False, length=32), nullable=False),
    sa.Column('new_count', sa.Integer(), nullable=False),
    sa.Column('updated_count', sa.Integer(), nullable=False),
    sa.Column('unchanged_count', sa.Integer(), nullable=False),
    sa.Column('quarantined_count', sa.Integer(), nullable=False),
    sa.Column('withdrawn_count', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_fetch_runs_source_id_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fetch_runs'))
    )
    with op.batch_alter_table('fetch_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fetch_runs_source_id'), ['source_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('admin', 'editor', 'viewer', name='role', native_enum=False, length=16), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=True),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('calendar_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', tracker.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_users_office_id_offices'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('calendar_token', name=op.f('uq_users_calendar_token')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=100), nullable=False),
    sa.Column('entity_type', sa.String(length=64), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=True),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_events_actor_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)

    op.create_table('strategy_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('gates', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_strategy_profiles_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_strategy_profiles')),
    sa.UniqueConstraint('name', 'version', name=op.f('uq_strategy_profiles_name_version'))
    )
    with op.batch_alter_table('strategy_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_strategy_profiles_is_active'), ['is_active'], unique=False)

    op.create_table('focus_areas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('name_sv', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('description_sv', sa.Text(), nullable=False),
    sa.Column('description_en', sa.Text(), nullable=False),
    sa.Column('vocabulary', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('negative_terms', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('programme_priors', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('threshold', sa.Double(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('is_retired', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['profile_id'], ['strategy_profiles.id'], name=op.f('fk_focus_areas_profile_id_strategy_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_focus_areas')),
    sa.UniqueConstraint('profile_id', 'slug', name=op.f('uq_focus_areas_profile_id_slug'))
    )
    with op.batch_alter_table('focus_areas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_focus_areas_profile_id'), ['profile_id'], unique=False)

    op.create_table('call_matches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('focus_area_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Double(), nullable=False),
    sa.Column('is_match', sa.Boolean(), nullable=False),
    sa.Column('evidence', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('matched_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['funding_calls.id'], name=op.f('fk_call_matches_call_id_funding_calls'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['focus_area_id'], ['focus_areas.id'], name=op.f('fk_call_matches_focus_area_id_focus_areas'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_matches')),
    sa.UniqueConstraint('call_id', 'focus_area_id', name=op.f('uq_call_matches_call_id_focus_area_id'))
    )
    with op.batch_alter_table('call_matches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_matches_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_matches_focus_area_id'), ['focus_area_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_matches_is_match'), ['is_match'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('call_matches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_matches_is_match'))
        batch_op.drop_index(batch_op.f('ix_call_matches_focus_area_id'))
        batch_op.drop_index(batch_op.f('ix_call_matches_call_id'))

    op.drop_table('call_matches')
    with op.batch_alter_table('focus_areas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_focus_areas_profile_id'))

    op.drop_table('focus_areas')
    with op.batch_alter_table('strategy_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_strategy_profiles_is_active'))

    op.drop_table('strategy_profiles')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))

    op.drop_table('audit_events')
    op.drop_table('users')
    with op.batch_alter_table('fetch_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fetch_runs_source_id'))

    op.drop_table('fetch_runs')
    with op.batch_alter_table('call_deadlines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_deadlines_deadline_at'))
        batch_op.drop_index(batch_op.f('ix_call_deadlines_call_id'))

    op.drop_table('call_deadlines')
    op.drop_table('sources')
    op.drop_table('offices')
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_attempts_remote_addr'))
        batch_op.drop_index(batch_op.f('ix_login_attempts_email'))
        batch_op.drop_index(batch_op.f('ix_login_attempts_attempted_at'))

    op.drop_table('login_attempts')
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_runs_job_name'))

    op.drop_table('job_runs')
    op.drop_table('job_leases')
    with op.batch_alter_table('funding_calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_funding_calls_updated_at'))
        batch_op.drop_index(batch_op.f('ix_funding_calls_programme_code'))
        batch_op.drop_index(batch_op.f('ix_funding_calls_identifier'))

    op.drop_table('funding_calls')


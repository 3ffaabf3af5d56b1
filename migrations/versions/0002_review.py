"""review

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 08:08:40.049636
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.models.base


revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('call_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('new', 'interested', 'preparing', 'submitted', 'awarded', 'not_funded', 'withdrawn', 'dismissed', name='triagestate', native_enum=False, length=32), nullable=False),
    sa.Column('dismiss_reason', sa.Enum('not_our_goals', 'not_eligible', 'no_cofinancing', 'no_partner', 'deadline_too_close', 'no_capacity', 'other', name='dismissreason', native_enum=False, length=32), nullable=True),
    sa.Column('office_id', sa.Integer(), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_call_reviews_assignee_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['call_id'], ['funding_calls.id'], name=op.f('fk_call_reviews_call_id_funding_calls'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_call_reviews_office_id_offices'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_reviews')),
    sa.UniqueConstraint('call_id', name=op.f('uq_call_reviews_call_id'))
    )
    with op.batch_alter_table('call_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_reviews_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_reviews_office_id'), ['office_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_reviews_state'), ['state'], unique=False)

    op.create_table('comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_comments_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['call_id'], ['funding_calls.id'], name=op.f('fk_comments_call_id_funding_calls'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comments'))
    )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comments_call_id'), ['call_id'], unique=False)

    op.create_table('milestones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['funding_calls.id'], name=op.f('fk_milestones_call_id_funding_calls'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_milestones_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_milestones'))
    )
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_milestones_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_milestones_due_on'), ['due_on'], unique=False)

    op.create_table('saved_filters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('query', sa.Text(), nullable=False),
    sa.Column('created_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_saved_filters_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_filters')),
    sa.UniqueConstraint('user_id', 'name', name=op.f('uq_saved_filters_user_id_name'))
    )
    with op.batch_alter_table('saved_filters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_filters_user_id'), ['user_id'], unique=False)

    op.create_table('triage_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('from_state', sa.Enum('new', 'interested', 'preparing', 'submitted', 'awarded', 'not_funded', 'withdrawn', 'dismissed', name='triagestate', native_enum=False, length=32), nullable=True),
    sa.Column('to_state', sa.Enum('new', 'interested', 'preparing', 'submitted', 'awarded', 'not_funded', 'withdrawn', 'dismissed', name='triagestate', native_enum=False, length=32), nullable=True),
    sa.Column('reason', sa.Enum('not_our_goals', 'not_eligible', 'no_cofinancing', 'no_partner', 'deadline_too_close', 'no_capacity', 'other', name='dismissreason', native_enum=False, length=32), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('office_id', sa.Integer(), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_triage_events_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_triage_events_assignee_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['call_id'], ['funding_calls.id'], name=op.f('fk_triage_events_call_id_funding_calls'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_triage_events_office_id_offices'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_triage_events'))
    )
    with op.batch_alter_table('triage_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_triage_events_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_triage_events_call_id'), ['call_id'], unique=False)

    op.create_table('watches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('created_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['funding_calls.id'], name=op.f('fk_watches_call_id_funding_calls'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_watches_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_watches')),
    sa.UniqueConstraint('user_id', 'call_id', name=op.f('uq_watches_user_id_call_id'))
    )
    with op.batch_alter_table('watches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_watches_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_watches_user_id'), ['user_id'], unique=False)

    op.create_table('mentions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_mentions_comment_id_comments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mentions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentions')),
    sa.UniqueConstraint('comment_id', 'user_id', name=op.f('uq_mentions_comment_id_user_id'))
    )
    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentions_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mentions_user_id'))

    op.drop_table('mentions')
    with op.batch_alter_table('watches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_watches_user_id'))
        batch_op.drop_index(batch_op.f('ix_watches_call_id'))

    op.drop_table('watches')
    with op.batch_alter_table('triage_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_triage_events_call_id'))
        batch_op.drop_index(batch_op.f('ix_triage_events_at'))

    op.drop_table('triage_events')
    with op.batch_alter_table('saved_filters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_filters_user_id'))

    op.drop_table('saved_filters')
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_milestones_due_on'))
        batch_op.drop_index(batch_op.f('ix_milestones_call_id'))

    op.drop_table('milestones')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comments_call_id'))

    op.drop_table('comments')
    with op.batch_alter_table('call_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_reviews_state'))
        batch_op.drop_index(batch_op.f('ix_call_reviews_office_id'))
        batch_op.drop_index(batch_op.f('ix_call_reviews_assignee_id'))

    op.drop_table('call_reviews')

"""digest: subscriptions, digests (one per subscription and ISO week), their items, dismissals

Revision ID: 0003
Revises: a7c3e5f91d20
Create Date: 2026-11-21 08:13:37.138535
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.models.base
from sqlalchemy.dialects import postgresql

revision: str = '0003'
down_revision: str | Sequence[str] | None = 'a7c3e5f91d20'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    
    op.create_table('digest_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('office_id', sa.Integer(), nullable=True),
    sa.Column('focus_area_slugs', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('office_slugs', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('min_score', sa.Integer(), nullable=False),
    sa.Column('closing_soon_days', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('send_when_empty', sa.Boolean(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('last_sent_at', tracker.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_digest_week', sa.String(length=8), nullable=True),
    sa.Column('bounced_address', sa.String(length=320), nullable=True),
    sa.Column('bounced_at', tracker.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('bounce_error', sa.Text(), nullable=True),
    sa.Column('created_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(user_id IS NULL) <> (office_id IS NULL)', name=op.f('ck_digest_subscriptions_one_of_user_or_office')),
    sa.CheckConstraint('closing_soon_days >= 1 AND closing_soon_days <= 365', name=op.f('ck_digest_subscriptions_horizon_range')),
    sa.CheckConstraint('min_score >= 0 AND min_score <= 100', name=op.f('ck_digest_subscriptions_min_score_range')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_digest_subscriptions_office_id_offices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_digest_subscriptions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_subscriptions')),
    sa.UniqueConstraint('office_id', name=op.f('uq_digest_subscriptions_office_id')),
    sa.UniqueConstraint('user_id', name=op.f('uq_digest_subscriptions_user_id'))
    )
    with op.batch_alter_table('digest_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_digest_subscriptions_is_active'), ['is_active'], unique=False)

    op.create_table('digests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('iso_week', sa.String(length=8), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sending', 'sent', 'failed_temporary', 'failed_permanent', name='digeststatus', native_enum=False, length=32), nullable=False),
    sa.Column('period_start', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('period_end', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('counts', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('text_body', sa.Text(), nullable=False),
    sa.Column('html_body', sa.Text(), nullable=False),
    sa.Column('message_id', sa.String(length=300), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', tracker.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_attempt_at', tracker.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', tracker.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['subscription_id'], ['digest_subscriptions.id'], name=op.f('fk_digests_subscription_id_digest_subscriptions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digests')),
    sa.UniqueConstraint('message_id', name=op.f('uq_digests_message_id')),
    sa.UniqueConstraint('subscription_id', 'iso_week', name=op.f('uq_digests_subscription_id_iso_week'))
    )
    with op.batch_alter_table('digests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_digests_next_attempt_at'), ['next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_digests_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_digests_subscription_id'), ['subscription_id'], unique=False)

    op.create_table('digest_dismissals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('focus_area_id', sa.Integer(), nullable=True),
    sa.Column('created_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['funding_calls.id'], name=op.f('fk_digest_dismissals_call_id_funding_calls'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['focus_area_id'], ['focus_areas.id'], name=op.f('fk_digest_dismissals_focus_area_id_focus_areas'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['subscription_id'], ['digest_subscriptions.id'], name=op.f('fk_digest_dismissals_subscription_id_digest_subscriptions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_digest_dismissals_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_dismissals')),
    sa.UniqueConstraint('subscription_id', 'call_id', name=op.f('uq_digest_dismissals_subscription_id_call_id'))
    )
    with op.batch_alter_table('digest_dismissals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_digest_dismissals_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_digest_dismissals_subscription_id'), ['subscription_id'], unique=False)

    op.create_table('digest_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest_id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('section', sa.Enum('new', 'changed', 'closing', 'mention', 'assignment', 'baseline', name='digestsection', native_enum=False, length=32), nullable=False),
    sa.Column('snapshot', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['funding_calls.id'], name=op.f('fk_digest_items_call_id_funding_calls'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['digest_id'], ['digests.id'], name=op.f('fk_digest_items_digest_id_digests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_items')),
    sa.UniqueConstraint('digest_id', 'call_id', 'section', name=op.f('uq_digest_items_digest_id_call_id_section'))
    )
    with op.batch_alter_table('digest_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_digest_items_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_digest_items_digest_id'), ['digest_id'], unique=False)




def downgrade() -> None:
    
    with op.batch_alter_table('digest_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_digest_items_digest_id'))
        batch_op.drop_index(batch_op.f('ix_digest_items_call_id'))

    op.drop_table('digest_items')
    with op.batch_alter_table('digest_dismissals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_digest_dismissals_subscription_id'))
        batch_op.drop_index(batch_op.f('ix_digest_dismissals_call_id'))

    op.drop_table('digest_dismissals')
    with op.batch_alter_table('digests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_digests_subscription_id'))
        batch_op.drop_index(batch_op.f('ix_digests_status'))
        batch_op.drop_index(batch_op.f('ix_digests_next_attempt_at'))

    op.drop_table('digests')
    with op.batch_alter_table('digest_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_digest_subscriptions_is_active'))

    op.drop_table('digest_subscriptions')


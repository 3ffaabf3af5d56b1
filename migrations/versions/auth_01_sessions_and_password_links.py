"""auth: a session nonce per user (sign-out ends sessions) and mailed password links

Revision ID: auth_01
Revises: interreg_01
Create Date: 2026-12-04 18:10:00
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.models.base


revision: str = 'auth_01'
down_revision: str | Sequence[str] | None = 'interreg_01'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('password_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Enum('invitation', 'password_reset', name='tokenpurpose', native_enum=False, length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', tracker.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_password_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_tokens'))
    )
    with op.batch_alter_table('password_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_tokens_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_nonce', sa.String(length=32), nullable=False, server_default=''))
    # Every existing account gets its own nonce; sessions signed before this release carry
    # none and end, so everyone signs in once more.
    connection = op.get_bind()
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('session_nonce', sa.String))
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(
            users.update().where(users.c.id == user_id).values(session_nonce=secrets.token_hex(16))
        )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('session_nonce', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_nonce')

    with op.batch_alter_table('password_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_password_tokens_user_id'))

    op.drop_table('password_tokens')

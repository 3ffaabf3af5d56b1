"""interreg: calls' eligible area as data, and the parameters of a call's gate

Revision ID: interreg_01
Revises: ae13e7664237
Create Date: 2026-12-04 18:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'interreg_01'
down_revision: str | Sequence[str] | None = 'ae13e7664237'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('funding_calls', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('eligible_area', _JSON, nullable=False, server_default=sa.text("'{}'"))
        )
        batch_op.add_column(sa.Column('gate_params', _JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('funding_calls', schema=None) as batch_op:
        batch_op.drop_column('gate_params')
        batch_op.drop_column('eligible_area')

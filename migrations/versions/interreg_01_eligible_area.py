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


# Plain ALTER TABLE, not batch mode: on SQLite a batch operation copies funding_calls into a
# new table, which drops the free-text search triggers of revision ae13e7664237.


def upgrade() -> None:
    op.add_column(
        'funding_calls',
        sa.Column('eligible_area', _JSON, nullable=False, server_default=sa.text("'{}'")),
    )
    op.add_column('funding_calls', sa.Column('gate_params', _JSON, nullable=True))


def downgrade() -> None:
    op.drop_column('funding_calls', 'gate_params')
    op.drop_column('funding_calls', 'eligible_area')

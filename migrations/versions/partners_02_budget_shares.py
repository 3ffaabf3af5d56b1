"""partners: each consortium member's share of the project budget, and ours

Revision ID: partners_02
Revises: officer_02
Create Date: 2026-12-05 05:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'partners_02'
down_revision: str | Sequence[str] | None = 'officer_02'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('consortium_drafts', sa.Column('our_budget_share', sa.Numeric(5, 2)))
    op.add_column('consortium_members', sa.Column('budget_share', sa.Numeric(5, 2)))


def downgrade() -> None:
    with op.batch_alter_table('consortium_members') as batch:
        batch.drop_column('budget_share')
    with op.batch_alter_table('consortium_drafts') as batch:
        batch.drop_column('our_budget_share')

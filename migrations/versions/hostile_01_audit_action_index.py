"""hostile: audit events findable by action and time (the admin banner asks on every page
whether the latest account mail failed)

Revision ID: hostile_01
Revises: partners_01
Create Date: 2026-12-05 06:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = 'hostile_01'
down_revision: str | Sequence[str] | None = 'partners_01'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_audit_events_action_at', 'audit_events', ['action', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_events_action_at', table_name='audit_events')

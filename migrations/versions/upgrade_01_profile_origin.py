"""upgrade: where each strategy profile version came from, so that an unedited shipped default
can be replaced by a newer shipped default

Revision ID: upgrade_01
Revises: partners_02
Create Date: 2026-12-05 08:45:00.000000

Existing versions are marked "default" by this heuristic: the only versions stored without an
actor and without a "strategy.profile_saved" audit event are those ensure_default_profile
stored on first run, and it always stored them as version 1. Every version an admin saved went
through save_profile_version, which records that event (and, unless the admin's account was
deleted since, their id), so no edited version is mistaken for the shipped default. A version
the heuristic cannot vouch for stays None (edited) and is never upgraded.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'upgrade_01'
down_revision: str | Sequence[str] | None = 'partners_02'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('strategy_profiles', sa.Column('origin', sa.String(16)))
    op.execute(
        "UPDATE strategy_profiles SET origin = 'default'"
        " WHERE version = 1 AND created_by_id IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM audit_events"
        " WHERE audit_events.action = 'strategy.profile_saved'"
        " AND audit_events.entity_type = 'strategy_profile'"
        " AND audit_events.entity_id = CAST(strategy_profiles.id AS VARCHAR(64)))"
    )


def downgrade() -> None:
    with op.batch_alter_table('strategy_profiles') as batch:
        batch.drop_column('origin')

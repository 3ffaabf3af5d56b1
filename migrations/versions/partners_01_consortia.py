"""partners: partner-rule overrides, network members and themes, sister-city contacts,
consortium drafts

Revision ID: partners_01
Revises: officer_01
Create Date: 2026-12-04 18:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'partners_01'
down_revision: str | Sequence[str] | None = 'officer_01'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
_ROLE = sa.Enum('lead', 'partner', 'associated', name='projectrole', native_enum=False, length=32)


def upgrade() -> None:
    op.add_column(
        'network_memberships',
        sa.Column('themes', _JSON, nullable=False, server_default=sa.text("'[]'")),
    )
    op.add_column(
        'sister_cities',
        sa.Column('focus_areas', _JSON, nullable=False, server_default=sa.text("'[]'")),
    )
    op.add_column(
        'sister_cities',
        sa.Column('contact_name', sa.String(length=200), nullable=False, server_default=''),
    )
    op.add_column('sister_cities', sa.Column('last_contact_on', sa.Date(), nullable=True))
    op.create_table(
        'partner_rule_overrides',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('call_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('value', _JSON, nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('set_by_id', sa.Integer(), nullable=True),
        sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['call_id'],
            ['funding_calls.id'],
            name=op.f('fk_partner_rule_overrides_call_id_funding_calls'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['set_by_id'],
            ['users.id'],
            name=op.f('fk_partner_rule_overrides_set_by_id_users'),
            ondelete='SET NULL',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_rule_overrides')),
        sa.UniqueConstraint('call_id', 'kind', name=op.f('uq_partner_rule_overrides_call_id_kind')),
    )
    op.create_index(
        op.f('ix_partner_rule_overrides_call_id'), 'partner_rule_overrides', ['call_id']
    )
    op.create_table(
        'network_members',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('network_id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('contact_name', sa.String(length=200), nullable=False),
        sa.Column('contact_email', sa.String(length=300), nullable=False),
        sa.Column('last_contact_on', sa.Date(), nullable=True),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ['network_id'],
            ['organisations.id'],
            name=op.f('fk_network_members_network_id_organisations'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['organisation_id'],
            ['organisations.id'],
            name=op.f('fk_network_members_organisation_id_organisations'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_network_members')),
        sa.UniqueConstraint(
            'network_id', 'organisation_id', name=op.f('uq_network_members_network_id_organisation_id')
        ),
    )
    op.create_index(op.f('ix_network_members_network_id'), 'network_members', ['network_id'])
    op.create_index(
        op.f('ix_network_members_organisation_id'), 'network_members', ['organisation_id']
    )
    op.create_table(
        'consortium_drafts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('call_id', sa.Integer(), nullable=False),
        sa.Column('idea', sa.Text(), nullable=False),
        sa.Column('our_role', _ROLE, nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['call_id'],
            ['funding_calls.id'],
            name=op.f('fk_consortium_drafts_call_id_funding_calls'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['project_id'],
            ['projects.id'],
            name=op.f('fk_consortium_drafts_project_id_projects'),
            ondelete='SET NULL',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_consortium_drafts')),
        sa.UniqueConstraint('call_id', name=op.f('uq_consortium_drafts_call_id')),
    )
    op.create_index(op.f('ix_consortium_drafts_project_id'), 'consortium_drafts', ['project_id'])
    op.create_table(
        'consortium_members',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('draft_id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('role', _ROLE, nullable=False),
        sa.Column('task', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ['draft_id'],
            ['consortium_drafts.id'],
            name=op.f('fk_consortium_members_draft_id_consortium_drafts'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['organisation_id'],
            ['organisations.id'],
            name=op.f('fk_consortium_members_organisation_id_organisations'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_consortium_members')),
        sa.UniqueConstraint(
            'draft_id', 'organisation_id', name=op.f('uq_consortium_members_draft_id_organisation_id')
        ),
    )
    op.create_index(op.f('ix_consortium_members_draft_id'), 'consortium_members', ['draft_id'])
    op.create_index(
        op.f('ix_consortium_members_organisation_id'), 'consortium_members', ['organisation_id']
    )


def downgrade() -> None:
    op.drop_table('consortium_members')
    op.drop_table('consortium_drafts')
    op.drop_table('network_members')
    op.drop_table('partner_rule_overrides')
    with op.batch_alter_table('sister_cities') as batch:
        batch.drop_column('last_contact_on')
        batch.drop_column('contact_name')
        batch.drop_column('focus_areas')
    with op.batch_alter_table('network_memberships') as batch:
        batch.drop_column('themes')

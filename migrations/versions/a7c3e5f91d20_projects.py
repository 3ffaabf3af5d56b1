"""projects

Revision ID: a7c3e5f91d20
Revises: 0002
Create Date: 2026-11-21 08:12:08.763058
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.models.base
from sqlalchemy.dialects import postgresql

revision: str = 'a7c3e5f91d20'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('country_code', sa.String(length=2), nullable=True),
    sa.Column('city', sa.String(length=200), nullable=True),
    sa.Column('kind', sa.Enum('municipality', 'region', 'university', 'company', 'ngo', 'agency', 'network', 'other', name='organisationkind', native_enum=False, length=32), nullable=False),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations'))
    )
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisations_name'), ['name'], unique=False)

    op.create_table('delegations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visited_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.Enum('delegation', 'visit', name='delegationkind', native_enum=False, length=32), nullable=False),
    sa.Column('origin', sa.String(length=300), nullable=False),
    sa.Column('country_code', sa.String(length=2), nullable=True),
    sa.Column('topic', sa.Text(), nullable=False),
    sa.Column('host_office_id', sa.Integer(), nullable=True),
    sa.Column('participants', sa.Integer(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['host_office_id'], ['offices.id'], name=op.f('fk_delegations_host_office_id_offices'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delegations'))
    )
    with op.batch_alter_table('delegations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delegations_host_office_id'), ['host_office_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_delegations_visited_on'), ['visited_on'], unique=False)

    op.create_table('funders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('eu_direct', 'eu_shared', 'interreg', 'national_agency', 'region', 'foundation', 'nordic', 'private', 'own_budget', name='funderkind', native_enum=False, length=32), nullable=False),
    sa.Column('programmes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('typical_max_rate', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('municipalities_may_apply', sa.Boolean(), nullable=False),
    sa.Column('requires_civil_society_partner', sa.Boolean(), nullable=False),
    sa.Column('excludes_ordinary_municipal_tasks', sa.Boolean(), nullable=False),
    sa.Column('forbids_double_eu_funding', sa.Boolean(), nullable=False),
    sa.Column('rules_text', sa.Text(), nullable=False),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_funders_source_id_sources'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funders')),
    sa.UniqueConstraint('name', name=op.f('uq_funders_name'))
    )
    op.create_table('sister_cities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('relation', sa.Enum('twin_town', 'cooperation', 'planned', name='sistercityrelation', native_enum=False, length=32), nullable=False),
    sa.Column('since_year', sa.Integer(), nullable=True),
    sa.Column('topics', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_sister_cities_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sister_cities')),
    sa.UniqueConstraint('organisation_id', name=op.f('uq_sister_cities_organisation_id'))
    )
    op.create_table('network_memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('network_id', sa.Integer(), nullable=False),
    sa.Column('since_year', sa.Integer(), nullable=True),
    sa.Column('ended_year', sa.Integer(), nullable=True),
    sa.Column('office_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('focus_areas', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['users.id'], name=op.f('fk_network_memberships_contact_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['network_id'], ['organisations.id'], name=op.f('fk_network_memberships_network_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_network_memberships_office_id_offices'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_memberships')),
    sa.UniqueConstraint('network_id', name=op.f('uq_network_memberships_network_id'))
    )
    op.create_table('projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('acronym', sa.String(length=64), nullable=True),
    sa.Column('programme', sa.String(length=200), nullable=True),
    sa.Column('call_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.Enum('lead', 'partner', 'associated', name='projectrole', native_enum=False, length=32), nullable=False),
    sa.Column('status', sa.Enum('idea', 'preparing', 'submitted', 'awarded', 'rejected', 'withdrawn', 'running', 'closed', name='projectstatus', native_enum=False, length=32), nullable=False),
    sa.Column('lead_office_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('focus_areas', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('submitted_on', sa.Date(), nullable=True),
    sa.Column('decision_on', sa.Date(), nullable=True),
    sa.Column('start_on', sa.Date(), nullable=True),
    sa.Column('end_on', sa.Date(), nullable=True),
    sa.Column('registry_number', sa.String(length=64), nullable=True),
    sa.Column('currency', sa.Enum('EUR', 'SEK', name='currency', native_enum=False), nullable=False),
    sa.Column('total_budget', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('municipality_budget', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('eu_grant', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('eu_grant_rate', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('own_contribution_cash', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('own_contribution_in_kind', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('covers_ordinary_municipal_tasks', sa.Boolean(), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('results', sa.Text(), nullable=False),
    sa.Column('documents', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['funding_calls.id'], name=op.f('fk_projects_call_id_funding_calls'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['users.id'], name=op.f('fk_projects_contact_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lead_office_id'], ['offices.id'], name=op.f('fk_projects_lead_office_id_offices'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects'))
    )
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_projects_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_projects_lead_office_id'), ['lead_office_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_projects_programme'), ['programme'], unique=False)
        batch_op.create_index(batch_op.f('ix_projects_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_projects_submitted_on'), ['submitted_on'], unique=False)

    op.create_table('cofinancing_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('funder_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('currency', sa.Enum('EUR', 'SEK', name='currency', native_enum=False), nullable=False),
    sa.Column('contribution', sa.Enum('cash', 'in_kind', name='contribution', native_enum=False, length=32), nullable=False),
    sa.Column('status', sa.Enum('asked', 'letter_of_intent', 'decided', 'paid', name='linestatus', native_enum=False, length=32), nullable=False),
    sa.Column('decision_body', sa.String(length=300), nullable=False),
    sa.Column('meeting_on', sa.Date(), nullable=True),
    sa.Column('applicant_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['applicant_id'], ['organisations.id'], name=op.f('fk_cofinancing_lines_applicant_id_organisations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['funder_id'], ['funders.id'], name=op.f('fk_cofinancing_lines_funder_id_funders'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_cofinancing_lines_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cofinancing_lines'))
    )
    with op.batch_alter_table('cofinancing_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cofinancing_lines_funder_id'), ['funder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cofinancing_lines_project_id'), ['project_id'], unique=False)

    op.create_table('project_partners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('lead', 'partner', 'associated', name='projectrole', native_enum=False, length=32), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_project_partners_organisation_id_organisations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_partners_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_partners')),
    sa.UniqueConstraint('project_id', 'organisation_id', name=op.f('uq_project_partners_project_id_organisation_id'))
    )
    with op.batch_alter_table('project_partners', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_partners_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_partners_project_id'), ['project_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('project_partners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_partners_project_id'))
        batch_op.drop_index(batch_op.f('ix_project_partners_organisation_id'))

    op.drop_table('project_partners')
    with op.batch_alter_table('cofinancing_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cofinancing_lines_project_id'))
        batch_op.drop_index(batch_op.f('ix_cofinancing_lines_funder_id'))

    op.drop_table('cofinancing_lines')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_projects_submitted_on'))
        batch_op.drop_index(batch_op.f('ix_projects_status'))
        batch_op.drop_index(batch_op.f('ix_projects_programme'))
        batch_op.drop_index(batch_op.f('ix_projects_lead_office_id'))
        batch_op.drop_index(batch_op.f('ix_projects_call_id'))

    op.drop_table('projects')
    op.drop_table('network_memberships')
    op.drop_table('sister_cities')
    op.drop_table('funders')
    with op.batch_alter_table('delegations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delegations_visited_on'))
        batch_op.drop_index(batch_op.f('ix_delegations_host_office_id'))

    op.drop_table('delegations')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisations_name'))

    op.drop_table('organisations')

"""organisations, their members, and the events and service records they run

Revision ID: 0014
Revises: 0010
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('social_org', 'volunteer_team', 'party_org', 'work_unit', name='org_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=True),
    sa.Column('contact_name', sa.String(length=100), nullable=False),
    sa.Column('contact_phone', sa.String(length=30), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('applied', 'active', 'rejected', name='org_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_organisations_community_id_communities')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_organisations_created_by_id_users')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_organisations_reviewed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
    sa.UniqueConstraint('community_id', 'name', name='uq_organisations_community_name'),
    sa.UniqueConstraint('credit_code', name=op.f('uq_organisations_credit_code'))
    )
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.create_index('ix_organisations_directory', ['community_id', 'kind', 'status'], unique=False)

    op.create_table('organisation_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('leader', 'coordinator', 'member', name='member_role', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('status', sa.Enum('requested', 'active', 'declined', 'left', name='membership_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_organisation_members_decided_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_organisation_members_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_organisation_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_members'))
    )
    with op.batch_alter_table('organisation_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_members_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisation_members_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_organisation_members_open', ['organisation_id', 'user_id'], unique=True, sqlite_where=sa.text("status IN ('requested', 'active')"), postgresql_where=sa.text("status IN ('requested', 'active')"))

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_events_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_events_organisation_id_organisations'), 'organisations', ['organisation_id'], ['id'])

    with op.batch_alter_table('service_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_service_records_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_service_records_organisation_id_organisations'), 'organisations', ['organisation_id'], ['id'])



def downgrade():
    with op.batch_alter_table('service_records', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_service_records_organisation_id_organisations'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_service_records_organisation_id'))
        batch_op.drop_column('organisation_id')

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_events_organisation_id_organisations'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_events_organisation_id'))
        batch_op.drop_column('organisation_id')

    with op.batch_alter_table('organisation_members', schema=None) as batch_op:
        batch_op.drop_index('uq_organisation_members_open', sqlite_where=sa.text("status IN ('requested', 'active')"), postgresql_where=sa.text("status IN ('requested', 'active')"))
        batch_op.drop_index(batch_op.f('ix_organisation_members_user_id'))
        batch_op.drop_index(batch_op.f('ix_organisation_members_organisation_id'))

    op.drop_table('organisation_members')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_index('ix_organisations_directory')

    op.drop_table('organisations')

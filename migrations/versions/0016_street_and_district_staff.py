"""street and district staff: a staff role is for one community, one street or one district

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0014'
branch_labels = None
depends_on = None

ONE_SCOPE = (
    "(role = 'staff' AND ("
    "(community_id IS NOT NULL AND street_id IS NULL AND district_id IS NULL)"
    " OR (community_id IS NULL AND street_id IS NOT NULL AND district_id IS NULL)"
    " OR (community_id IS NULL AND street_id IS NULL AND district_id IS NOT NULL)))"
    " OR (role <> 'staff' AND community_id IS NULL AND street_id IS NULL"
    " AND district_id IS NULL)"
)


def upgrade():
    with op.batch_alter_table('role_grants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('street_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('district_id', sa.Integer(), nullable=True))
        batch_op.drop_constraint(op.f('ck_role_grants_staff_has_community'), type_='check')
        batch_op.create_check_constraint('staff_has_one_scope', ONE_SCOPE)
        batch_op.drop_index('uq_role_grants_scoped', sqlite_where=sa.text('community_id IS NOT NULL'))
        batch_op.drop_index('uq_role_grants_unscoped', sqlite_where=sa.text('community_id IS NULL'))
        batch_op.create_index('uq_role_grants_unscoped', ['user_id', 'role'], unique=True, sqlite_where=sa.text("role <> 'staff'"), postgresql_where=sa.text("role <> 'staff'"))
        batch_op.create_index(batch_op.f('ix_role_grants_district_id'), ['district_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_role_grants_street_id'), ['street_id'], unique=False)
        for column in ('community_id', 'street_id', 'district_id'):
            batch_op.create_index(f'uq_role_grants_{column}', ['user_id', 'role', column], unique=True, sqlite_where=sa.text(f'{column} IS NOT NULL'), postgresql_where=sa.text(f'{column} IS NOT NULL'))
        batch_op.create_foreign_key(batch_op.f('fk_role_grants_district_id_districts'), 'districts', ['district_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_role_grants_street_id_streets'), 'streets', ['street_id'], ['id'])


def downgrade():
    op.execute("DELETE FROM role_grants WHERE street_id IS NOT NULL OR district_id IS NOT NULL")
    with op.batch_alter_table('role_grants', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_role_grants_street_id_streets'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_role_grants_district_id_districts'), type_='foreignkey')
        for column in ('community_id', 'street_id', 'district_id'):
            batch_op.drop_index(f'uq_role_grants_{column}', sqlite_where=sa.text(f'{column} IS NOT NULL'), postgresql_where=sa.text(f'{column} IS NOT NULL'))
        batch_op.drop_index(batch_op.f('ix_role_grants_street_id'))
        batch_op.drop_index(batch_op.f('ix_role_grants_district_id'))
        batch_op.drop_index('uq_role_grants_unscoped', sqlite_where=sa.text("role <> 'staff'"))
        batch_op.create_index('uq_role_grants_unscoped', ['user_id', 'role'], unique=True, sqlite_where=sa.text('community_id IS NULL'), postgresql_where=sa.text('community_id IS NULL'))
        batch_op.create_index('uq_role_grants_scoped', ['user_id', 'role', 'community_id'], unique=True, sqlite_where=sa.text('community_id IS NOT NULL'), postgresql_where=sa.text('community_id IS NOT NULL'))
        batch_op.drop_constraint(op.f('ck_role_grants_staff_has_one_scope'), type_='check')
        batch_op.create_check_constraint('staff_has_community', "(role = 'staff') = (community_id IS NOT NULL)")
        batch_op.drop_column('district_id')
        batch_op.drop_column('street_id')

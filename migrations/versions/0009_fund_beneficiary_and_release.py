"""fund beneficiary and release

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    # A custodial fund names the person it is held for (existing ones pay no one until an
    # approver names them: the service refuses); a fund restricted in time records the voucher
    # that released its remaining balance, once.
    with op.batch_alter_table('funds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('beneficiary_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('released_entry_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_funds_beneficiary_id_beneficiaries'), 'beneficiaries', ['beneficiary_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_funds_released_entry_id_journal_entries'), 'journal_entries', ['released_entry_id'], ['id'])
        batch_op.create_unique_constraint(batch_op.f('uq_funds_released_entry_id'), ['released_entry_id'])


def downgrade():
    with op.batch_alter_table('funds', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_funds_released_entry_id'), type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_funds_released_entry_id_journal_entries'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_funds_beneficiary_id_beneficiaries'), type_='foreignkey')
        batch_op.drop_column('released_entry_id')
        batch_op.drop_column('beneficiary_id')

"""volunteer identity (encrypted ID numbers, our volunteer numbers), certificate issuers with
gap-free serials, revocation, and the national-system export runs

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('volunteer_number_counters',
    sa.Column('community_code', sa.String(length=32), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('community_code', name=op.f('pk_volunteer_number_counters'))
    )
    op.create_table('volunteer_identities',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('id_type', sa.Enum('resident_id', 'hk_macao_permit', 'taiwan_permit', 'passport', 'foreign_permanent', name='id_type', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('id_number_encrypted', sa.String(length=200), nullable=True),
    sa.Column('id_number_hash', sa.String(length=64), nullable=True),
    sa.Column('id_number_masked', sa.String(length=40), nullable=True),
    sa.Column('gender', sa.Enum('male', 'female', name='gender', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('guardian_name', sa.String(length=100), nullable=True),
    sa.Column('guardian_phone_encrypted', sa.String(length=200), nullable=True),
    sa.Column('guardian_consent_on', sa.Date(), nullable=True),
    sa.Column('national_number', sa.String(length=40), nullable=True),
    sa.Column('volunteer_number', sa.String(length=48), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(id_type IS NULL) = (id_number_encrypted IS NULL)', name=op.f('ck_volunteer_identities_id_type_with_number')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_volunteer_identities_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_volunteer_identities')),
    sa.UniqueConstraint('id_number_hash', name=op.f('uq_volunteer_identities_id_number_hash')),
    sa.UniqueConstraint('volunteer_number', name=op.f('uq_volunteer_identities_volunteer_number'))
    )
    op.create_table('certificate_issuers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('responsible', sa.String(length=100), nullable=False),
    sa.Column('handler', sa.String(length=100), nullable=False),
    sa.Column('contact', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(community_id IS NULL) <> (organisation_id IS NULL)', name=op.f('ck_certificate_issuers_one_issuer')),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_certificate_issuers_community_id_communities')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_certificate_issuers_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate_issuers')),
    sa.UniqueConstraint('community_id', name=op.f('uq_certificate_issuers_community_id')),
    sa.UniqueConstraint('organisation_id', name=op.f('uq_certificate_issuers_organisation_id'))
    )
    op.create_table('national_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('period_from', sa.Date(), nullable=False),
    sa.Column('period_to', sa.Date(), nullable=False),
    sa.Column('only_new', sa.Boolean(), nullable=False),
    sa.Column('volunteers', sa.Integer(), nullable=False),
    sa.Column('records', sa.Integer(), nullable=False),
    sa.Column('exported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_national_exports_actor_id_users')),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_national_exports_community_id_communities')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_national_exports_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_national_exports'))
    )
    with op.batch_alter_table('national_exports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_national_exports_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_national_exports_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('certificate_serials',
    sa.Column('issuer_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['issuer_id'], ['certificate_issuers.id'], name=op.f('fk_certificate_serials_issuer_id_certificate_issuers')),
    sa.PrimaryKeyConstraint('issuer_id', 'year', name=op.f('pk_certificate_serials'))
    )
    op.create_table('national_export_items',
    sa.Column('export_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['export_id'], ['national_exports.id'], name=op.f('fk_national_export_items_export_id_national_exports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['record_id'], ['service_records.id'], name=op.f('fk_national_export_items_record_id_service_records')),
    sa.PrimaryKeyConstraint('export_id', 'record_id', name=op.f('pk_national_export_items'))
    )
    with op.batch_alter_table('national_export_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_national_export_items_record_id'), ['record_id'], unique=False)

    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('issuer_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('id_masked', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('issuer_name', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('responsible', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('handler', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('contact', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('revoked_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('revoke_reason', sa.String(length=500), nullable=True))
        batch_op.alter_column('serial',
               existing_type=sa.VARCHAR(length=32),
               type_=sa.String(length=64),
               existing_nullable=False)
        batch_op.alter_column('volunteer_number',
               existing_type=sa.VARCHAR(length=20),
               type_=sa.String(length=48),
               existing_nullable=False)
        batch_op.create_index('ix_certificates_register', ['issuer_id', 'issued_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_certificates_issuer_id_certificate_issuers'), 'certificate_issuers', ['issuer_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_certificates_revoked_by_id_users'), 'users', ['revoked_by_id'], ['id'])



def downgrade():
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_certificates_revoked_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_certificates_issuer_id_certificate_issuers'), type_='foreignkey')
        batch_op.drop_index('ix_certificates_register')
        batch_op.alter_column('volunteer_number',
               existing_type=sa.String(length=48),
               type_=sa.VARCHAR(length=20),
               existing_nullable=False)
        batch_op.alter_column('serial',
               existing_type=sa.String(length=64),
               type_=sa.VARCHAR(length=32),
               existing_nullable=False)
        batch_op.drop_column('revoke_reason')
        batch_op.drop_column('revoked_by_id')
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('contact')
        batch_op.drop_column('handler')
        batch_op.drop_column('responsible')
        batch_op.drop_column('issuer_name')
        batch_op.drop_column('id_masked')
        batch_op.drop_column('issuer_id')

    with op.batch_alter_table('national_export_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_national_export_items_record_id'))

    op.drop_table('national_export_items')
    op.drop_table('certificate_serials')
    with op.batch_alter_table('national_exports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_national_exports_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_national_exports_community_id'))

    op.drop_table('national_exports')
    op.drop_table('certificate_issuers')
    op.drop_table('volunteer_identities')
    op.drop_table('volunteer_number_counters')

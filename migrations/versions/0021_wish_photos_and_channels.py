"""the photo of a fulfilled wish and the asker's consent; service records found by the time
they were recorded or reviewed (points are settled only for what changed)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("wishes") as batch:
        batch.add_column(sa.Column("photo_name", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("photo_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("photo_consent", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_index("ix_service_records_recorded_at", "service_records", ["recorded_at"])
    op.create_index("ix_service_records_reviewed_at", "service_records", ["reviewed_at"])


def downgrade():
    op.drop_index("ix_service_records_reviewed_at", table_name="service_records")
    op.drop_index("ix_service_records_recorded_at", table_name="service_records")
    with op.batch_alter_table("wishes") as batch:
        batch.drop_column("photo_consent")
        batch.drop_column("photo_at")
        batch.drop_column("photo_name")

"""party organisations report in to a community (双报到) with the posts they take on; an e-mail may carry a file

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "party_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("people_needed", sa.Integer(), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "people_needed >= 1", name=op.f("ck_party_posts_people_needed_positive")
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_party_posts_community_id_communities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party_posts")),
        sa.UniqueConstraint("community_id", "name", name="uq_party_posts_community_name"),
    )
    with op.batch_alter_table("party_posts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_party_posts_community_id"), ["community_id"], unique=False
        )

    op.create_table(
        "party_org_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("contact_name", sa.String(length=100), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=False),
        sa.Column("contact_phone", sa.String(length=30), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "declared",
                "confirmed",
                "rejected",
                name="org_report_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("declared_by_id", sa.Integer(), nullable=True),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("feedback_year", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "ends_on >= starts_on", name=op.f("ck_party_org_reports_period_in_order")
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_party_org_reports_community_id_communities"),
        ),
        sa.ForeignKeyConstraint(
            ["declared_by_id"], ["users.id"], name=op.f("fk_party_org_reports_declared_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_party_org_reports_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"], ["users.id"], name=op.f("fk_party_org_reports_reviewed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party_org_reports")),
    )
    with op.batch_alter_table("party_org_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_party_org_reports_community_id"), ["community_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_party_org_reports_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            "uq_party_org_reports_open",
            ["organisation_id", "community_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('declared', 'confirmed')"),
            postgresql_where=sa.text("status IN ('declared', 'confirmed')"),
        )

    op.create_table(
        "party_post_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.CheckConstraint("people >= 1", name=op.f("ck_party_post_claims_people_positive")),
        sa.ForeignKeyConstraint(
            ["post_id"], ["party_posts.id"], name=op.f("fk_party_post_claims_post_id_party_posts")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["party_org_reports.id"],
            name=op.f("fk_party_post_claims_report_id_party_org_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party_post_claims")),
        sa.UniqueConstraint("report_id", "post_id", name="uq_party_post_claims_report_post"),
    )
    with op.batch_alter_table("party_post_claims", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_party_post_claims_post_id"), ["post_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_party_post_claims_report_id"), ["report_id"], unique=False
        )

    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attachment_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("attachment_type", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("attachment", sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_column("attachment")
        batch_op.drop_column("attachment_type")
        batch_op.drop_column("attachment_name")

    with op.batch_alter_table("party_post_claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_party_post_claims_report_id"))
        batch_op.drop_index(batch_op.f("ix_party_post_claims_post_id"))

    op.drop_table("party_post_claims")
    with op.batch_alter_table("party_org_reports", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_party_org_reports_open",
            sqlite_where=sa.text("status IN ('declared', 'confirmed')"),
            postgresql_where=sa.text("status IN ('declared', 'confirmed')"),
        )
        batch_op.drop_index(batch_op.f("ix_party_org_reports_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_party_org_reports_community_id"))

    op.drop_table("party_org_reports")
    with op.batch_alter_table("party_posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_party_posts_community_id"))

    op.drop_table("party_posts")

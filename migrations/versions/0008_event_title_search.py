"""event title search

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    # The list's text search is ILIKE '%word%': on PostgreSQL a trigram index finds a rare word
    # among 200,000 events in milliseconds instead of scanning them (pg_trgm is a trusted
    # extension: the database's owner may create it). SQLite gets a plain index of that name.
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        # The operator class lives in the extension's schema, which may not be on the path.
        schema = bind.exec_driver_sql(
            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
        ).scalar()
        op.execute(
            f"CREATE INDEX ix_events_title_trgm ON events USING gin (title {schema}.gin_trgm_ops)"
        )
    else:
        op.create_index('ix_events_title_trgm', 'events', ['title'], unique=False)


def downgrade():
    op.drop_index('ix_events_title_trgm', table_name='events')

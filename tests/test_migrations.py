"""Migrations: one head; upgrade from empty and downgrade to empty; the models match them."""

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from neighbors import MIGRATIONS, create_app
from neighbors.extensions import db

SCHEMA = "migration_test"


@pytest.fixture
def empty_app(database_url, tmp_path):
    """An app on an empty database of the same kind as the suite's (a schema of its own on PG)."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'migrations.db'}"
    else:
        engine = sa.create_engine(database_url)
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            conn.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
        url = (
            sa.make_url(database_url)
            .update_query_dict({"options": f"-csearch_path={SCHEMA}"})
            .render_as_string(hide_password=False)
        )
    app = create_app({"ENV": "testing", "DATABASE_URL": url})
    yield app
    with app.app_context():
        db.engine.dispose()
    if not database_url.startswith("sqlite"):
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {SCHEMA} CASCADE"))
        engine.dispose()


def user_tables(engine):
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def test_there_is_one_head():
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_upgrade_downgrade_and_models_match_migrations(empty_app):
    with empty_app.app_context():
        assert user_tables(db.engine) == set()
        flask_migrate.upgrade()
        assert user_tables(db.engine) == set(db.metadata.tables)
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
        flask_migrate.downgrade(revision="base")
        assert user_tables(db.engine) == set()
        flask_migrate.upgrade()
        assert user_tables(db.engine) == set(db.metadata.tables)

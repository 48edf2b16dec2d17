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


def revisions_in_order():
    """Revision ids from the first to the head."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    return [script.revision for script in ScriptDirectory.from_config(config).walk_revisions()][
        ::-1
    ]


def current_revision():
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


# Rows a database at the first revision could hold: an area tree, two users (one who logs in
# with a phone), their roles, a Party member and an audit entry pointing at a user.
FIRST_REVISION_ROWS = {
    "districts": [{"id": 901, "code": "T01", "name": "测试区"}],
    "streets": [{"id": 901, "code": "T0101", "name": "测试街道", "district_id": 901}],
    "communities": [{"id": 901, "code": "T010101", "name": "测试社区", "street_id": 901}],
    "grids": [{"id": 901, "code": "T01010101", "name": "第一网格", "community_id": 901}],
    "users": [
        {
            "id": 901,
            "name": "老用户",
            "email": "old@example.org",
            "phone_hash": None,
            "phone_encrypted": None,
            "password_hash": None,
            "home_community_id": 901,
            "grid_id": 901,
            "created_at": "2026-01-02 03:04:05",
        },
        {
            "id": 902,
            "name": "手机用户",
            "email": None,
            "phone_hash": "a" * 64,
            "phone_encrypted": "not-really-encrypted",
            "password_hash": None,
            "home_community_id": 901,
            "grid_id": None,
            "created_at": "2026-01-02 03:04:06",
        },
    ],
    "role_grants": [
        {"id": 901, "user_id": 901, "role": "staff", "community_id": 901},
        {"id": 902, "user_id": 902, "role": "volunteer", "community_id": None},
    ],
    "party_members": [
        {
            "user_id": 902,
            "branch": "测试党支部",
            "work_unit": "测试单位",
            "community_id": 901,
            "grid_id": 901,
            "reported_on": "2026-01-01",
            "status": "confirmed",
            "declared_at": "2026-01-02 03:04:07",
            "reviewed_by_id": 901,
        }
    ],
    "audit_entries": [
        {
            "id": 901,
            "at": "2026-01-02 03:04:08",
            "actor_id": 901,
            "action": "account.create",
            "object_type": "users",
            "object_id": "902",
            "detail": "{}",
        }
    ],
}
KEYS = {"party_members": "user_id"}


def insert_first_revision_rows():
    with db.engine.begin() as conn:
        for table, rows in FIRST_REVISION_ROWS.items():
            columns = list(rows[0])
            conn.execute(
                sa.text(
                    f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 (fixed names)
                    f"VALUES ({', '.join(':' + c for c in columns)})"
                ),
                rows,
            )


def assert_first_revision_rows_survive(step):
    with db.engine.connect() as conn:
        for table, rows in FIRST_REVISION_ROWS.items():
            key = KEYS.get(table, "id")
            for row in rows:
                stored = (
                    conn.execute(
                        sa.text(f"SELECT * FROM {table} WHERE {key} = :key"),  # noqa: S608
                        {"key": row[key]},
                    )
                    .mappings()
                    .one_or_none()
                )
                assert stored is not None, f"{table} {row[key]} lost at {step}"
                for column, value in row.items():
                    if column in ("created_at", "at", "declared_at", "reported_on", "detail"):
                        continue  # stored in each database's own format
                    assert stored[column] == value, f"{table}.{column} changed at {step}"


def count_rows(table):
    with db.engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()  # noqa: S608


def test_populated_database_upgrades_step_by_step_and_downgrades_back(empty_app):
    from neighbors.demo import load_demo

    revisions = revisions_in_order()
    with empty_app.app_context():
        flask_migrate.upgrade(revision=revisions[0])
        insert_first_revision_rows()
        assert_first_revision_rows_survive(revisions[0])
        for revision in revisions[1:]:
            flask_migrate.upgrade(revision=revision)
            assert current_revision() == revision
            assert_first_revision_rows_survive(f"upgrade to {revision}")

    # At the head the app works on these rows and adds a whole demo city beside them.
    with empty_app.test_request_context(headers={"Accept-Language": "en"}):
        load_demo()
        db.session.remove()
    with empty_app.app_context():
        users, grants = count_rows("users"), count_rows("role_grants")
        assert users > len(FIRST_REVISION_ROWS["users"])
        for revision in reversed(revisions[:-1]):
            flask_migrate.downgrade(revision=revision)
            assert current_revision() == revision
            assert_first_revision_rows_survive(f"downgrade to {revision}")
            assert (count_rows("users"), count_rows("role_grants")) == (users, grants)

        flask_migrate.upgrade()
        assert current_revision() == revisions[-1]
        assert_first_revision_rows_survive("upgrade to the head again")
        assert (count_rows("users"), count_rows("role_grants")) == (users, grants)

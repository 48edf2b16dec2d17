"""`neighbors backup PATH` and a restore: the copy holds every row and its ledger verifies."""

import shutil
import subprocess

import pytest
import sqlalchemy as sa

from neighbors import create_app
from neighbors.extensions import db
from neighbors.foundation import ledger
from tests.factories import Team


def counts(app):
    with app.app_context():
        return {
            table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }


def restored_app(url):
    return create_app({"ENV": "testing", "DATABASE_URL": url})


@pytest.fixture
def populated(app, live_make):
    team = Team(live_make)
    team.fund("EDU", opening="100.00")
    for amount in ("10.00", "20.50"):
        team.donate("EDU", amount)
    team.subsidy("EDU", "30.00")
    return counts(app)


def test_backup_and_restore_keep_every_row_and_the_ledger(app, populated, tmp_path):
    path = tmp_path / "backups" / "neighbors.backup"
    result = app.test_cli_runner().invoke(args=["neighbors", "backup", str(path)])
    assert result.exit_code == 0, result.output
    assert "Backup written to" in result.output
    url = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        restored = restored_app(f"sqlite:///{path}")
    else:
        restored = restored_app(_pg_restore(url, path))
    try:
        assert counts(restored) == populated
        assert populated["postings"] > 0 and populated["users"] > 0
        with restored.app_context():
            assert ledger.verify().ok
    finally:
        with restored.app_context():
            db.engine.dispose()
        if url.get_backend_name() != "sqlite":
            _pg_admin(url, f'DROP DATABASE IF EXISTS "{url.database}_restored"')


def _pg_admin(url, *statements):
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        admin.dispose()


def _pg_restore(url, path):
    """Restore the dump into a fresh database beside the test one (dropped after the test) and
    return its URL."""
    name = f"{url.database}_restored"
    _pg_admin(url, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
    target = url.set(database=name, drivername="postgresql")
    subprocess.run(
        [shutil.which("pg_restore"), "--no-owner", "--dbname", target.render_as_string(False),
         str(path)],
        check=True,
    )  # fmt: skip
    return url.set(database=name).render_as_string(hide_password=False)


def test_a_folder_is_refused_with_a_clear_message(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["neighbors", "backup", str(tmp_path)])
    assert result.exit_code != 0

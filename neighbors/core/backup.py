"""`neighbors backup PATH`: a consistent copy of the live database, taken while it serves.

SQLite: the online backup API copies the pages under a read lock, so writers go on (WAL) and
the copy is one committed state; it is written beside PATH, checked, then moved into place.
PostgreSQL: pg_dump in its custom format (restore with pg_restore), the password passed in the
environment, never on the command line.
"""

import logging
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

logger = logging.getLogger(__name__)


class BackupFailed(Exception):
    pass


def backup(path, progress=None):
    """Copy the configured database to path. Raises BackupFailed."""
    url = sa.make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    path = Path(path)
    if path.is_dir():
        raise BackupFailed(f"{path} is a folder: give the name of the file to write")
    path.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        _backup_sqlite(url.database, path, progress)
    elif url.get_backend_name() == "postgresql":
        _backup_postgresql(url, path)
    else:  # pragma: no cover - only these two are supported
        raise BackupFailed(f"no backup for {url.get_backend_name()}")


def _backup_sqlite(database, path, progress):
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(database)
    target = sqlite3.connect(partial)
    try:
        # One step under one read lock: in steps, every write between them would restart the
        # copy (writers go on meanwhile: WAL).
        source.backup(target, pages=-1, progress=progress)
        verdict = target.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        target.close()
        source.close()
    if verdict != "ok":
        partial.unlink(missing_ok=True)
        raise BackupFailed(f"the copy failed its integrity check: {verdict}")
    os.replace(partial, path)


def _backup_postgresql(url, path):
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupFailed(
            "pg_dump is not installed here: install the PostgreSQL client of the server's "
            "version, or run pg_dump --format=custom on the database host"
        )
    env = {**os.environ, "PGPASSWORD": url.password or ""}
    plain = url.set(drivername="postgresql", password=None).render_as_string()
    command = [pg_dump, "--format=custom", "--no-owner", f"--file={path}", f"--dbname={plain}"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupFailed(f"pg_dump failed: {result.stderr.strip()}")


@click.command("backup")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False))
def backup_command(path):
    """Write a consistent copy of the database to PATH while the site keeps running."""

    def progress(_status, remaining, total):
        click.echo(f"\r{100 * (total - remaining) // max(total, 1)} %", nl=False)

    try:
        backup(path, progress)
    except BackupFailed as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"\nBackup written to {path} ({Path(path).stat().st_size:,} bytes)")

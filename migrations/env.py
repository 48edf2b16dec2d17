"""Alembic environment: runs migrations against the app's engine and metadata."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
if config.config_file_name:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

migrate_ext = current_app.extensions["migrate"]
target_metadata = migrate_ext.db.metadata


def run_migrations_offline():
    url = migrate_ext.db.engine.url.render_as_string(hide_password=False)
    context.configure(
        url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    def skip_empty(_context, _revision, directives):
        # An autogenerate with no schema changes writes no empty revision.
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = dict(migrate_ext.configure_args)
    conf_args.setdefault("process_revision_directives", skip_empty)
    with migrate_ext.db.engine.connect() as connection:
        # SQLite's DDL is transactional; saying so makes each upgrade all or nothing there too
        # (and is needed: our connections begin every transaction explicitly).
        conf_args.setdefault("transactional_ddl", True)
        context.configure(connection=connection, target_metadata=target_metadata, **conf_args)
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _sqlite_foreign_keys(connection, on=False)
        try:
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    _check_sqlite_foreign_keys(connection)
        finally:
            if sqlite:
                _sqlite_foreign_keys(connection, on=True)


def _sqlite_foreign_keys(connection, on):
    """Batch mode rebuilds a table by copying it and dropping the original; with foreign keys
    enforced, that drop deletes its rows first, which cascades (a rebuilt `users` took every
    role grant with it) or fails. SQLite ignores this pragma inside a transaction, so it is sent
    on the driver's connection, which runs in autocommit between our explicit BEGINs."""
    if connection.in_transaction():
        raise RuntimeError("PRAGMA foreign_keys must be set outside a transaction")
    pragma = f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}"
    connection.connection.driver_connection.execute(pragma)


def _check_sqlite_foreign_keys(connection):
    """With enforcement off, check before committing that the migrations left no dangling
    reference (raising rolls the whole upgrade back)."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"the migrations left references to missing rows: {broken[:5]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

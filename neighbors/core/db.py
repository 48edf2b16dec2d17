"""Database helpers: aware UTC times, the unit-of-work transaction, SQLite connection setup."""

import logging
import re
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from flask import g, has_app_context
from sqlalchemy import DateTime, Enum, event
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.types import TypeDecorator

from neighbors.core.errors import Conflict
from neighbors.extensions import db

logger = logging.getLogger(__name__)

# Set while a service's unit of work runs: on SQLite its transaction then begins IMMEDIATE.
_in_unit_of_work = ContextVar("in_unit_of_work", default=False)


def utcnow():
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_column(enum_class, name):
    """A portable enum column: stored as its string values, checked by a named constraint."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum_class),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def flush_unique(message, code):
    """Flush the new rows under a savepoint: one that breaks a unique constraint becomes a
    Conflict(message, code) and leaves the unit of work usable."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict(message, code=code) from None


@contextmanager
def transaction():
    """One unit of work: commit when the block ends, roll back if it raises.

    Public service functions wrap their body in this; helpers they call only flush. A nested
    use joins the outer unit of work. Any read-only transaction the request had open is ended
    first on SQLite, so that the write transaction begins IMMEDIATE and concurrent writers wait
    their turn (busy_timeout) instead of failing when a read lock would have to be upgraded.
    PostgreSQL needs no such care: at READ COMMITTED every statement sees the latest commits, and
    row locks order the writers.
    """
    session = db.session
    if _in_unit_of_work.get():
        yield session
        return
    if session().in_transaction() and is_sqlite():
        session.rollback()
    token = _in_unit_of_work.set(True)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        _in_unit_of_work.reset(token)


# A statement that may change something: anything but a SELECT (or WITH … SELECT) without
# INSERT, UPDATE, DELETE or MERGE in it. SELECT … FOR UPDATE counts too: erring this way only
# means a ROLLBACK where a COMMIT would have done.
_READ = re.compile(r"\s*(SELECT|WITH)\b", re.IGNORECASE)
_WRITE = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)


def _note_writes(_conn, _cursor, statement, *_args):
    if has_app_context() and not (_READ.match(statement) and not _WRITE.search(statement)):
        g.db_wrote = True


def end_read_only(error):
    """End a request's (or app context's) transaction that only read by COMMIT, not ROLLBACK:
    the two are alike for a transaction that wrote nothing, but psycopg forgets every prepared
    statement at a ROLLBACK, so no query would ever be used often enough to be prepared and
    PostgreSQL would plan each one anew (the API's event list: 1.8 ms of planning, 0.3 ms of
    work). A transaction that wrote anything, holds changes not yet written, or belongs to a request
    that failed, still rolls back."""
    session = db.session()
    unsaved = session.new or session.dirty or session.deleted  # a COMMIT would write them
    if error is None and not g.get("db_wrote") and not unsaved and session.in_transaction():
        try:
            session.commit()
        except SQLAlchemyError:
            logger.warning("ending a read-only transaction failed; it is rolled back")
            session.rollback()


def is_sqlite():
    return db.engine.dialect.name == "sqlite"


def is_postgresql():
    return db.engine.dialect.name == "postgresql"


def configure_engine(app):
    """SQLite: WAL, busy_timeout, foreign keys, synchronous=FULL, IMMEDIATE write transactions.
    PostgreSQL: a transaction that only read ends by COMMIT (see end_read_only)."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "postgresql":
            event.listen(engine, "before_cursor_execute", _note_writes)
            # Runs before Flask-SQLAlchemy's own teardown (teardowns run last added, first).
            app.teardown_appcontext(end_read_only)
        if engine.dialect.name != "sqlite":
            return
        busy_timeout = int(app.config["SQLITE_BUSY_TIMEOUT_MS"])

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            # Let SQLAlchemy's "begin" event emit BEGIN instead of pysqlite's implicit one.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {busy_timeout}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection):
            connection.exec_driver_sql(
                "BEGIN IMMEDIATE" if _in_unit_of_work.get() else "BEGIN DEFERRED"
            )


def next_number(model, column="last", **key):
    """The next number of a counter row (`model` keyed by `key`), made if missing: one
    INSERT … ON CONFLICT DO UPDATE … RETURNING. The row stays locked until the unit of work
    ends, so concurrent callers get 1, 2, 3 … in turn, and a rollback gives the number back:
    no gap, no double. Call inside transaction()."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if is_postgresql() else sqlite
    table = model.__table__
    statement = (
        dialect.insert(table)
        .values(**key, **{column: 1})
        .on_conflict_do_update(index_elements=list(key), set_={column: table.c[column] + 1})
        .returning(table.c[column])
    )
    return db.session.execute(statement).scalar_one()

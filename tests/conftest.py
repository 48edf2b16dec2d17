"""Fixtures: the app on a migrated database, a per-test rolled-back session, clients, factories.

The suite runs on a temporary SQLite file by default. With NEIGHBORS_TEST_DATABASE_URL set to a
PostgreSQL URL it runs there instead (the database is emptied first: use a throwaway one).
"""

import json
import os

import flask_migrate
import pytest
import sqlalchemy as sa
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy.orm import scoped_session, sessionmaker

from neighbors import create_app
from neighbors.areas import services as areas
from neighbors.extensions import db as _db
from tests.factories import DEMO_AREAS, TEST_DATABASE_URL, EventFactory, Factory, HoursFactory, Team
from tests.servers import Inbox, free_port


def pytest_configure(config):
    """Compile the catalogues if a .po changed since its .mo was built (manage.py does too)."""
    from babel.messages.mofile import write_mo

    from tests.i18n import LANGUAGES, po_path, read_catalog

    for lang in LANGUAGES:
        po, mo = po_path(lang), po_path(lang).with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with open(mo, "wb") as handle:
                write_mo(handle, read_catalog(po))


def pytest_report_header(config):
    if TEST_DATABASE_URL:
        return f"database: PostgreSQL ({sa.make_url(TEST_DATABASE_URL).render_as_string()})"
    return (
        "database: SQLite (temporary file). PostgreSQL tests are not run: set "
        "NEIGHBORS_TEST_DATABASE_URL=postgresql://user@host/db to run the suite there."
    )


def _reset_postgres(url):
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    except sa.exc.OperationalError as exc:
        pytest.exit(
            f"NEIGHBORS_TEST_DATABASE_URL is set but PostgreSQL does not answer: {exc}",
            returncode=3,
        )
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if TEST_DATABASE_URL:
        from config import database_uri

        url = database_uri(TEST_DATABASE_URL)
        _reset_postgres(url)
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    app = create_app({"ENV": "testing", "DATABASE_URL": database_url})
    app.instance_path = str(tmp_path_factory.mktemp("instance"))
    with app.app_context():
        flask_migrate.upgrade()
        _db.engine.dispose()
    yield app
    with app.app_context():
        _db.engine.dispose()  # close pooled connections before the interpreter does


@pytest.fixture
def db(app):
    """Every session of this test shares one connection whose transaction is rolled back after.

    Services still commit (to savepoints), so a test sees exactly what a request would.
    """
    with app.app_context():
        connection = _db.engine.connect()
    outer = connection.begin()
    original = _db.session
    # A plain Session: Flask-SQLAlchemy's own would pick its engine over this connection.
    factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    _db.session = scoped_session(factory, scopefunc=_app_ctx_id)
    try:
        yield _db
    finally:
        _db.session = original
        outer.rollback()
        connection.close()


@pytest.fixture
def committing_db(app):
    """Real commits on real connections (for concurrency and live-server tests); emptied after."""
    yield _db
    empty_database(app)


def empty_database(app):
    """Delete every row that tests committed for real."""
    with app.app_context():
        _db.session.remove()
        with _db.engine.begin() as conn:
            # The ledger's append-only triggers refuse deletes: set them aside while emptying.
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
                triggers = []
            else:
                triggers = conn.exec_driver_sql(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
                ).all()
                for name, _sql in triggers:
                    conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
            for table in reversed(_db.metadata.sorted_tables):
                conn.execute(table.delete())
            for _name, sql in triggers:
                conn.exec_driver_sql(sql)


@pytest.fixture
def ctx(app, db):
    """A request context (in English) for calling services directly; not for use with `client`."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def areas_loaded(app, db):
    with app.app_context():
        areas.import_areas(DEMO_AREAS)


@pytest.fixture
def make(app, areas_loaded):
    return Factory(app)


@pytest.fixture
def live_make(app, committing_db):
    """Like `make`, but everything is committed for real (threads and processes see it)."""
    with app.app_context():
        areas.import_areas(DEMO_AREAS)
    return Factory(app)


@pytest.fixture
def inbox(app):
    """A local SMTP server, and the app configured to send to it for this test."""
    from aiosmtpd.controller import Controller

    handler = Inbox(free_port())
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    saved = {name: app.config[name] for name in ("MAIL_SERVER", "MAIL_PORT")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=handler.port)
    try:
        yield handler
    finally:
        app.config.update(saved)
        controller.stop()


@pytest.fixture
def sms_files(app, tmp_path):
    """The file SMS provider, writing into a folder of this test."""
    app.config.update(SMS_PROVIDER="file", SMS_FILE_DIR=str(tmp_path))
    try:
        yield tmp_path
    finally:
        app.config.update(SMS_PROVIDER=None, SMS_FILE_DIR=None)


def sent_texts(folder):
    """The text messages the file SMS provider wrote, oldest first."""
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


@pytest.fixture
def factory(app, make):
    """Events made through the services by a staff member of COMMUNITY (or the admin)."""
    return EventFactory(app, make)


@pytest.fixture
def hours_factory(app, make):
    """Like `factory`, and events that have already happened."""
    return HoursFactory(app, make)


@pytest.fixture
def team(make):
    """The foundation's people: a preparer, two approvers, a cashier and an accountant."""
    return Team(make)


@pytest.fixture(params=["memory", "redis"])
def cached_pages(app, request):
    """The page cache on for a minute (longer than any test), in this process or in Redis
    (NEIGHBORS_TEST_REDIS_URL)."""
    from neighbors.core import cache

    redis_url = os.environ.get("NEIGHBORS_TEST_REDIS_URL")
    if request.param == "redis" and not redis_url:
        pytest.skip("set NEIGHBORS_TEST_REDIS_URL=redis://127.0.0.1:6379/15 to test it in Redis")
    saved = {name: app.config[name] for name in ("PAGE_CACHE_SECONDS", "REDIS_URL")}
    app.config.update(
        PAGE_CACHE_SECONDS=60, REDIS_URL=redis_url if request.param == "redis" else None
    )
    app.extensions.pop("neighbors_cache", None)
    with app.app_context():
        cache.clear()
    yield
    with app.app_context():
        cache.clear()
    app.extensions.pop("neighbors_cache", None)
    app.config.update(saved)

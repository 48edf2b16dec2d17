"""Fixtures: the app on a migrated database, a per-test rolled-back session, clients, factories.

The suite runs on a temporary SQLite file by default. With NEIGHBORS_TEST_DATABASE_URL set to a
PostgreSQL URL it runs there instead (the database is emptied first: use a throwaway one).
"""

import contextlib
import os
import re

import flask_migrate
import pytest
import sqlalchemy as sa
from flask import has_app_context
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy.orm import scoped_session, sessionmaker

from neighbors import create_app
from neighbors.accounts import services as accounts
from neighbors.areas import services as areas
from neighbors.extensions import db as _db

TEST_DATABASE_URL = os.environ.get("NEIGHBORS_TEST_DATABASE_URL")
DEMO_AREAS = os.path.join(os.path.dirname(__file__), "..", "neighbors", "demo", "areas.csv")
PASSWORD = "correct horse battery"
COMMUNITY = "210102002001"  # 文安路社区
OTHER_COMMUNITY = "210103001001"  # 青年大街社区


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


class Factory:
    """Makes users through the services: in the test's app context when it has one (so all its
    work shares one session), else in a context of its own."""

    def __init__(self, app):
        self.app = app
        self.count = 0

    def context(self):
        return contextlib.nullcontext() if has_app_context() else self.app.app_context()

    def user(self, role="volunteer", community=COMMUNITY, **fields):
        self.count += 1
        values = {
            "email": f"user{self.count}@example.org",
            "password": PASSWORD,
            "name": f"测试用户{self.count}",
            "role": role,
            "community_code": community if role in ("volunteer", "staff") else None,
        }
        values.update(fields)
        with self.context():
            user = accounts.create_user(**values)
            return user.id, values["email"]


@pytest.fixture
def make(app, areas_loaded):
    return Factory(app)


@pytest.fixture
def live_make(app, committing_db):
    """Like `make`, but everything is committed for real (threads and processes see it)."""
    with app.app_context():
        areas.import_areas(DEMO_AREAS)
    return Factory(app)


def csrf_token(client):
    page = client.get("/privacy").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def post_form(client, url, data, **kwargs):
    """POST a form the way a browser does, with the CSRF token of the client's session."""
    return client.post(url, data={**data, "csrf_token": csrf_token(client)}, **kwargs)


def log_in(client, login, password=PASSWORD):
    response = post_form(client, "/login", {"login": login, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


class Inbox:
    """A real SMTP server (aiosmtpd) on a free local port that keeps what it is sent.

    `replies` are answered to the next DATA commands in turn ("451 …", "550 …", or "drop" to cut
    the connection after the message came in); after them every message is accepted.
    """

    def __init__(self, port):
        self.port = port
        self.messages = []
        self.replies = []

    async def handle_DATA(self, server, session, envelope):
        import email
        from email.policy import default

        reply = self.replies.pop(0) if self.replies else "250 OK"
        if reply == "drop":  # it arrived, but the sender never hears so
            self.messages.append(email.message_from_bytes(envelope.content, policy=default))
            server.transport.close()
            return "250 OK"
        if reply.startswith("250"):
            self.messages.append(email.message_from_bytes(envelope.content, policy=default))
        return reply


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def process_env(database_url, **settings):
    """The environment for a separate app process (scheduler, gunicorn) on the test database."""
    env = {**os.environ, "NEIGHBORS_ENV": "testing", "DATABASE_URL": database_url}
    env.update({name: str(value) for name, value in settings.items()})
    return env


def self_signed_certificate(folder):
    """A certificate for 127.0.0.1 and its key, as PEM files in `folder`: (cert, key) paths."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert, key_file = folder / "cert.pem", folder / "key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, key_file

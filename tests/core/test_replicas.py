"""Reads from a real streaming replica: a second PostgreSQL cluster made by pg_basebackup from the
test database's server, started on a free port, removed at the end. A person reads their own
writes at once; a replica that lags too far or is down is skipped.

Needs PostgreSQL (NEIGHBORS_TEST_DATABASE_URL) on 127.0.0.1 with a replication entry in
pg_hba.conf (`host replication postgres 127.0.0.1/32 trust`; .ci/run adds it) and PostgreSQL's
server programs. Skipped without them, unless NEIGHBORS_REQUIRE_REPLICA=1 (CI) makes it fail.
"""

import csv
import io
import os
import re
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from neighbors import create_app
from neighbors.core.audit import AuditEntry
from neighbors.core.timezone import local_today
from neighbors.extensions import db
from tests.clients import bearer, log_in, post_form, token_for
from tests.factories import TEST_DATABASE_URL, EventFactory, Factory, Team
from tests.servers import free_port

EN = {"Accept-Language": "en"}
# Settings a standby must have at least as high as its primary.
AT_LEAST_PRIMARY = (
    "max_connections",
    "max_worker_processes",
    "max_wal_senders",
    "max_prepared_transactions",
    "max_locks_per_transaction",
)


def missing(message):
    if os.environ.get("NEIGHBORS_REQUIRE_REPLICA"):
        pytest.fail(message)
    pytest.skip(message)


def _bin(name):
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / name).exists():
            return str(folder / name)
    return None


def _as_postgres(command):
    """Server programs refuse to run as root: run them as the postgres user when we are root."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="module")
def replica_url(app):
    if not TEST_DATABASE_URL or not TEST_DATABASE_URL.startswith("postgres"):
        missing("replicas need PostgreSQL: set NEIGHBORS_TEST_DATABASE_URL")
    primary = sa.make_url(TEST_DATABASE_URL)
    basebackup, pg_ctl = _bin("pg_basebackup"), _bin("pg_ctl")
    if not basebackup or not pg_ctl:
        missing("pg_basebackup and pg_ctl (PostgreSQL's server programs) are not installed")
    folder = Path(tempfile.mkdtemp(prefix="neighbors-replica-"))
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    try:
        backup = subprocess.run(
            _as_postgres(
                [basebackup, "-h", primary.host or "127.0.0.1", "-p", str(primary.port or 5432)]
                + ["-U", primary.username or "postgres", "-D", str(data), "-X", "stream", "-R"]
                + ["-c", "fast"]
            ),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if backup.returncode != 0:
            missing(f"pg_basebackup could not copy the primary: {backup.stderr.strip()}")
        engine = sa.create_engine(
            TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://")
        )
        with engine.connect() as conn:
            settings = {
                name: conn.exec_driver_sql(f"SHOW {name}").scalar() for name in AT_LEAST_PRIMARY
            }
        engine.dispose()
        port = free_port()
        conf = [
            f"port = {port}",
            "listen_addresses = '127.0.0.1'",
            f"unix_socket_directories = '{folder}'",
            "hot_standby = on",
            "shared_buffers = 16MB",
            "fsync = off",
            *(f"{name} = {value}" for name, value in settings.items()),
        ]
        (data / "postgresql.conf").write_text("\n".join(conf) + "\n")
        (data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
        (data / "pg_ident.conf").write_text("")
        if os.geteuid() == 0:
            for name in ("postgresql.conf", "pg_hba.conf", "pg_ident.conf"):
                shutil.chown(data / name, "postgres")
        started = subprocess.run(
            _as_postgres([pg_ctl, "-D", str(data), "-l", str(folder / "log"), "-w", "start"]),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if started.returncode != 0:
            log = (folder / "log").read_text() if (folder / "log").exists() else ""
            pytest.fail(f"the replica did not start: {started.stderr}\n{log[-2000:]}")
        yield primary.set(port=port).render_as_string(hide_password=False)
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                _as_postgres([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"]),
                capture_output=True,
                timeout=120,
            )
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def routed(app, replica_url, live_make, database_url):
    """An app that reads from the replica, checking it on every read; and its replica's count of
    the statements pages sent it."""
    routed = create_app(
        {
            "ENV": "testing",
            "DATABASE_URL": database_url,
            "REPLICA_URLS": [replica_url],
            "REPLICA_CHECK_SECONDS": 0,
        }
    )
    replica = routed.extensions["neighbors_replicas"].engines[0]
    sent = []

    @sa.event.listens_for(replica, "before_cursor_execute")
    def count(_conn, _cursor, statement, *_args):
        if "pg_" not in statement:  # not the health check
            sent.append(statement)

    routed.replica_statements = sent
    routed.replica = replica
    yield routed
    with routed.app_context():
        db.session.remove()
        db.engine.dispose()
    replica.dispose()


def caught_up(routed):
    """Wait until the replica has replayed everything the primary wrote so far."""
    with routed.app_context():
        lsn = db.session.execute(sa.text("SELECT pg_current_wal_lsn()::text")).scalar()
        db.session.remove()
    with routed.replica.connect() as conn:
        for _ in range(600):
            query = sa.text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)")
            if conn.execute(query, {"lsn": lsn}).scalar():
                return
            time.sleep(0.05)
    pytest.fail("the replica did not catch up with the primary")


def forget_writes(client):
    """As if the read-your-writes window had passed."""
    with client.session_transaction() as session:
        session.pop("wrote_at", None)


def test_a_sign_up_shows_at_once_in_my_events(routed):
    factory = EventFactory(routed, Factory(routed))
    event_id = factory.event(title="复制延迟也看得到")
    _id, email = factory.make.user()
    caught_up(routed)
    client = routed.test_client()
    log_in(client, email)
    forget_writes(client)

    before = len(routed.replica_statements)
    page = client.get("/my/events", headers=EN).text
    assert "复制延迟也看得到" not in page
    assert len(routed.replica_statements) > before  # read from the replica

    # Replay stops: the replica now lags behind whatever is written next.
    with routed.replica.connect() as conn:
        conn.exec_driver_sql("SELECT pg_wal_replay_pause()")
    try:
        assert post_form(client, f"/events/{event_id}/signup", {}).status_code == 302
        before = len(routed.replica_statements)
        assert "复制延迟也看得到" in client.get("/my/events", headers=EN).text
        assert f"/events/{event_id}" in client.get("/my/events", headers=EN).text
        assert len(routed.replica_statements) == before  # the person's own write: the primary
        page = client.get(f"/events/{event_id}", headers=EN).text
        assert "You are signed up." in page
    finally:
        with routed.replica.connect() as conn:
            conn.exec_driver_sql("SELECT pg_wal_replay_resume()")


def test_a_replica_too_far_behind_is_skipped(routed):
    factory = EventFactory(routed, Factory(routed))
    caught_up(routed)
    routed.config["REPLICA_MAX_LAG_SECONDS"] = 0
    with routed.replica.connect() as conn:
        conn.exec_driver_sql("SELECT pg_wal_replay_pause()")
    try:
        factory.event(title="刚刚发布")
        before = len(routed.replica_statements)
        page = routed.test_client().get("/events", headers=EN).text
        assert "刚刚发布" in page
        assert len(routed.replica_statements) == before
    finally:
        with routed.replica.connect() as conn:
            conn.exec_driver_sql("SELECT pg_wal_replay_resume()")


# Exports that read the primary, and why (see hours.national): they write what they read.
PRIMARY_EXPORTS = {
    "certificates.national_download",  # may issue volunteer numbers; the run was just made
    "api.national_export",  # records the run and what it took ("only new" must be exact)
}


def test_every_export_reads_from_a_replica_or_says_why_not(app):
    downloads = re.compile(r"\.(csv|xlsx|beancount)>?$|<any\(csv")
    exports = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if downloads.search(rule.rule)
        or rule.endpoint in ("api.export_ledger", "foundation.detail")
    }
    assert "foundation.export" in exports and "mutual_aid.shop_report" in exports
    unmarked = {
        endpoint
        for endpoint in exports
        if not getattr(app.view_functions[endpoint], "reads_from_replica", False)
    }
    assert unmarked == PRIMARY_EXPORTS


@contextmanager
def replay_paused(routed):
    """The replica stops replaying: what the primary writes next is on the primary only."""
    with routed.replica.connect() as conn:
        conn.exec_driver_sql("SELECT pg_wal_replay_pause()")
    try:
        yield
    finally:
        with routed.replica.connect() as conn:
            conn.exec_driver_sql("SELECT pg_wal_replay_resume()")


def exports_logged(routed):
    with routed.app_context():
        query = sa.select(sa.func.count()).where(AuditEntry.action.like("%.export"))
        count = db.session.scalar(query)
        db.session.remove()
    return count


def test_an_export_reads_the_replica_unless_its_reader_just_wrote(routed):
    routed.config["REPLICA_MAX_LAG_SECONDS"] = 60  # paused replay stays fit: the rows tell
    team = Team(Factory(routed))
    team.fund("EDU")
    team.donate("EDU", "12.34")
    accountant, approver = routed.test_client(), routed.test_client()
    log_in(accountant, team.emails["accountant"])
    log_in(approver, team.emails["approver"])
    token = token_for(routed.test_client(), team.emails["accountant"])
    forget_writes(accountant)
    forget_writes(approver)
    caught_up(routed)
    year = local_today().year

    with replay_paused(routed):
        later = team.donate("EDU", "56.78")  # someone else's write: on the primary only
        logged = exports_logged(routed)
        before = len(routed.replica_statements)
        ledgers = [f"/foundation/ledger.{fmt}" for fmt in ("csv", "beancount", "xlsx")]
        for url in [*ledgers, f"/foundation/donations.csv?year={year}"]:
            body = accountant.get(url, headers=EN)
            assert body.status_code == 200, url
            if not url.endswith(".xlsx"):
                assert "12.34" in body.text and "56.78" not in body.text, url
        # The ledger's CSV is COPY on a raw connection, which no statement event counts: the
        # missing line shows that the replica wrote it; the others' SELECTs are counted.
        assert len(routed.replica_statements) > before
        assert exports_logged(routed) == logged + 4  # each logged, on the primary
        with accountant.session_transaction() as session:
            assert "wrote_at" not in session  # a logged export is not the reader's own write

        # The API has no cookie: it reads a replica only once it has replayed all the primary
        # had when the export began, so a paused one is passed over.
        api = routed.test_client().get("/api/v1/ledger?format=csv", headers=bearer(token))
        assert api.status_code == 200 and "56.78" in api.text

        # A reversal by the approver: their next export reads the primary, and shows it.
        url = f"/foundation/ledger/entries/{later.entry_id}/reverse"
        once = re.search(r'name="once" type="hidden" value="([^"]+)"', approver.get(url).text)
        form = {"once": once.group(1), "reason": "录错了"}
        assert post_form(approver, url, form).status_code == 302
        before = len(routed.replica_statements)
        rows = list(csv.reader(io.StringIO(approver.get("/foundation/ledger.csv").text)))
        assert str(later.entry_id) in [row[-1] for row in rows]  # the line that reverses it
        assert approver.get("/foundation/ledger.beancount").text.count("56.78") == 4
        assert len(routed.replica_statements) == before

        # Too far behind: every export reads the primary.
        routed.config["REPLICA_MAX_LAG_SECONDS"] = 0
        assert "56.78" in accountant.get("/foundation/ledger.csv").text
        assert "56.78" in accountant.get("/foundation/ledger.beancount").text
        assert len(routed.replica_statements) == before

    caught_up(routed)
    routed.config["REPLICA_MAX_LAG_SECONDS"] = 60
    before = len(routed.replica_statements)
    api = routed.test_client().get("/api/v1/ledger?format=beancount", headers=bearer(token))
    assert "56.78" in api.text and len(routed.replica_statements) > before  # caught up: replica


def test_a_streamed_export_keeps_its_replica_and_gives_its_connections_back(routed):
    team = Team(Factory(routed))
    team.fund("EDU")
    for n in range(3):
        team.donate("EDU", f"{n + 1}.25")
    client = routed.test_client()
    log_in(client, team.emails["accountant"])
    forget_writes(client)
    caught_up(routed)
    with routed.app_context():
        primary = db.engine
    for url in ("/foundation/ledger.csv", "/foundation/ledger.beancount"):
        response = client.get(url, buffered=False)
        chunks = iter(response.response)
        while b"1.25" not in next(chunks):  # the view has returned; its generator reads on
            pass
        assert routed.replica.pool.checkedout() == 1, url  # the replica's, for the whole file
        response.close()  # the download stops half-way
        assert routed.replica.pool.checkedout() == 0, url
        assert primary.pool.checkedout() == 0, url


def test_a_replica_that_is_down_is_skipped(routed, replica_url):  # last: it stops the replica
    make = Factory(routed)
    factory = EventFactory(routed, make)
    factory.event(title="备库停了也照常")
    caught_up(routed)
    client = routed.test_client()
    before = len(routed.replica_statements)
    assert "备库停了也照常" in client.get("/events", headers=EN).text
    assert len(routed.replica_statements) > before  # the replica answers while it is up

    team = Team(make)
    team.fund("EDU")
    team.donate("EDU", "43.21")
    accountant = routed.test_client()
    log_in(accountant, team.emails["accountant"])
    forget_writes(accountant)

    routed.replica.dispose()
    stop_replica(replica_url)
    before = len(routed.replica_statements)
    assert "备库停了也照常" in client.get("/events", headers=EN).text
    for fmt in ("csv", "beancount"):  # an export too: from the primary
        assert "43.21" in accountant.get(f"/foundation/ledger.{fmt}").text
    assert len(routed.replica_statements) == before


def stop_replica(replica_url):
    with sa.create_engine(
        sa.make_url(replica_url).set(drivername="postgresql+psycopg"), poolclass=sa.pool.NullPool
    ).connect() as conn:
        data = conn.exec_driver_sql("SHOW data_directory").scalar()
    subprocess.run(
        _as_postgres([_bin("pg_ctl"), "-D", data, "-m", "fast", "-w", "stop"]),
        check=True,
        capture_output=True,
        timeout=120,
    )

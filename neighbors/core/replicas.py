"""Reads from PostgreSQL streaming replicas (REPLICA_URLS), writes and fresh reads from the primary.

A view marked @reads_from_replica (public lists, event pages, dashboards, exports) sends its
SELECTs to a replica, unless
- a unit of work is open or the session is flushing (every write goes to the primary),
- the person wrote something in the last READ_YOUR_WRITES_SECONDS (a time stamp in their
  session cookie, set after any request that wrote: they read their own writes),
- no replica is fit: each is checked at most every REPLICA_CHECK_SECONDS and skipped when it
  does not answer or is more than REPLICA_MAX_LAG_SECONDS behind the primary.
The API keeps no cookie to say who wrote: its reads take a replica only once it has replayed all
the primary had written when they began (the client's own writes among it), waiting at most
EXACT_WAIT_SECONDS, else they read the primary. A write the request's reads do not depend on (an
export's audit entry) is made in write_aside(): on the primary, leaving the reads where they were.
Without REPLICA_URLS (and on SQLite) everything reads from the one database, as before.
"""

import functools
import logging
import threading
import time
from contextlib import contextmanager

import sqlalchemy as sa
from flask import current_app, g, has_request_context, request, session
from sqlalchemy import event, orm
from sqlalchemy.sql import Select

from neighbors.core.db import _in_unit_of_work
from neighbors.extensions import db

logger = logging.getLogger(__name__)

WROTE_AT = "wrote_at"  # the session cookie's key: when this person last wrote (epoch seconds)
EXACT_WAIT_SECONDS = 0.5  # how long an API read waits for a replica to replay the primary's WAL


def reads_from_replica(view):
    """This view's reads may come from a replica."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        g.reads_from_replica = True
        return view(*args, **kwargs)

    wrapper.reads_from_replica = True  # functools.wraps carries it through the outer decorators
    return wrapper


@contextmanager
def write_aside():
    """Writes that this request's reads, and the person's next ones, do not depend on (an
    export's audit entry): they go to the primary as every write does, but the export after them
    still reads from a replica."""
    if not has_request_context():
        yield
        return
    g.write_aside = True
    try:
        yield
    finally:
        g.write_aside = False


def connection():
    """The session's connection for reads, the replica's when this request reads from one: for
    code that takes the raw connection (the ledger's COPY), which no statement routes."""
    return db.session.connection(bind_arguments={"clause": sa.select(sa.literal(1))})


def register(app):
    """Create the replicas' engines, route reads, and remember who wrote."""
    urls = app.config["REPLICA_URLS"]
    if not urls:
        return
    from config import database_uri

    options = {
        **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
        "connect_args": {"connect_timeout": 2},
        "pool_pre_ping": True,  # a replica restarted under us is found before a page needs it
    }
    engines = [sa.create_engine(database_uri(url), **options) for url in urls]
    app.extensions["neighbors_replicas"] = Replicas(engines)
    app.extensions["neighbors_read_router"] = _route
    app.after_request(_remember_writes)


def _route(clause):
    """The replica engine for this statement, or None for the primary."""
    if not (has_request_context() and g.get("reads_from_replica")):
        return None
    if _in_unit_of_work.get() or g.get("wrote") or not isinstance(clause, Select):
        return None
    window = current_app.config["READ_YOUR_WRITES_SECONDS"]
    if time.time() - session.get(WROTE_AT, 0) < window:
        return None
    if "replica" not in g:  # one replica a request: one snapshot for the whole page
        replicas = current_app.extensions["neighbors_replicas"]
        g.replica = replicas.pick(exact=request.blueprint == "api")
    return g.replica


@event.listens_for(orm.Session, "after_commit")
def _note_write(_session):
    # Services commit only units of work (reads are never committed), and not every write is a
    # flush (the sign-up is one statement): a commit is what says this request wrote.
    if has_request_context() and not g.get("write_aside"):
        g.wrote = True


def _remember_writes(response):
    # The API reads no cookie; pages set the time stamp that keeps the next reads on the primary.
    if g.get("wrote") and request.blueprint != "api":
        session[WROTE_AT] = int(time.time()) + 1
    return response


class Replicas:
    """The replicas' engines and, per process, when each was last found fit."""

    def __init__(self, engines):
        self.engines = engines
        self.checked = {}  # engine -> (monotonic time of the check, fit)
        self.lock = threading.Lock()
        self.turn = 0

    def pick(self, exact=False):
        """A fit replica's engine (taking turns), or None. Exact: only one that has replayed
        what the primary had written when asked."""
        fit = [engine for engine in self.engines if self._fit(engine)]
        if not fit:
            return None
        self.turn += 1
        engine = fit[self.turn % len(fit)]
        if exact and not self._replayed(engine):
            return None
        return engine

    def _fit(self, engine):
        every = current_app.config["REPLICA_CHECK_SECONDS"]
        checked = self.checked.get(engine)
        if checked is not None and time.monotonic() - checked[0] < every:
            return checked[1]
        with self.lock:
            fit = self._check(engine)
            self.checked[engine] = (time.monotonic(), fit)
        return fit

    def _replayed(self, engine):
        """The replica has replayed the primary's WAL as of now (waiting a little for it)."""
        try:
            with db.engine.connect() as primary:
                lsn = primary.exec_driver_sql("SELECT pg_current_wal_lsn()::text").scalar()
            query = sa.text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)")
            deadline, pause = time.monotonic() + EXACT_WAIT_SECONDS, 0.001
            with engine.connect() as replica:
                while not replica.execute(query, {"lsn": lsn}).scalar():
                    if time.monotonic() > deadline:
                        return False
                    time.sleep(pause)  # replay takes a few milliseconds: ask often, then less
                    pause = min(pause * 2, 0.05)
        except sa.exc.SQLAlchemyError as exc:
            logger.warning("replica %s skipped: %s", engine.url.host, type(exc).__name__)
            return False
        return True

    def _check(self, engine):
        """Fit: it answers, is a standby, and has replayed what the primary had written a moment
        ago (or replayed within REPLICA_MAX_LAG_SECONDS)."""
        try:
            with db.engine.connect() as primary:
                lsn = primary.exec_driver_sql("SELECT pg_current_wal_lsn()::text").scalar()
            with engine.connect() as replica:
                standby, caught_up, lag = replica.execute(
                    sa.text(
                        "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= "
                        "CAST(:lsn AS pg_lsn), "
                        "EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"
                    ),
                    {"lsn": lsn},
                ).one()
        except sa.exc.SQLAlchemyError as exc:
            logger.warning("replica %s skipped: %s", engine.url.host, type(exc).__name__)
            return False
        limit = current_app.config["REPLICA_MAX_LAG_SECONDS"]
        fit = standby and (caught_up or (lag is not None and lag <= limit))
        if not fit:
            logger.warning("replica %s skipped: %s s behind", engine.url.host, lag)
        return bool(fit)

"""The scheduler process: one leader among any number of `neighbors scheduler` processes runs
the jobs, and each job runs once per scheduled time.

Two locks make that so. Leadership: a PostgreSQL advisory lock held by a dedicated connection
(a file lock beside the database on SQLite); a standby tries again every SCHEDULER_POLL_SECONDS
and takes over when the leader's connection goes. The claim: before a job runs, its (job,
scheduled time) row is inserted, and a unique constraint lets only one insert through, so even
two leaders for a moment (a leader cut off from the database) cannot run a tick twice.
"""

import contextlib
import logging
import os
import signal
import socket
import threading
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool

from neighbors.core.db import transaction, utcnow
from neighbors.extensions import db
from neighbors.jobs.models import JobRun
from neighbors.jobs.tasks import JOBS, SCHEDULE

logger = logging.getLogger(__name__)

# A job that starts more than this late (a busy or suspended host) is skipped until its next time.
GRACE = timedelta(seconds=30)
ADVISORY_LOCK_KEY = 0x4E454947  # "NEIG": the scheduler's leadership


def worker_name():
    """host:pid, recorded with each run."""
    return f"{socket.gethostname()}:{os.getpid()}"


def schedule(app):
    """Job name -> cron fields: the defaults with the configuration's SCHEDULE on top."""
    merged = {**SCHEDULE, **(app.config["SCHEDULE"] or {})}
    unknown = set(merged) - set(JOBS)
    if unknown:
        raise ValueError(f"SCHEDULE names unknown jobs: {', '.join(sorted(unknown))}")
    return {name: fields for name, fields in merged.items() if fields}


def run_job(app, name, slot=None, now=None):
    """Run one job for one scheduled time (slot) unless that time is claimed already.

    Returns the JobRun, or None when another run had the claim.
    """
    with app.app_context():
        now = now or utcnow()
        try:
            with transaction():
                run = JobRun(job=name, scheduled_for=slot or now, started_at=now)
                run.worker = worker_name()
                db.session.add(run)
        except IntegrityError:
            logger.info("job %s for %s has run already", name, (slot or now).isoformat())
            return None
        try:
            detail, ok = JOBS[name](now), True
        except Exception as exc:
            logger.exception("job %s failed", name)
            db.session.rollback()
            detail, ok = {"error": type(exc).__name__}, False
        with transaction():
            run.detail, run.ok, run.finished_at = detail, ok, utcnow()
        return run


def fire_time(trigger, now):
    """The latest time at or before now that the trigger fired, looking back GRACE at most;
    None when it did not fire in that time."""
    latest, candidate = None, trigger.get_next_fire_time(None, now - GRACE)
    while candidate is not None and candidate <= now:
        latest = candidate
        candidate = trigger.get_next_fire_time(candidate, candidate + timedelta(microseconds=1))
    return latest


def _tick(app, name, trigger):
    """What the scheduler calls: the job, claimed for the time its trigger fired."""
    now = utcnow()
    slot = fire_time(trigger, now)
    if slot is None:  # started too late to know its time: the claim could not guard it
        logger.warning("job %s started over %s late: skipped", name, GRACE)
        return
    run_job(app, name, slot=slot, now=now)


def build_scheduler(app):
    """APScheduler with each job on its cron trigger, in the display time zone."""
    timezone = ZoneInfo(app.config["DISPLAY_TIMEZONE"])
    scheduler = BackgroundScheduler(
        timezone=timezone,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": int(GRACE.total_seconds()),
        },
    )
    for name, fields in schedule(app).items():
        trigger = CronTrigger(timezone=timezone, **fields)
        scheduler.add_job(_tick, trigger, args=(app, name, trigger), id=name, name=name)
    return scheduler


class PostgresLeadership:
    """Leader while this connection holds the advisory lock; the lock goes with the connection."""

    def __init__(self, url):
        # Client keepalives and timeouts too: a leader cut off from the database notices within
        # about half a minute and steps down, instead of hanging on the kernel's TCP timeout.
        self.engine = sa.create_engine(
            url,
            poolclass=NullPool,
            hide_parameters=True,
            connect_args={
                "connect_timeout": 10,
                "keepalives": 1,
                "keepalives_idle": 10,
                "keepalives_interval": 5,
                "keepalives_count": 3,
                "options": "-c statement_timeout=10000",
            },
        )
        self.connection = None

    def try_acquire(self):
        try:
            connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            # The server notices a vanished leader host within about 25 s and drops its lock.
            for setting in ("tcp_keepalives_idle = 10", "tcp_keepalives_interval = 5"):
                connection.exec_driver_sql(f"SET {setting}")
            connection.exec_driver_sql("SET tcp_keepalives_count = 3")
            got = connection.execute(
                sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            ).scalar()
        except sa.exc.DBAPIError as exc:
            logger.warning("scheduler: the database does not answer: %s", exc.orig)
            if "connection" in locals():
                connection.close()
            return False
        if got:
            self.connection = connection
        else:
            connection.close()
        return bool(got)

    def still_held(self):
        try:
            self.connection.exec_driver_sql("SELECT 1")
            return True
        except sa.exc.DBAPIError:
            return False

    def release(self):
        if self.connection is not None:
            with contextlib.suppress(sa.exc.DBAPIError):  # gone already: so is the lock
                self.connection.close()
            self.connection = None


class FileLeadership:
    """SQLite: leader while this process holds an exclusive lock on a file beside the database."""

    def __init__(self, path):
        self.path = Path(path)
        self.handle = None

    def try_acquire(self):
        handle = open(self.path, "a+b")  # noqa: SIM115 (held for as long as we lead)
        try:
            _lock(handle)
        except OSError:
            handle.close()
            return False
        self.handle = handle
        return True

    def still_held(self):
        return True

    def release(self):
        if self.handle is not None:
            self.handle.close()
            self.handle = None


def _lock(handle):
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)


def leadership_for(app):
    url = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "postgresql":
        return PostgresLeadership(url)
    database = url.database if url.database and url.database != ":memory:" else None
    lock = Path(database + ".scheduler-lock") if database else Path(app.instance_path) / "lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    return FileLeadership(lock)


def serve(app, stop=None):
    """Wait to lead, run the jobs while leading, stop on SIGTERM/SIGINT or when `stop` is set."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    poll = float(app.config["SCHEDULER_POLL_SECONDS"])
    jobs = schedule(app)  # a typo in SCHEDULE stops the process here, not at the first tick
    leadership = leadership_for(app)
    logger.info("scheduler %s: %s jobs; waiting to lead", worker_name(), len(jobs))
    try:
        while not stop.is_set():
            if not leadership.try_acquire():
                stop.wait(poll)
                continue
            logger.info("scheduler %s leads", worker_name())
            scheduler = build_scheduler(app)
            scheduler.start()
            try:
                while not stop.wait(poll):
                    if not leadership.still_held():
                        logger.error("scheduler %s lost the database: stepping down", worker_name())
                        break
            finally:
                scheduler.shutdown(wait=True)
                leadership.release()
    except KeyboardInterrupt:
        pass
    logger.info("scheduler %s stopped", worker_name())

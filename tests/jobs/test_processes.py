"""Scheduler processes for real: two of them on one database, one leads, each tick runs once,
and when the leader is killed the other takes over. Runs on SQLite (file lock) and PostgreSQL
(advisory lock)."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from neighbors.core import outbox
from neighbors.core.db import transaction
from neighbors.extensions import db
from neighbors.jobs import scheduler, tasks
from neighbors.jobs.models import JobRun
from tests.servers import ROOT, process_env

EVERY_SECOND = {name: None for name in tasks.SCHEDULE} | {"deliver_outbox": {"second": "*"}}


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def runs(app):
    with app.app_context():
        return db.session.execute(
            select(JobRun.worker, JobRun.scheduled_for).order_by(JobRun.scheduled_for)
        ).all()


def queue_mail(app, subjects):
    with app.app_context(), transaction():
        for subject in subjects:
            outbox.queue("li@example.org", subject, "body")


@pytest.fixture
def schedulers(app, committing_db, database_url, inbox):
    """Starts scheduler processes that deliver the outbox every second to `inbox`."""
    started = []

    def start():
        env = process_env(
            database_url,
            NEIGHBORS_SCHEDULE=json.dumps(EVERY_SECOND),
            NEIGHBORS_SCHEDULER_POLL_SECONDS="0.5",
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=inbox.port,
        )
        command = [sys.executable, "-m", "flask", "--app", "wsgi", "neighbors", "scheduler"]
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        process.stderr.close()


def test_two_schedulers_one_leader_each_tick_once_and_a_takeover(app, schedulers, inbox):
    queue_mail(app, ["one", "two", "three"])
    first, second = schedulers(), schedulers()
    leader = wait_for(lambda: runs(app), 30, "a first tick")[0].worker
    wait_for(lambda: len(runs(app)) >= 4, 30, "four ticks")
    assert {worker for worker, _slot in runs(app)} == {leader}  # the standby ran nothing
    wait_for(lambda: len(inbox.messages) >= 3, 10, "the first messages")

    leading, standby = (first, second) if leader.endswith(f":{first.pid}") else (second, first)
    queue_mail(app, ["four", "five"])  # may go before or after the leader dies: never twice
    os.kill(leading.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    wait_for(
        lambda: any(worker.endswith(f":{standby.pid}") for worker, _slot in runs(app)),
        60,
        "the standby to take over",
    )
    takeover = time.monotonic() - killed_at
    assert takeover < 60
    wait_for(lambda: len(inbox.messages) >= 5, 20, "the later messages")
    time.sleep(2)  # a few more ticks: still nothing twice
    assert sorted(m["Subject"] for m in inbox.messages) == ["five", "four", "one", "three", "two"]
    slots = [slot for _worker, slot in runs(app)]
    assert len(slots) == len(set(slots))
    assert standby.poll() is None  # still running, now leading
    print(f"takeover after {takeover:.1f} s")


def test_a_scheduled_time_claimed_from_many_threads_at_once_runs_once(
    app, committing_db, monkeypatch
):
    calls = []
    monkeypatch.setitem(tasks.JOBS, "prune", lambda now: calls.append(now) or {})
    slot = datetime(2026, 11, 27, 3, 15, tzinfo=UTC)
    barrier = threading.Barrier(8)
    results = []

    def claim():
        barrier.wait()
        results.append(scheduler.run_job(app, "prune", slot=slot))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert sum(result is not None for result in results) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(JobRun)) == 1

"""`python3 manage.py run` as a new user runs it: it serves, prints what the README says, and a
SIGTERM or SIGHUP stops it all (web server and scheduler), as Ctrl+C does."""

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.servers import ROOT, free_port


def group_members(group):
    """Live processes (zombies hold no port) of a process group, read from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        # pid (comm) state ppid pgrp …: comm may hold spaces, so split after its ")".
        state, _ppid, pgrp = stat.rpartition(")")[2].split()[:3]
        if int(pgrp) == group and state != "Z":
            members.append(int(entry.name))
    return members


def port_is_free(port):
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is not a server
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def healthz(port):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """A throwaway SQLite file, shared by the runs here (the second finds the demo loaded)."""
    return tmp_path_factory.mktemp("run") / "run.db"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_to_run_stops_the_web_server_and_the_scheduler(database, tmp_path, signum):
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        # A throwaway database and the testing settings (keys, cheap password hashing): the
        # developer's instance/ folder is never touched.
        "NEIGHBORS_ENV": "testing",
        "DATABASE_URL": f"sqlite:///{database}",
    }
    env.pop("NEIGHBORS_TEST_DATABASE_URL", None)
    output = tmp_path / "run.log"
    with output.open("wb") as log:
        # A session of its own: the test can find (and, should it fail, end) all it started.
        run = subprocess.Popen(
            [sys.executable, "manage.py", "run"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while True:  # serving, and it said so (with the pid to signal)
            assert run.poll() is None, output.read_text()
            try:
                if healthz(port) == 200 and "Neighbors is running" in output.read_text():
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, output.read_text()
            time.sleep(0.3)
        started = group_members(run.pid)
        assert len(started) >= 3, started  # manage.py, the web server, the scheduler

        run.send_signal(signum)
        run.wait(timeout=30)
        deadline = time.monotonic() + 10
        while group_members(run.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [(pid, Path(f"/proc/{pid}/cmdline").read_bytes()) for pid in group_members(run.pid)]
        assert left == [], "left running after manage.py ended"
        assert port_is_free(port)
        assert run.returncode == 0  # stopped as asked, not killed
    finally:
        if group_members(run.pid):
            os.killpg(run.pid, signal.SIGKILL)
        run.wait(timeout=10)

    printed = output.read_text()
    assert f"Neighbors is running at http://127.0.0.1:{port}/" in printed
    assert f"kill {run.pid}" in printed  # how to stop it, with the pid to signal
    assert "\x1b[" not in printed  # the development server's colours stay off a file

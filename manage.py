#!/usr/bin/env python3
"""The two commands of the README, with nothing but Python 3.11 installed.

    python3 manage.py run     install into .venv, migrate, load the demo city if empty, serve
                          (with the scheduler beside the web server)
    python3 manage.py test    install into .venv (with test tools) and run the whole test suite

`python3 manage.py translations` re-extracts the messages and updates both catalogues.
"""

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
TRANSLATIONS = ROOT / "neighbors" / "translations"


def sh(*args, env=None):
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True, env=env)


def install(extras):
    """Create .venv and install the project into it, again only when pyproject.toml changed."""
    if sys.version_info < (3, 11):  # noqa: UP036 (this file may be run by an older Python)
        sys.exit("Neighbors needs Python 3.11 or newer.")
    if not PYTHON.exists():
        try:
            import ensurepip  # noqa: F401
        except ImportError:
            sys.exit(
                "This Python cannot make virtual environments. On Debian or Ubuntu: "
                "sudo apt install python3-venv"
            )
        print(f"Creating a virtual environment in {VENV.name}/", flush=True)
        try:
            venv.create(VENV, with_pip=True)
        except Exception:
            shutil.rmtree(VENV, ignore_errors=True)  # never leave half an environment behind
            raise
    pyproject = (ROOT / "pyproject.toml").read_bytes()

    def digest(extras):
        return hashlib.sha256(pyproject + extras.encode()).hexdigest()

    wanted = digest(extras)
    enough = {wanted}
    if not extras:  # installing with any extras installed the app itself as well
        import tomllib

        enough.update(
            map(digest, tomllib.loads(pyproject.decode())["project"]["optional-dependencies"])
        )
    stamp = VENV / ".neighbors-installed"
    installed = stamp.read_text().split() if stamp.exists() else []
    if not enough.intersection(installed):
        target = f".[{extras}]" if extras else "."
        sh(PYTHON, "-m", "pip", "install", "--disable-pip-version-check", "-q", "-e", target)
        stamp.write_text("\n".join([*installed, wanted]))
    # Compiled catalogues are build products, never committed.
    sh(PYTHON, "-m", "babel.messages.frontend", "compile", "-d", TRANSLATIONS)


class Stop(Exception):
    """SIGTERM or SIGHUP arrived: stop like Ctrl+C does."""


def _raise_stop(signum, _frame):
    for other in STOP_SIGNALS:
        signal.signal(other, signal.SIG_IGN)  # once is enough: the children are being ended
    raise Stop(signum)


# What stops `run`: Ctrl+C (SIGINT, which the terminal sends to every process of the group),
# and SIGTERM (`kill PID`) or SIGHUP (the terminal closed), which reach this process only.
STOP_SIGNALS = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]


def _end(children, grace=10):
    """Stop the children (SIGTERM, then SIGKILL after `grace` seconds) and reap them."""
    for signum in (signal.SIGINT, *STOP_SIGNALS):
        signal.signal(signum, signal.SIG_IGN)  # a second signal must not cut this short
    for child in children:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + grace
    for child in children:
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _wait_for_port(port, process, seconds=60):
    """Until the web server takes connections (or ends, or a minute passes)."""
    deadline = time.monotonic() + seconds
    while process.poll() is None and time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)


def run(argv):
    for signum in STOP_SIGNALS:
        signal.signal(signum, _raise_stop)
    children = []
    code = 0
    try:
        install("")
        flask = [PYTHON, "-m", "flask", "--app", "wsgi"]
        sh(*flask, "db", "upgrade")
        sh(*flask, "neighbors", "demo", "--if-empty")
        port = os.environ.get("PORT", "5000")
        # The scheduler (reminders, e-mail, completing past events) runs beside the web server.
        children.append(subprocess.Popen([*flask, "neighbors", "scheduler"], cwd=ROOT))
        web = subprocess.Popen([*flask, "run", "--port", port, *argv], cwd=ROOT)
        children.append(web)
        _wait_for_port(int(port), web)
        print(
            f"\nNeighbors is running at http://127.0.0.1:{port}/  "
            f"(Ctrl+C or `kill {os.getpid()}` stops it)\n",
            flush=True,
        )
        code = web.wait()  # the web server ends on its own only when it cannot serve
    except (KeyboardInterrupt, Stop):
        pass
    finally:
        _end(children)
    sys.exit(code)


AXE = ROOT / "tests" / "web" / "axe"


def install_axe():
    """axe-core, which the browser checks inject into every page, from the npm registry as
    tests/web/axe/package-lock.json pins it (npm ci checks its integrity hash); again only when
    the lock file changed. Without npm the browser checks say so (and skip, or fail in CI)."""
    npm = shutil.which("npm")
    if npm is None:
        print("npm not found: the browser checks will report axe-core missing", flush=True)
        return
    lock = (AXE / "package-lock.json").read_bytes()
    stamp = AXE / "node_modules" / ".neighbors-installed"
    wanted = hashlib.sha256(lock).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted:
        return
    sh(npm, "ci", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", AXE)
    stamp.write_text(wanted)


def test(argv):
    install("test")
    install_axe()
    os.execv(PYTHON, [str(PYTHON), "-m", "pytest", *argv])


def translations(_argv):
    """Extract messages, update the catalogues; English translations are the source text."""
    install("test")
    pot = TRANSLATIONS / "messages.pot"
    babel = [PYTHON, "-m", "babel.messages.frontend"]
    sh(
        *babel,
        "extract",
        "-F",
        "babel.cfg",
        "-k",
        "_l",
        "--no-location",
        "--sort-output",
        "--project",
        "Neighbors",
        "-o",
        pot,
        ".",
    )
    sh(*babel, "update", "-i", pot, "-d", TRANSLATIONS, "--ignore-obsolete")
    sh(PYTHON, "-c", "from tests.i18n import fill_english; fill_english()")


COMMANDS = {"run": run, "test": test, "translations": translations}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](sys.argv[2:])

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
import subprocess
import sys
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
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / ".neighbors-installed"
    installed = stamp.read_text().split() if stamp.exists() else []
    if wanted not in installed:
        target = f".[{extras}]" if extras else "."
        sh(PYTHON, "-m", "pip", "install", "--disable-pip-version-check", "-q", "-e", target)
        stamp.write_text("\n".join([*installed, wanted]))
    # Compiled catalogues are build products, never committed.
    sh(PYTHON, "-m", "babel.messages.frontend", "compile", "-d", TRANSLATIONS)


def run(argv):
    install("")
    flask = [PYTHON, "-m", "flask", "--app", "wsgi"]
    sh(*flask, "db", "upgrade")
    sh(*flask, "neighbors", "demo", "--if-empty")
    port = os.environ.get("PORT", "5000")
    # The scheduler (reminders, e-mail, completing past events) runs beside the web server.
    scheduler = subprocess.Popen([*flask, "neighbors", "scheduler"], cwd=ROOT)
    print(f"\nNeighbors is running at http://127.0.0.1:{port}/  (Ctrl+C stops it)\n", flush=True)
    try:
        subprocess.run([*flask, "run", "--port", port, *argv], cwd=ROOT, check=False)
    except KeyboardInterrupt:
        pass
    finally:
        scheduler.terminate()
        scheduler.wait(timeout=30)


def test(argv):
    install("test")
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

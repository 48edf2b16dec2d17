"""City scale: the pages people use most, under gunicorn (4 workers) on the seeded city, loaded
by wrk from a separate process over loopback, beside a bare Flask "hello" served the same way.

    .venv/bin/python bench/seed.py --scale 0.1          # once: the city (see bench/README.md)
    .venv/bin/python bench/city.py --scale 0.1 [--seconds 10] [--connections 16] [--all]

With --all it then runs bench/signup_storm.py (against pgbench's same transaction) and
bench/export_ledger.py (against COPY), so that one command measures everything with its ceiling.
Each scenario's queries per request are counted on the same database, so a page whose count
grows with the city shows here. Appends the table to bench/RESULTS.md. Not part of the tests.
"""

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
APP_PORT, HELLO_PORT = 8078, 8079
ENV = {
    "NEIGHBORS_ENV": "production",
    "SECRET_KEY": "bench-secret-key-bench-secret-key",
    "NEIGHBORS_DATA_KEY": "bench-data",
    "NEIGHBORS_RATELIMIT_ENABLED": "false",
    "NEIGHBORS_BASE_URL": "http://127.0.0.1",
    "WEB_CONCURRENCY": "4",
}

# Each request picks the next line of a file: an id, or a cookie.
ROTATING = """
local lines, n = {}, 0
for line in io.lines("%(file)s") do n = n + 1; lines[n] = line end
local counter = 0
function setup(thread) counter = counter + 1; thread:set("id", counter) end
function init(args) i = id * 7919 end
request = function()
  i = i + 1
  local value = lines[(i %% n) + 1]
  %(request)s
end
"""
BY_ID = 'return wrk.format("GET", "%(path)s" .. value)'
BY_COOKIE = 'return wrk.format("GET", "%(path)s", {["Cookie"] = value})'


def facts(scale):
    name = "neighbors_city" if scale == 1.0 else "neighbors_city_tenth"
    path = ROOT / "bench" / f".city-{name}.json"
    if not path.exists():
        raise SystemExit(f"{path.name} is missing: run bench/seed.py --scale {scale} first")
    return json.loads(path.read_text())


def serve(module, port, env, log):
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), module],
        cwd=ROOT,
        env={**os.environ, **ENV, **env, "BIND": f"127.0.0.1:{port}"},
        stdout=log,
        stderr=log,
    )
    for _ in range(150):
        try:
            if get(port, "/")[0] < 500:
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"gunicorn {module} did not start")


def get(port, path, headers=None, method="GET", body=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, response.headers, data


def log_in(email, password):
    """A session cookie, logging in through the login form as a browser does."""
    status, headers, page = get(APP_PORT, "/login")
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()
    form = f"csrf_token={token}&login={email}&password={password}"
    status, headers, _ = get(
        APP_PORT,
        "/login",
        {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        "POST",
        form,
    )
    if status != 302:
        raise SystemExit(f"could not log in {email}: {status}")
    return headers["Set-Cookie"].split(";", 1)[0]


def wrk(port, path, seconds, connections, script=None):
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        command += ["-s", str(script)]
    out = subprocess.run(
        [*command, f"http://127.0.0.1:{port}{path}"], check=True, capture_output=True, text=True
    ).stdout
    latency = {p: _ms(v, u) for p, v, u in re.findall(r"\s(50|99)%\s+([\d.]+)(us|ms|s)\b", out)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": latency.get("50"),
        "p99": latency.get("99"),
        "errors": int(errors.group(1)) if errors else 0,
    }


def _ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def rotating(tmp, name, values, request):
    data, script = tmp / f"{name}.txt", tmp / f"{name}.lua"
    data.write_text("\n".join(values) + "\n")
    script.write_text(ROTATING % {"file": data, "request": request})
    return script


def deep_cursor(url, depth):
    """The list's cursor after `depth` events, as the app makes it (its own function)."""
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import select

    from neighbors import create_app
    from neighbors.core.db import utcnow
    from neighbors.events import queries
    from neighbors.events.models import Event, EventStatus
    from neighbors.extensions import db

    app = create_app({"ENV": "testing", "DATABASE_URL": url})
    with app.app_context():
        event = db.session.scalar(
            select(Event)
            .where(Event.status == EventStatus.PUBLISHED, Event.starts_at >= utcnow())
            .order_by(Event.starts_at, Event.id)
            .offset(depth)
            .limit(1)
        )
        cursor = queries._encode_cursor(event)
        db.engine.dispose()
    return cursor


def count_queries(url, paths, cookies):
    """Statements per request for each path, through the app on the same database."""
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import event

    from neighbors import create_app
    from neighbors.extensions import db

    app = create_app(
        {"ENV": "testing", "DATABASE_URL": url, "SECRET_KEY": ENV["SECRET_KEY"],
         "DATA_KEY": ENV["NEIGHBORS_DATA_KEY"]}
    )  # fmt: skip
    counts = {}
    with app.app_context():
        engine = db.engine
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        for name, path in paths.items():
            client = app.test_client()
            if cookies.get(name):  # the test client sends its own jar, not a Cookie header
                client.set_cookie(*cookies[name].split("=", 1))
            statements.clear()
            status = client.get(path).status_code
            counts[name] = len(statements) if status == 200 else f"HTTP {status}"
    finally:
        event.remove(engine, "before_cursor_execute", count)
        with app.app_context():
            db.engine.dispose()
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--all", action="store_true", help="also the sign-up storm and exports")
    args = parser.parse_args()
    for tool in ("wrk", "pgbench"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is needed (Debian: apt install wrk postgresql-client)")
    city = facts(args.scale)
    url = city["url"]
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        with open(tmp / "gunicorn.log", "w") as log:
            servers = [serve("bench.hello:app", HELLO_PORT, {}, log)]
            try:
                servers.append(serve("wsgi:app", APP_PORT, {"DATABASE_URL": url}, log))
                results, queries = run_scenarios(tmp, city, args)
            finally:  # a server left running would answer the next run in place of its own
                for server in servers:
                    server.terminate()
                    server.wait()
    report(args, city, results, queries)
    if args.all:
        for script in ("signup_storm.py", "export_ledger.py"):
            subprocess.run([sys.executable, str(ROOT / "bench" / script)], check=True, cwd=ROOT)


def run_scenarios(tmp, city, args):
    password = city["password"]
    volunteers = [log_in(email, password) for email in city["volunteer_emails"][:50]]
    staff = [log_in(email, password) for email in city["staff_emails"][:10]]
    for cookie, page in ((volunteers[0], "/my/events"), (staff[0], "/staff/dashboard")):
        if get(APP_PORT, page, {"Cookie": cookie})[0] != 200:  # wrk counts redirects as fine
            raise SystemExit(f"{page} does not answer a logged-in person")
    cursor = deep_cursor(city["url"], min(50_000, city["counts"]["events"] // 4))
    events = [str(i) for i in city["upcoming_event_ids"]]
    s, c = args.seconds, args.connections
    plans = {
        "hello (bare Flask)": (HELLO_PORT, "/", None),
        "health check (one SELECT 1)": (APP_PORT, "/healthz", None),
        "privacy page (a template, no database)": (APP_PORT, "/privacy", None),
        "event list, first page": (APP_PORT, "/events", None),
        "event list, deep cursor": (APP_PORT, f"/events?cursor={cursor}", None),
        "event page": (
            APP_PORT, "/", rotating(tmp, "events", events, BY_ID % {"path": "/events/"}),
        ),
        "API event list": (APP_PORT, "/api/v1/events", None),
        "my events (logged in)": (
            APP_PORT, "/", rotating(tmp, "mine", volunteers, BY_COOKIE % {"path": "/my/events"}),
        ),
        "my hours (logged in)": (
            APP_PORT, "/", rotating(tmp, "hours", volunteers, BY_COOKIE % {"path": "/my/hours"}),
        ),
        "staff dashboard": (
            APP_PORT, "/",
            rotating(tmp, "staff", staff, BY_COOKIE % {"path": "/staff/dashboard"}),
        ),
        # The pages of organisations, stations, mutual aid and the shop (issues 14 and 15).
        "organisations directory": (APP_PORT, "/organisations", None),
        "stations": (APP_PORT, "/stations", None),
        "wish wall": (APP_PORT, "/wishes", None),
        "love supermarket (staff)": (
            APP_PORT, "/", rotating(tmp, "shop", staff, BY_COOKIE % {"path": "/staff/shop"}),
        ),
    }  # fmt: skip
    results = {}
    for label, (port, path, script) in plans.items():
        wrk(port, path, 2, c, script)  # warm-up: templates compiled, connections made, caches
        results[label] = wrk(port, path, s, c, script)
        print(label, results[label], flush=True)
    queries = count_queries(
        city["url"],
        {
            "event list, first page": "/events",
            "event list, deep cursor": f"/events?cursor={cursor}",
            "event page": f"/events/{events[0]}",
            "API event list": "/api/v1/events",
            "my events (logged in)": "/my/events",
            "my hours (logged in)": "/my/hours",
            "staff dashboard": "/staff/dashboard",
            "organisations directory": "/organisations",
            "stations": "/stations",
            "wish wall": "/wishes",
            "love supermarket (staff)": "/staff/shop",
        },
        {
            "my events (logged in)": volunteers[0],
            "my hours (logged in)": volunteers[0],
            "staff dashboard": staff[0],
            "love supermarket (staff)": staff[0],
        },
    )
    return results, queries


def report(args, city, results, queries):
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        "?",
    )
    counts = city["counts"]
    hello = results["hello (bare Flask)"]["rps"]
    lines = [
        f"\n## City pages, scale {args.scale}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n",
        f"Machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, PostgreSQL on the same machine. The city: "
        f"{counts['users']:,} accounts, {counts['events']:,} events, {counts['signups']:,} "
        f"sign-ups, {counts['service_records']:,} service records, "
        f"{counts['journal_entries']:,} ledger entries. gunicorn 4 sync workers "
        f"(gunicorn.conf.py); wrk 2 threads, {args.connections} connections, {args.seconds} s "
        "per scenario.\n",
        "| scenario | requests/s | p50 ms | p99 ms | non-2xx | of hello | queries |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, run in results.items():
        lines.append(
            f"| {label} | {run['rps']:.0f} | {run['p50']:.1f} | {run['p99']:.1f} | "
            f"{run['errors']} | {run['rps'] / hello:.0%} | {queries.get(label, '')} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    with (ROOT / "bench" / "RESULTS.md").open("a") as handle:
        handle.write(text)


if __name__ == "__main__":
    main()

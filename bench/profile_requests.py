"""Per-request cost in-process: the app's pages through a WSGI call loop, no server, no wrk.

    .venv/bin/python bench/profile_requests.py [--database-url URL] [--requests 500]
    .venv/bin/python bench/profile_requests.py --profile /events      # cProfile of one page

Throughput on a machine shared with other work is noise; the CPU time a request costs in one
process is not (much). It loads the demo city (and 40 more events, so the list has a full page)
into a fresh database (a temporary SQLite file unless --database-url names an empty PostgreSQL
database), logs a volunteer in through the login form, then calls each page many times and
prints microseconds of CPU per request (process time), beside a bare Flask "hello" measured the
same way. Production settings (secure cookies, the request log at INFO into a null handler,
CSRF, the limiter on with memory storage). Not part of the tests.
"""

import argparse
import cProfile
import io
import logging
import os
import pstats
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PAGES = {
    "hello (bare Flask)": None,
    "/healthz": "/healthz",
    "template page, no database (/privacy)": "/privacy",
    "event list": "/events",
    "event page": "/events/{event}",
    "my events": "/my/events",
    "my hours": "/my/hours",
}


def build(database_url, overrides):
    import flask_migrate

    from neighbors import create_app
    from neighbors.extensions import db

    app = create_app(
        {
            "ENV": "production",
            "SECRET_KEY": "profile-secret-key-profile-secret",
            "DATA_KEY": "profile-data",
            "DATABASE_URL": database_url,
            "BASE_URL": "https://localhost",
            "RATELIMIT_STORAGE_URI": "memory://",
            "PASSWORD_TIME_COST": 1,
            "PASSWORD_MEMORY_COST": 8,
            "PASSWORD_PARALLELISM": 1,
            **overrides,
        }
    )
    logging.getLogger("neighbors.request").handlers[:] = [logging.NullHandler()]
    logging.getLogger("neighbors.request").propagate = False
    with app.app_context():
        flask_migrate.upgrade()
        from neighbors.accounts import services as accounts
        from neighbors.demo import demo_event_fields, load_demo
        from neighbors.events import services as events

        load_demo()
        staff = accounts.user_by_email("staff@example.org")
        for n in range(40):
            fields = demo_event_fields(1 + n % 20, 9 + n % 8, "warmth", f"活动 {n}", "活动室", 30)
            event = events.create_event(staff, community_code="210102002001", **fields)
            events.publish_event(staff, event.id)
        event_id = event.id
        db.session.remove()
    return app, event_id


def log_in(app, email, password):
    client = app.test_client()
    page = client.get("/login", base_url="https://localhost").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    answer = client.post(
        "/login",
        data={"login": email, "password": password, "csrf_token": token},
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},
    )
    assert answer.status_code == 302, answer.status_code
    return client


def cost(call, n):
    """Microseconds of this process's CPU per call, the best of three rounds."""
    for _ in range(20):
        call()
    best = None
    for _ in range(3):
        started = time.process_time()
        for _ in range(n):
            call()
        took = (time.process_time() - started) / n * 1e6
        best = took if best is None else min(best, took)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: SQLite)")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--profile", help="a path to profile (cProfile, top 30 by own time)")
    parser.add_argument("--anonymous", action="store_true", help="not logged in")
    parser.add_argument("--only", help="these paths only, comma-separated (e.g. /healthz,/privacy)")
    parser.add_argument("--set", action="append", default=[], help="NAME=VALUE config override")
    args = parser.parse_args()
    overrides = {}
    for item in args.set:
        name, _, value = item.partition("=")
        overrides[name] = int(value) if value.isdigit() else value
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/profile.db"
        app, event_id = build(url, overrides)
        if args.anonymous:
            client = app.test_client()
        else:
            client = log_in(app, "volunteer@example.org", "demo-password")

        def page(path):
            def call():
                answer = client.get(path, base_url="https://localhost")
                assert answer.status_code == 200, (path, answer.status_code)

            return call

        if args.profile:
            path = args.profile.format(event=event_id)
            call = page(path)
            for _ in range(20):
                call()
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.requests):
                call()
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(
                os.environ.get("SORT", "tottime")
            ).print_stats(30)
            print(out.getvalue())
            return
        from hello import app as hello

        hello_client = hello.test_client()
        print(f"{'page':<40} µs CPU/request")
        for label, path in PAGES.items():
            if path is not None and args.only and path not in args.only.split(","):
                continue
            if path is not None and args.anonymous and path.startswith("/my/"):
                continue  # they ask a visitor to log in
            if path is None:
                took = cost(lambda: hello_client.get("/"), args.requests)
            else:
                took = cost(page(path.format(event=event_id)), args.requests)
            print(f"{label:<40} {took:8.0f}", flush=True)


if __name__ == "__main__":
    main()

"""Organisations' and stations' pages on a seeded city: queries per request and time per request.

    .venv/bin/python bench/org_pages.py [--database-url URL] [--requests 20]

Reads a database made by `bench/seed.py` (default: BENCH_DATABASE_URL, else neighbors_city).
In one process through the app's test client (no web server, so the time is the app's and the
database's): the event list, the organisation directory of one community and of the city, the
public page of the busiest organisation (most events), its coordinator's page, a station's week
and the staff's hours by organisation. Each page's statements are counted on one request and
its time is the median of --requests requests after one warm-up. Appends to RESULTS.md.
"""

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PASSWORD = "bench-password"  # noqa: S105 (the seed's, printed by it)


def pick(url):
    """The busiest organisation, its leader's e-mail, its community and station, and the
    staff member of that community."""
    with psycopg.connect(url) as conn:
        organisation, community_id = conn.execute(
            """SELECT organisation_id, e.community_id FROM events e
               WHERE organisation_id IS NOT NULL
               GROUP BY organisation_id, e.community_id ORDER BY count(*) DESC LIMIT 1"""
        ).fetchone()
        leader = conn.execute(
            """SELECT u.email FROM organisation_members m JOIN users u ON u.id = m.user_id
               WHERE m.organisation_id = %s AND m.role = 'leader'""",
            (organisation,),
        ).fetchone()[0]
        community = conn.execute(
            "SELECT code FROM communities WHERE id = %s", (community_id,)
        ).fetchone()[0]
        station = conn.execute(
            """SELECT s.code FROM stations s JOIN station_communities c ON c.station_id = s.id
               WHERE c.community_id = %s ORDER BY s.id LIMIT 1""",
            (community_id,),
        ).fetchone()[0]
        staff = conn.execute(
            """SELECT u.email FROM role_grants g JOIN users u ON u.id = g.user_id
               WHERE g.role = 'staff' AND g.community_id = %s LIMIT 1""",
            (community_id,),
        ).fetchone()[0]
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            for table in ("organisations", "organisation_members", "stations", "events")
        }
    return organisation, leader, community, station, staff, counts


def measure(url, requests):
    from sqlalchemy import event

    from neighbors import create_app
    from neighbors.extensions import db

    organisation, leader, community, station, staff, counts = pick(url)
    app = create_app(
        {"ENV": "testing", "DATABASE_URL": url, "SECRET_KEY": "bench-secret-key-bench-secret",
         "DATA_KEY": "bench-data", "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False}
    )  # fmt: skip
    clients = {"anonymous": app.test_client()}
    for who, email in (("leader", leader), ("staff", staff)):
        client = app.test_client()
        response = client.post("/login", data={"login": email, "password": PASSWORD})
        if response.status_code != 302:
            raise SystemExit(f"{email} cannot log in: {response.status_code}")
        clients[who] = client
    pages = {
        "event list": ("anonymous", "/events"),
        "organisations of a community": ("anonymous", f"/organisations?community={community}"),
        "organisations of the city (first 200)": ("anonymous", "/organisations"),
        "an organisation's page": ("anonymous", f"/organisations/{organisation}"),
        "its coordinator's page": ("leader", f"/organisations/{organisation}/manage"),
        "a station's week": ("anonymous", f"/stations/{station}"),
        "staff: hours by organisation": ("staff", "/staff/organisations/hours"),
    }
    with app.app_context():
        engine = db.engine
    statements = []

    def count(*_args):
        statements.append(1)

    results = {}
    for label, (who, path) in pages.items():
        client = clients[who]
        assert client.get(path).status_code == 200, path  # warm-up
        event.listen(engine, "before_cursor_execute", count)
        statements.clear()
        client.get(path)
        event.remove(engine, "before_cursor_execute", count)
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            client.get(path)
            times.append((time.perf_counter() - started) * 1000)
        results[label] = (len(statements), statistics.median(times))
        print(f"{label}: {results[label][0]} queries, {results[label][1]:.1f} ms", flush=True)
    return counts, results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    url = args.database_url or "postgresql://postgres@127.0.0.1/neighbors_city"
    counts, results = measure(url, args.requests)
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        "?",
    )
    lines = [
        f"\n## Organisations' and stations' pages, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n",
        f"Machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, PostgreSQL on the same machine (shared with "
        f"other work). The city: {counts['organisations']:,} organisations with "
        f"{counts['organisation_members']:,} members, {counts['stations']:,} stations, "
        f"{counts['events']:,} events. One process, the app's test client; the median of "
        f"{args.requests} requests.\n",
        "| page | queries | median ms |",
        "|---|---|---|",
    ]
    lines += [f"| {label} | {n} | {ms:.1f} |" for label, (n, ms) in results.items()]
    text = "\n".join(lines) + "\n"
    print(text)
    with (ROOT / "bench" / "RESULTS.md").open("a") as handle:
        handle.write(text)


if __name__ == "__main__":
    main()

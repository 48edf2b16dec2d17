"""Sign-up storm: the app under gunicorn (4 workers) on PostgreSQL, loaded by wrk over loopback,
beside pgbench running the same sign-up transaction at the same concurrency.

    .venv/bin/python bench/signup_storm.py [--seconds 10] [--connections 8]

Needs PostgreSQL (BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1/neighbors_bench;
the database is dropped and made anew), wrk and pgbench (Debian: apt install wrk
postgresql-client). Appends a table to bench/RESULTS.md. Not part of the test suite.
"""

import argparse
import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1/neighbors_bench")
PORT = 8077
USERS = 60_000
MANY_EVENTS = 1_000
HOT_CAPACITY = 200
MANY_CAPACITY = 20

LUA = """
local tokens, n, events, first = {}, 0, %(events)d, %(first)d
for line in io.lines("%(tokens)s") do n = n + 1; tokens[n] = line end
local counter = 0
function setup(thread) counter = counter + 1; thread:set("id", counter) end
function init(args) i = id * 7919 end
request = function()
  i = i + %(threads)d
  local token = tokens[(i %% n) + 1]
  local event = first + (i %% events)
  return wrk.format("POST", "/api/v1/events/" .. event .. "/signups",
                    {["Authorization"] = "Bearer " .. token})
end
"""

PGBENCH = """
\\set uid random(1, %(users)d)
\\set eid random(%(first)d, %(last)d)
BEGIN;
SELECT id FROM signups WHERE event_id = :eid AND user_id = :uid AND status <> 'cancelled';
UPDATE events SET
  confirmed_count = confirmed_count
    + CASE WHEN confirmed_count < capacity AND waitlist_count = 0 THEN 1 ELSE 0 END,
  waitlist_count = waitlist_count
    + CASE WHEN confirmed_count < capacity AND waitlist_count = 0 THEN 0 ELSE 1 END,
  waitlist_seq = waitlist_seq
    + CASE WHEN confirmed_count < capacity AND waitlist_count = 0 THEN 0 ELSE 1 END
WHERE id = :eid AND status = 'published' AND starts_at > now()
RETURNING waitlist_count, waitlist_seq;
INSERT INTO signups (event_id, user_id, status, waitlist_seq, created_at)
VALUES (:eid, :uid, 'waitlisted', 1, now())
ON CONFLICT (event_id, user_id) WHERE status <> 'cancelled' DO NOTHING;
INSERT INTO audit_entries (at, actor_id, action, object_type, object_id, detail)
VALUES (now(), :uid, 'signup.create', 'signups', '0', '{}');
END;
"""


def sh(*args, **kwargs):
    return subprocess.run(args, check=True, text=True, capture_output=True, **kwargs).stdout


def reset_database():
    admin = re.sub(r"/[^/]*$", "/postgres", URL)
    name = URL.rsplit("/", 1)[1]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")


def seed(tmp):
    """Schema by migrations; users, tokens and events by COPY (fast, and realistic rows)."""
    env = {**os.environ, "DATABASE_URL": URL, "NEIGHBORS_ENV": "development"}
    sh(str(BIN / "flask"), "--app", "wsgi", "db", "upgrade", cwd=ROOT, env=env)
    sh(
        str(BIN / "flask"),
        "--app",
        "wsgi",
        "neighbors",
        "areas",
        "import",
        "neighbors/demo/areas.csv",
        cwd=ROOT,
        env=env,
    )
    now = datetime.now(UTC)
    tokens = []
    with psycopg.connect(URL) as conn:
        community = conn.execute("SELECT id FROM communities ORDER BY id LIMIT 1").fetchone()[0]
        with conn.cursor().copy(
            "COPY users (id, name, email, password_hash, home_community_id, active,"
            " created_at) FROM STDIN"
        ) as copy:
            for i in range(1, USERS + 1):
                copy.write_row((i, f"志愿者{i}", f"v{i}@bench.example", "x", community, True, now))
        with conn.cursor().copy("COPY role_grants (user_id, role) FROM STDIN") as copy:
            for i in range(1, USERS + 1):
                copy.write_row((i, "volunteer"))
        with conn.cursor().copy(
            "COPY api_tokens (user_id, token_hash, created_at, expires_at) FROM STDIN"
        ) as copy:
            for i in range(1, USERS + 1):
                raw = f"bench-token-{i}"
                tokens.append(raw)
                copy.write_row(
                    (i, hashlib.sha256(raw.encode()).hexdigest(), now, now + timedelta(days=1))
                )
        conn.execute("SELECT setval('users_id_seq', %s)", (USERS,))
        start = now + timedelta(days=3)
        with conn.cursor().copy(
            "COPY events (community_id, category, title, description, venue, starts_at, ends_at,"
            " capacity, status, dedication_day, created_at, changed_at, published_at)"
            " FROM STDIN"
        ) as copy:
            rows = [(HOT_CAPACITY, "热门活动")] + [(MANY_CAPACITY, "活动")] * MANY_EVENTS * 2
            for capacity, title in rows:
                copy.write_row(
                    (
                        community,
                        "warmth",
                        title,
                        "",
                        "服务站",
                        start,
                        start + timedelta(hours=2),
                        capacity,
                        "published",
                        False,
                        now,
                        now,
                        now,
                    )
                )
        ids = [r[0] for r in conn.execute("SELECT id FROM events ORDER BY id")]
    (tmp / "tokens.txt").write_text("\n".join(tokens) + "\n")
    hot, many, for_pgbench = ids[0], ids[1 : MANY_EVENTS + 1], ids[MANY_EVENTS + 1 :]
    return hot, many, for_pgbench


def gunicorn():
    env = {
        **os.environ,
        "DATABASE_URL": URL,
        "NEIGHBORS_ENV": "production",
        "SECRET_KEY": "bench-secret-key-bench-secret-key",
        "NEIGHBORS_DATA_KEY": "bench-data",
        "NEIGHBORS_RATELIMIT_ENABLED": "false",
        "NEIGHBORS_BASE_URL": "http://127.0.0.1",
    }
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--workers",
            "4",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            sh("curl", "-sf", f"http://127.0.0.1:{PORT}/healthz")
            return process
        except subprocess.CalledProcessError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not start")


def wrk(tmp, first, events, seconds, connections):
    script = tmp / f"storm-{first}.lua"
    threads = min(connections, 2)
    script.write_text(
        LUA % {"tokens": tmp / "tokens.txt", "events": events, "first": first, "threads": threads}
    )
    out = sh(
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(script),
        f"http://127.0.0.1:{PORT}",
    )
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"\s(50|99)%\s+([\d.]+\w+)", out))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, lat.get("50"), lat.get("99"), int(errors.group(1)) if errors else 0


def pgbench(tmp, first, last, seconds, connections):
    script = tmp / f"signup-{first}.sql"
    script.write_text(PGBENCH % {"users": USERS, "first": first, "last": last})
    out = sh(
        "pgbench",
        "-n",
        "-c",
        str(connections),
        "-j",
        str(min(connections, 2)),
        "-T",
        str(seconds),
        "-f",
        str(script),
        URL,
    )
    return float(re.search(r"tps = ([\d.]+)", out).group(1))


def verify(event_ids):
    """Count the rows: nobody overbooked, counters equal to rows, one sign-up per person."""
    with psycopg.connect(URL) as conn:
        bad = conn.execute(
            """SELECT e.id, e.capacity, e.confirmed_count, e.waitlist_count,
                      count(*) FILTER (WHERE s.status = 'confirmed'),
                      count(*) FILTER (WHERE s.status = 'waitlisted')
               FROM events e LEFT JOIN signups s ON s.event_id = e.id
               WHERE e.id = ANY(%s) GROUP BY e.id
               HAVING count(*) FILTER (WHERE s.status = 'confirmed') > e.capacity
                   OR count(*) FILTER (WHERE s.status = 'confirmed') <> e.confirmed_count
                   OR count(*) FILTER (WHERE s.status = 'waitlisted') <> e.waitlist_count""",
            (event_ids,),
        ).fetchall()
        dupes = conn.execute(
            "SELECT count(*) FROM (SELECT event_id, user_id FROM signups WHERE status <> "
            "'cancelled' GROUP BY 1, 2 HAVING count(*) > 1) d"
        ).fetchone()[0]
        confirmed, waiting = conn.execute(
            "SELECT count(*) FILTER (WHERE status = 'confirmed'),"
            " count(*) FILTER (WHERE status = 'waitlisted') FROM signups WHERE event_id = ANY(%s)",
            (event_ids,),
        ).fetchone()
    return len(bad), dupes, confirmed, waiting


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    for tool in ("wrk", "pgbench", "curl"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is needed (Debian: apt install wrk postgresql-client curl)")
    reset_database()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        hot, many, for_pgbench = seed(tmp)
        server = gunicorn()
        try:
            hot_run = wrk(tmp, hot, 1, args.seconds, args.connections)
            many_run = wrk(tmp, many[0], len(many), args.seconds, args.connections)
        finally:
            server.terminate()
            server.wait()
        hot_check, many_check = verify([hot]), verify(many)
        pg_hot = pgbench(tmp, for_pgbench[0], for_pgbench[0], args.seconds, args.connections)
        pg_many = pgbench(tmp, for_pgbench[1], for_pgbench[-1], args.seconds, args.connections)
    report(args, hot_run, many_run, hot_check, many_check, pg_hot, pg_many)


def report(args, hot_run, many_run, hot_check, many_check, pg_hot, pg_many):
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        "?",
    )
    lines = [
        f"\n## Sign-up storm, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n",
        f"Machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, PostgreSQL on the same machine. gunicorn 4 sync "
        f"workers; wrk {args.connections} connections for {args.seconds} s; pgbench the same.\n",
        "| scenario | requests/s | p50 | p99 | non-2xx | pgbench TPS | ratio | confirmed / "
        "waitlisted | overbooked or miscounted events | duplicate sign-ups |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, run, check, pg in (
        ("hot event (1 event)", hot_run, hot_check, pg_hot),
        (f"many events ({MANY_EVENTS})", many_run, many_check, pg_many),
    ):
        rps, p50, p99, errors = run
        bad, dupes, confirmed, waiting = check
        lines.append(
            f"| {label} | {rps:.0f} | {p50} | {p99} | {errors} | {pg:.0f} | "
            f"{rps / pg:.0%} | {confirmed} / {waiting} | {bad} | {dupes} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    results = ROOT / "bench" / "RESULTS.md"
    if not results.exists():
        results.write_text(
            "# Benchmark results\n\nWritten by the scripts in bench/; newest last.\n"
        )
    with results.open("a") as handle:
        handle.write(text)


if __name__ == "__main__":
    main()

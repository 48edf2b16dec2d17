"""Ledger export at scale: CSV, XLSX and Beancount from the app's exporters against PostgreSQL,
beside PostgreSQL's own COPY of the same rows and bare XlsxWriter writing them; rows/s and peak
memory (RSS high-water mark of a fresh process per run).

    .venv/bin/python bench/export_ledger.py [--entries 1000000] [--small 100000]

Needs PostgreSQL (BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1/neighbors_export;
dropped and made anew). Appends a table to bench/RESULTS.md. Not part of the test suite.
"""

import argparse
import hashlib
import os
import platform
import re
import resource
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1/neighbors_export")
QUERY = """SELECT e.entry_date, e.voucher, e.id, e.summary, f.code, p.account, p.debit, p.credit,
                  e.reverses_id
           FROM postings p JOIN journal_entries e ON e.id = p.entry_id
           JOIN funds f ON f.id = p.fund_id ORDER BY e.id, p.line"""


def seed(entries):
    """Schema by migrations; `entries` balanced two-line vouchers by COPY (the triggers only
    refuse UPDATE and DELETE, so COPY can fill an append-only ledger)."""
    admin = re.sub(r"/[^/]*$", "/postgres", URL)
    name = URL.rsplit("/", 1)[1]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    env = {**os.environ, "DATABASE_URL": URL, "NEIGHBORS_ENV": "development"}
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    now, start = datetime.now(UTC), date(2026, 1, 1)
    with psycopg.connect(URL) as conn:
        fund = conn.execute(
            "INSERT INTO funds (code, name, kind, purpose, balance, created_at) "
            "VALUES ('GEN', '社区发展基金', 'unrestricted', '', 0, now()) "
            "RETURNING id"
        ).fetchone()[0]
        prev = "0" * 64
        with conn.cursor().copy(
            "COPY journal_entries (id, voucher, entry_date, posted_at, "
            "summary, kind, prev_hash, hash) FROM STDIN"
        ) as copy:
            for i in range(1, entries + 1):
                digest = hashlib.sha256(f"{prev}{i}".encode()).hexdigest()
                copy.write_row(
                    (
                        i,
                        f"JZ-{i:07d}",
                        start + timedelta(days=i % 365),
                        now,
                        f"捐赠 {i}",
                        "donation",
                        prev,
                        digest,
                    )
                )
                prev = digest
        with conn.cursor().copy(
            "COPY postings (entry_id, line, account, fund_id, debit, credit) FROM STDIN"
        ) as copy:
            for i in range(1, entries + 1):
                amount = f"{(i % 100000) / 100 + 1:.2f}"
                copy.write_row((i, 1, "1002", fund, amount, "0"))
                copy.write_row((i, 2, "4101", fund, "0", amount))
        conn.execute("SELECT setval('journal_entries_id_seq', %s)", (entries,))
    return entries * 2


def run(kind):
    """One measurement, in this (fresh) process: (seconds, peak RSS in MB)."""
    started = time.perf_counter()
    if kind == "copy":
        with (
            psycopg.connect(URL) as conn,
            open(os.devnull, "wb") as sink,
            conn.cursor().copy(f"COPY ({QUERY}) TO STDOUT WITH (FORMAT csv)") as copy,
        ):
            for chunk in copy:
                sink.write(chunk)
    elif kind == "bare-xlsx":  # XlsxWriter, constant memory, writing the same rows
        import xlsxwriter

        workbook = xlsxwriter.Workbook(os.devnull, {"constant_memory": True})
        sheet = workbook.add_worksheet("ledger")
        with psycopg.connect(URL) as conn, conn.cursor(name="rows") as cursor:
            cursor.itersize = 2000
            cursor.execute(QUERY)
            for number, row in enumerate(cursor):
                sheet.write_row(
                    number, 0, [float(v) if k in (6, 7) else v for k, v in enumerate(row)]
                )
        workbook.close()
    else:
        os.environ.update(DATABASE_URL=URL, NEIGHBORS_ENV="development")
        sys.path.insert(0, str(ROOT))
        from sqlalchemy import select

        from neighbors import create_app
        from neighbors.core.exports import Report
        from neighbors.extensions import db
        from neighbors.foundation import exports
        from neighbors.foundation.models import Fund

        app = create_app()
        with app.test_request_context(), open(os.devnull, "wb") as sink:
            if kind == "csv":  # what the app serves on PostgreSQL
                for chunk in exports.csv_copy_stream():
                    sink.write(chunk)
            elif kind == "csv-python":  # the writer SQLite uses
                for chunk in exports.csv_stream(exports.ledger_lines()):
                    sink.write(chunk)
            elif kind == "xlsx":  # the people's layout: labels, formats, widths, totals
                columns = exports.ledger_columns()
                report = Report("基金会", "账簿", "bench", columns)
                with exports.xlsx_file(report, exports.ledger_lines()) as handle:
                    while handle.read(1 << 20):
                        pass
            else:
                funds = db.session.scalars(select(Fund)).all()
                for chunk in exports.beancount_stream(funds, exports.ledger_lines()):
                    sink.write(chunk.encode())
    seconds = time.perf_counter() - started
    return seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(kind):
    out = subprocess.run(
        [sys.executable, __file__, "--run", kind], capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), float(out[1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=500_000)
    parser.add_argument("--small", type=int, default=50_000)
    parser.add_argument("--run")
    args = parser.parse_args()
    if args.run:
        seconds, peak = run(args.run)
        print(seconds, peak)
        return
    table = {}
    for entries in (args.small, args.entries):
        rows = seed(entries)
        for kind in ("copy", "csv", "csv-python", "bare-xlsx", "xlsx", "beancount"):
            seconds, peak = measure(kind)
            table[entries, kind] = (rows / seconds, peak)
            print(
                f"{entries} entries, {kind}: {rows / seconds:,.0f} rows/s, {peak:.0f} MB",
                flush=True,
            )
    report(args, table)


def report(args, table):
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        "?",
    )
    lines = [
        f"\n## Ledger export, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n",
        f"Machine: {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        "PostgreSQL on the same machine. Rows are posting lines (two per voucher); each "
        "run in a fresh process; memory is that process's peak RSS.\n",
        "| vouchers | format | rows/s | peak MB | ratio |",
        "|---|---|---|---|---|",
    ]
    for (entries, kind), (rate, peak) in table.items():
        base = (
            table[entries, "copy"][0]
            if kind in ("csv", "csv-python", "beancount")
            else (table[entries, "bare-xlsx"][0] if kind == "xlsx" else rate)
        )
        lines.append(f"| {entries:,} | {kind} | {rate:,.0f} | {peak:.0f} | {rate / base:.0%} |")
    text = "\n".join(lines) + "\n"
    print(text)
    with (ROOT / "bench" / "RESULTS.md").open("a") as handle:
        handle.write(text)


if __name__ == "__main__":
    main()

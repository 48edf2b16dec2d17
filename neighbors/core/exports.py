"""Spreadsheet exports: CSV that Excel opens (UTF-8 with BOM, formulas neutralised) and XLSX;
and the one helper every download answers with."""

import csv
import io
from contextlib import contextmanager
from datetime import date, datetime, time
from decimal import Decimal

import xlsxwriter
from flask import Response

# Each download's whole Content-Type. Text types name their charset here, once.
CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PLAIN_TEXT = "text/plain; charset=utf-8"
ICALENDAR = "text/calendar; charset=utf-8"

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def download(body, content_type, filename, *, inline=False):
    """A file to download (or, inline, to open, as a calendar). `content_type` is given whole
    and sent as it is: passed as a `mimetype`, Flask would add a second "; charset=utf-8" to a
    text type that already names one."""
    disposition = "inline" if inline else "attachment"
    return Response(
        body,
        content_type=content_type,
        headers={"Content-Disposition": f'{disposition}; filename="{filename}"'},
    )


def safe_cell(value):
    """Text that a spreadsheet would run as a formula gets a leading quote; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(header, rows):
    """A whole CSV document: UTF-8 with a BOM, so that Excel shows Chinese text."""
    return b"".join(csv_bytes_stream(header, rows))


def csv_bytes_stream(header, rows, every=500):
    """The same as csv_bytes, in chunks, for a download that streams with flat memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")  # as PostgreSQL's COPY writes lines
    yield "\ufeff".encode()
    writer.writerow(header)
    for number, row in enumerate(rows, start=1):
        writer.writerow([safe_cell(value) for value in row])
        if number % every == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def xlsx_bytes(title, header, rows):
    """A whole XLSX workbook in memory, for the small reports (see xlsx_writer)."""
    buffer = io.BytesIO()
    with xlsx_writer(buffer, title) as write:
        write(header)
        for row in rows:
            write(row)
    return buffer.getvalue()


@contextmanager
def xlsx_writer(target, title):
    """Yields write(row) for an XLSX sheet written row by row (XlsxWriter, constant memory)
    into a file or buffer: numbers (Decimals too) stay numbers, dates are dates, and text is
    always stored as text, so a name that starts with "=" is shown as typed, never run."""
    workbook = xlsxwriter.Workbook(target, {"constant_memory": True, "in_memory": False})
    sheet = workbook.add_worksheet(title[:31])
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    rows = iter(range(1_048_576))

    def write(row):
        number = next(rows)
        for column, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, bool):
                sheet.write_boolean(number, column, value)
            elif isinstance(value, int | float | Decimal):
                sheet.write_number(number, column, float(value))
            elif isinstance(value, datetime):
                sheet.write_datetime(number, column, value.replace(tzinfo=None), day)
            elif isinstance(value, date):
                sheet.write_datetime(number, column, datetime.combine(value, time()), day)
            else:
                sheet.write_string(number, column, str(value))

    try:
        yield write
    finally:
        workbook.close()

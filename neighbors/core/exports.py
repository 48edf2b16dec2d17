"""Spreadsheet exports: CSV that Excel opens (UTF-8 with BOM, formulas neutralised), and XLSX
in one style for people (title, period, widths fitted, money and dates as such, totals, frozen
header, filter, A4 landscape one page wide); and the one helper every download answers with."""

import csv
import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

import xlsxwriter
from flask import Response
from flask_babel import gettext as _
from xlsxwriter.utility import xl_range

from neighbors.core.timezone import local_now, to_local

# Each download's whole Content-Type. Text types name their charset here, once.
CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PLAIN_TEXT = "text/plain; charset=utf-8"
ICALENDAR = "text/calendar; charset=utf-8"

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# A column's kind: how its cells are stored and shown (Excel number formats).
FORMATS = {
    "money": "#,##0.00",
    "number": "#,##0.00",
    "int": "#,##0",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
}
KINDS = ("text", "label", *FORMATS)
WIDEST = 50  # characters; longer text wraps in its cell rather than widen the page
TITLE_ROWS = 2  # the title, then the period and when it was made; the header comes next


@dataclass(frozen=True)
class Column:
    """One column of a report: its header in the reader's language, its kind (text, label,
    money, number, int, date, datetime), for a label the names of its codes, and whether the
    totals row sums it."""

    header: str
    kind: str = "text"
    labels: Mapping | None = None
    total: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


@dataclass(frozen=True)
class Report:
    """What a workbook says it is: whose (the foundation or the community), which report, for
    which period, and its columns. Not `titled`: the header is the first row, for a file
    another system imports (the national volunteer system's bulk import)."""

    owner: str
    name: str
    period: str
    columns: Sequence[Column] = field(default_factory=tuple)
    titled: bool = True


def owners(names):
    """A report's owner when it covers several communities: the first three, then "…"."""
    names = sorted(set(names))
    return "、".join(names[:3]) + ("…" if len(names) > 3 else "") or _("Community")


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


def display_width(text):
    """How many Latin characters wide a text is shown: Chinese (wide) characters count two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in str(text))


def xlsx_bytes(report, rows):
    """A whole XLSX workbook in memory, for the small reports (see xlsx_writer)."""
    buffer = io.BytesIO()
    with xlsx_writer(buffer, report) as write:
        for row in rows:
            write(row)
    return buffer.getvalue()


@contextmanager
def xlsx_writer(target, report):
    """Yields write(row) for the report's sheet, written row by row into a file or buffer with
    XlsxWriter's constant memory (a million lines stay flat). Money and numbers stay numbers
    (Decimals too) in their formats, dates are dates, labels are shown for codes, and text is
    always stored as text, so a name that starts with "=" is shown as typed, never run.
    Widths, the totals row, the filter and the print setup are added when the block ends."""
    workbook = xlsxwriter.Workbook(target, {"constant_memory": True, "in_memory": False})
    sheet = _Sheet(workbook, report)
    try:
        yield sheet.write
        sheet.finish()
    finally:
        workbook.close()


class _Sheet:
    """One report's worksheet as it is written: the widths and totals it has seen so far."""

    def __init__(self, workbook, report):
        self.report, self.columns = report, list(report.columns)
        self.sheet = workbook.add_worksheet(re.sub(r"[][:*?/\\]", "-", report.name)[:31])
        add = workbook.add_format
        self.title = add({"bold": True, "font_size": 14})
        self.header = add({"bold": True, "bottom": 1, "bg_color": "#EEEEEE"})
        self.wrap = add({"text_wrap": True, "valign": "top"})
        self.formats = {kind: add({"num_format": f}) for kind, f in FORMATS.items()}
        self.bold = {
            kind: add({"num_format": f, "bold": True, "top": 1}) for kind, f in FORMATS.items()
        }
        self.bold_text = add({"bold": True, "top": 1})
        self.widths = [display_width(c.header) + 3 for c in self.columns]  # + the filter button
        self.totals = [Decimal(0) if c.total else None for c in self.columns]
        self.heading, self.title_width = 0, 0
        if report.titled:
            self._title(report)
        for column, c in enumerate(self.columns):
            self.sheet.write_string(self.heading, column, str(c.header), self.header)
        self.row = self.heading

    def _title(self, report):
        generated = local_now().strftime("%Y-%m-%d %H:%M")
        self.sheet.write_string(0, 0, f"{report.owner} · {report.name}", self.title)
        subtitle = _(
            "Period: %(period)s · Generated at %(when)s", period=report.period, when=generated
        )
        self.sheet.write_string(1, 0, subtitle)
        self.heading = TITLE_ROWS
        # The title's font is larger: its width in the body's characters is about 1.4 times.
        self.title_width = max(
            display_width(f"{report.owner} · {report.name}") * 1.4, display_width(subtitle)
        )

    def write(self, values):
        self.row += 1
        # A long text wraps in its cell; the row is made tall enough for it (readers do not
        # fit a row's height to wrapped text on opening). Before the cells: memory is constant.
        lines = max(
            (-(-display_width(v) // (WIDEST - 2)) for v in values if isinstance(v, str)), default=1
        )
        if lines > 1:
            self.sheet.set_row(self.row, 15 * lines)
        for column, value in enumerate(values):
            if value is None:
                continue
            c = self.columns[column]
            if self.totals[column] is not None:
                self.totals[column] += Decimal(value)
            self._cell(self.row, column, c, value)

    def _cell(self, row, column, c, value):
        formats, kind = self.formats, c.kind
        if kind == "label":
            value = str((c.labels or {}).get(value, value))
        if kind in ("money", "number", "int") and not isinstance(value, bool):
            self.sheet.write_number(row, column, float(value), formats[kind])
            shown = f"{value:,.2f}" if kind != "int" else f"{int(value):,}"
        elif kind in ("date", "datetime") and isinstance(value, date):
            if isinstance(value, datetime):
                value = to_local(value).replace(tzinfo=None) if value.tzinfo else value
            else:
                value = datetime.combine(value, time())
            self.sheet.write_datetime(row, column, value, formats[kind])
            shown = "0000-00-00 00:00" if kind == "datetime" else "0000-00-00"
        else:
            text = str(value)
            wide = display_width(text) > WIDEST
            self.sheet.write_string(row, column, text, self.wrap if wide else None)
            shown = text[:WIDEST] if wide else text
        self.widths[column] = max(self.widths[column], min(display_width(shown) + 2, WIDEST))

    def finish(self):
        """The totals row (sums the filter leaves visible: SUBTOTAL, with its value cached for
        readers that do not compute), widths, frozen header, filter and the print setup."""
        last = self.row
        if any(t is not None for t in self.totals):
            self.row += 1
            self.sheet.write_string(self.row, 0, _("Total"), self.bold_text)
            for column, total in enumerate(self.totals):
                if total is None:
                    continue
                c = self.columns[column]
                kind = c.kind if c.kind in FORMATS else "number"
                if last > self.heading:
                    cells = xl_range(self.heading + 1, column, last, column)
                    self.sheet.write_formula(
                        self.row, column, f"=SUBTOTAL(9,{cells})", self.bold[kind], float(total)
                    )
                else:
                    self.sheet.write_number(self.row, column, 0, self.bold[kind])
                self._widen(column, f"{total:,.2f}")
            self._widen(0, _("Total"))
        # The title is read on the page too: the columns together are at least as wide.
        missing = self.title_width - sum(self.widths)
        if missing > 0:
            self.widths[-1] += missing
        for column, width in enumerate(self.widths):
            self.sheet.set_column(column, column, width)
        sheet = self.sheet
        sheet.freeze_panes(self.heading + 1, 0)
        sheet.autofilter(self.heading, 0, max(last, self.heading), len(self.columns) - 1)
        sheet.set_landscape()
        sheet.set_paper(9)  # A4
        sheet.fit_to_pages(1, 0)  # one page wide, as many long as it takes
        sheet.repeat_rows(self.heading)
        sheet.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
        sheet.set_footer("&C&P / &N")

    def _widen(self, column, text):
        self.widths[column] = max(self.widths[column], display_width(text) + 3)

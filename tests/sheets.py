"""Reading the app's XLSX exports as a person does: the title rows, the header, the lines and
the totals row (the header is the third row: see core.exports.xlsx_writer)."""

import io
from dataclasses import dataclass

import openpyxl

HEADER_ROW = 3  # 1-based, as openpyxl and Excel count
TOTALS = ("Total", "合计")


@dataclass
class Table:
    sheet: object
    title: tuple
    header: tuple
    body: list
    totals: tuple | None


def table(data):
    """An export's sheet split into title rows, header, body and totals (cached values)."""
    sheet = openpyxl.load_workbook(io.BytesIO(data), data_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    title, header, body = rows[: HEADER_ROW - 1], rows[HEADER_ROW - 1], rows[HEADER_ROW:]
    totals = body.pop() if body and body[-1][0] in TOTALS else None
    return Table(sheet, title, header, body, totals)

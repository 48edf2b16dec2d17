"""Reading the spreadsheets staff keep: CSV (UTF-8, or GB18030 from Chinese Excel) and XLSX."""

import csv
import io
from pathlib import Path

from flask_babel import gettext as _

from neighbors.core.errors import Invalid


class ImportFailed(Invalid):
    """An import found errors; nothing was written. `errors` holds (line, message) pairs."""

    code = "import_failed"

    def __init__(self, errors):
        self.errors = sorted(errors, key=lambda error: error[0])
        summary = "; ".join(
            _("line %(line)s: %(message)s", line=line, message=message)
            for line, message in self.errors[:20]
        )
        super().__init__(summary)


def read_table(path, columns, required=()):
    """The rows of a CSV or XLSX file, and the errors found in them.

    Returns (rows, errors): rows as (line number, {column: stripped text}) pairs, leaving out
    those with a blank `required` column; errors as (line number, message) pairs for them.
    Raises ImportFailed when the file cannot be read or its header does not name exactly
    `columns` (in any order).
    """
    path = Path(path)
    rows = _xlsx_rows(path) if path.suffix.lower() in (".xlsx", ".xlsm") else _csv_rows(path)
    try:
        header = [str(cell or "").strip().lower() for cell in next(rows)]
    except StopIteration:
        raise ImportFailed([(1, _("the file is empty"))]) from None
    missing = [column for column in columns if column not in header]
    unknown = [column for column in header if column and column not in columns]
    if missing or unknown:
        problems = []
        if missing:
            problems.append(_("missing columns: %(names)s", names=", ".join(missing)))
        if unknown:
            problems.append(_("unknown columns: %(names)s", names=", ".join(unknown)))
        raise ImportFailed(
            [(1, "; ".join(problems) + " " + _("(expected: %(names)s)", names=",".join(columns)))]
        )
    table, errors = [], []
    for line, cells in enumerate(rows, start=2):
        values = [_cell_text(cell) for cell in cells]
        if not any(values):
            continue
        row = {name: (values[i] if i < len(values) else "") for i, name in enumerate(header)}
        blank = [column for column in required if not row.get(column)]
        if blank:
            errors.append((line, _("%(names)s may not be blank", names=", ".join(blank))))
        else:
            table.append((line, row))
    return table, errors


def _cell_text(cell):
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)  # phone numbers typed into Excel come back as 13812345678.0
    return str(cell).strip()


def _csv_rows(path):
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise ImportFailed([(1, _("the file is not UTF-8 or GB18030 text"))])
    return iter(csv.reader(io.StringIO(text, newline="")))


def _xlsx_rows(path):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise ImportFailed([(1, _("the file is not a readable XLSX workbook"))]) from exc
    try:
        yield from workbook.worksheets[0].iter_rows(values_only=True)
    finally:
        workbook.close()

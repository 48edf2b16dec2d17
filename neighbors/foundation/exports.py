"""Ledger exports that reconcile: CSV, XLSX and Beancount, streamed with flat memory, and the
fund statement (opening + in − out = closing, per fund and in total)."""

import csv
import io
import tempfile
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from neighbors.core.exports import safe_cell, xlsx_cell
from neighbors.extensions import db
from neighbors.foundation.ledger import ACCOUNTS, BANK
from neighbors.foundation.models import Fund, JournalEntry, Posting

HEADER = [
    "date",
    "voucher",
    "entry_id",
    "summary",
    "fund",
    "account",
    "account_name",
    "debit",
    "credit",
    "reverses",
]
ZERO = Decimal("0.00")


def ledger_lines(date_from=None, date_to=None, fund_code=None, batch=2000):
    """Every posting line in voucher order, with its entry and fund, read in batches."""
    query = (
        select(Posting)
        .join(Posting.entry)
        .join(Posting.fund)
        .options(contains_eager(Posting.entry), contains_eager(Posting.fund))
        .order_by(JournalEntry.id, Posting.line)
        .execution_options(yield_per=batch)
    )
    if date_from:
        query = query.where(JournalEntry.entry_date >= date_from)
    if date_to:
        query = query.where(JournalEntry.entry_date <= date_to)
    if fund_code:
        query = query.where(Fund.code == fund_code)
    with db.session.scalars(query) as result:  # closed even if the download stops
        for line in result:
            entry = line.entry
            yield [
                entry.entry_date,
                entry.voucher,
                entry.id,
                entry.summary,
                line.fund.code,
                line.account,
                ACCOUNTS[line.account][1],
                line.debit,
                line.credit,
                entry.reverses_id,
            ]


def csv_stream(lines):
    """CSV text in chunks: UTF-8 with BOM; amounts as plain numbers; formulas neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff".encode()
    writer.writerow(HEADER)
    for number, row in enumerate(lines):
        writer.writerow([safe_cell(value) for value in row])
        if number % 500 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def xlsx_file(lines):
    """An XLSX workbook written row by row to a temporary file (openpyxl's write-only mode
    keeps memory flat); numbers stay numbers and dates stay dates. Returns the open file."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("ledger")
    sheet.append(HEADER)
    for row in lines:
        sheet.append([xlsx_cell(sheet, value) for value in row])
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - the response streams and closes it
    workbook.save(handle)
    handle.seek(0)
    return handle


def beancount_stream(funds, entries):
    """The ledger as a Beancount file: ASCII account names (account:fund code), the Chinese
    names as metadata. `entries` yields journal entries with their lines."""
    yield 'option "title" "Neighbors community foundation"\n'
    yield 'option "operating_currency" "CNY"\n\n'
    for fund in funds:
        for code, (account, name) in ACCOUNTS.items():
            yield (
                f"2000-01-01 open {account}:{fund.code} CNY\n"
                f'  name: "{_quoted(name)}·{_quoted(fund.name)}"\n  code: "{code}"\n'
            )
    yield "\n"
    for entry in entries:
        flag = "*"
        yield (
            f'{entry.entry_date.isoformat()} {flag} "{_quoted(entry.summary)}"\n'
            f'  voucher: "{entry.voucher}"\n'
        )
        for line in entry.lines:
            amount = line.debit if line.debit else -line.credit
            yield f"  {ACCOUNTS[line.account][0]}:{line.fund.code}  {amount:.2f} CNY\n"
        yield "\n"


def _quoted(text):
    return str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def entries(date_from=None, date_to=None):
    """Journal entries in order with their lines, read in batches."""
    query = select(JournalEntry).order_by(JournalEntry.id).execution_options(yield_per=1000)
    if date_from:
        query = query.where(JournalEntry.entry_date >= date_from)
    if date_to:
        query = query.where(JournalEntry.entry_date <= date_to)
    with db.session.scalars(query) as result:
        yield from result


@dataclass
class FundLine:
    code: str
    name: str
    kind: str
    opening: Decimal = ZERO
    received: Decimal = ZERO
    paid: Decimal = ZERO
    closing: Decimal = ZERO


@dataclass
class Statement:
    date_from: date
    date_to: date
    funds: list = field(default_factory=list)

    def total(self, attribute):
        return sum((getattr(f, attribute) for f in self.funds), ZERO)


def statement(date_from, date_to):
    """Per fund: the bank balance before the period, money in and out in it, and after.
    opening + received − paid = closing holds by construction and is checked by the tests
    against every export."""
    bank = Posting.account == BANK
    before = dict(
        db.session.execute(
            select(Posting.fund_id, func.sum(Posting.debit - Posting.credit))
            .join(Posting.entry)
            .where(bank, JournalEntry.entry_date < date_from)
            .group_by(Posting.fund_id)
        ).all()
    )
    during = {
        fund_id: (debit, credit)
        for fund_id, debit, credit in db.session.execute(
            select(Posting.fund_id, func.sum(Posting.debit), func.sum(Posting.credit))
            .join(Posting.entry)
            .where(bank, JournalEntry.entry_date.between(date_from, date_to))
            .group_by(Posting.fund_id)
        )
    }
    result = Statement(date_from, date_to)
    for fund in db.session.scalars(select(Fund).order_by(Fund.code)):
        opening = Decimal(before.get(fund.id) or 0).quantize(Decimal("0.01"))
        received, paid = (
            Decimal(v or 0).quantize(Decimal("0.01")) for v in during.get(fund.id, (0, 0))
        )
        result.funds.append(
            FundLine(
                fund.code,
                fund.name,
                str(fund.kind),
                opening,
                received,
                paid,
                opening + received - paid,
            )
        )
    return result


def month_totals(year):
    """Received and paid per fund and month, for the public disclosure page."""
    month = func.extract("month", JournalEntry.entry_date)
    rows = db.session.execute(
        select(Fund.code, Fund.name, month, func.sum(Posting.debit), func.sum(Posting.credit))
        .join(Posting.entry)
        .join(Posting.fund)
        .where(
            Posting.account == BANK,
            JournalEntry.entry_date.between(date(year, 1, 1), date(year, 12, 31)),
        )
        .group_by(Fund.code, Fund.name, month)
        .order_by(Fund.code, month)
    ).all()
    return [(code, name, int(m), Decimal(d or 0), Decimal(c or 0)) for code, name, m, d, c in rows]

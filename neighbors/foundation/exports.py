"""Ledger exports that reconcile: CSV, XLSX and Beancount, streamed with flat memory, and the
fund statement (opening + in − out = closing, per fund and in total)."""

import tempfile
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased

from neighbors.core import replicas
from neighbors.core.exports import FORMULA_STARTS, Column, csv_bytes_stream, xlsx_writer
from neighbors.extensions import db
from neighbors.foundation.ledger import ACCOUNTS, BANK, is_opening
from neighbors.foundation.models import Fund, FundKind, JournalEntry, Posting

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


def ledger_lines(date_from=None, date_to=None, fund_code=None, batch=5000):
    """Every posting line in date order with its entry and fund, as plain rows read in
    batches (Core, not ORM objects: an export of a million lines stays fast and flat)."""
    query = (
        select(
            JournalEntry.entry_date,
            JournalEntry.voucher,
            JournalEntry.id,
            JournalEntry.summary,
            Fund.code,
            Posting.account,
            Posting.debit,
            Posting.credit,
            JournalEntry.reverses_id,
        )
        .select_from(Posting)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .join(Fund, Fund.id == Posting.fund_id)
        # The books' order: by date, and in posting order within a day.
        .order_by(JournalEntry.entry_date, JournalEntry.id, Posting.line)
        .execution_options(yield_per=batch)
    )
    if date_from:
        query = query.where(JournalEntry.entry_date >= date_from)
    if date_to:
        query = query.where(JournalEntry.entry_date <= date_to)
    if fund_code:
        query = query.where(Fund.code == fund_code)
    names = {code: name for code, (_account, name) in ACCOUNTS.items()}
    with db.session.execute(query) as result:  # closed even if the download stops
        for day, voucher, entry_id, summary, fund, account, debit, credit, reverses in result:
            yield [
                day,
                voucher,
                entry_id,
                summary,
                fund,
                account,
                names[account],
                debit,
                credit,
                reverses,
            ]


def csv_stream(lines):
    """The ledger as CSV in chunks (see core.exports.csv_bytes_stream)."""
    return csv_bytes_stream(HEADER, lines)


# core.exports.safe_cell in SQL: text a spreadsheet would run as a formula gets a leading quote.
_SAFE = "CASE WHEN left({0}, 1) = ANY(%(formula_starts)s) THEN '''' || {0} ELSE {0} END"
_COPY = """COPY (
    SELECT e.entry_date, {voucher}, e.id, {summary}, {fund}, {account}, {name},
           p.debit, p.credit, e.reverses_id
    FROM postings p JOIN journal_entries e ON e.id = p.entry_id JOIN funds f ON f.id = p.fund_id
    WHERE {where}
    ORDER BY e.entry_date, e.id, p.line
) TO STDOUT WITH (FORMAT csv)"""


def csv_copy_stream(date_from=None, date_to=None, fund_code=None):
    """PostgreSQL: the same CSV as csv_stream(ledger_lines(…)), its cells neutralised in SQL
    and written by the server's COPY, which formats a million lines several times faster than
    Python does. Streams in the caller's transaction."""
    params = {
        "formula_starts": list(FORMULA_STARTS),
        "codes": list(ACCOUNTS),
        "names": [name for _account, name in ACCOUNTS.values()],
    }
    where = ["TRUE"]
    for column, operator, name, value in (
        ("e.entry_date", ">=", "date_from", date_from),
        ("e.entry_date", "<=", "date_to", date_to),
        ("f.code", "=", "fund", fund_code),
    ):
        if value:
            where.append(f"{column} {operator} %({name})s")
            params[name] = value
    name = "(%(names)s::text[])[array_position(%(codes)s::text[], p.account::text)]"
    statement = _COPY.format(
        voucher=_SAFE.format("e.voucher"),
        summary=_SAFE.format("e.summary"),
        fund=_SAFE.format("f.code"),
        account=_SAFE.format("p.account"),
        name=_SAFE.format(name),
        where=" AND ".join(where),
    )
    yield ("\ufeff" + ",".join(HEADER) + "\n").encode()
    # The raw connection is the one the request reads from: a replica's, when it reads from one.
    connection = replicas.connection().connection.driver_connection
    with connection.cursor().copy(statement, params) as copy:
        for chunk in copy:
            yield bytes(chunk)


def ledger_columns():
    """The ledger's XLSX columns in the reader's language (its CSV keeps HEADER's codes)."""
    return [
        Column(_("Date"), "date"),
        Column(_("Voucher")),
        Column(_("Summary")),
        Column(_("Fund")),
        Column(_("Account")),
        Column(_("Account name")),
        Column(_("Debit"), "money", total=True),
        Column(_("Credit"), "money", total=True),
    ]


def xlsx_file(report, lines):
    """The ledger as an XLSX workbook in a temporary file (see core.exports.xlsx_writer), for
    the response to stream: ledger_lines() without the entry ids, which the CSV keeps for
    machines. Returns the open file."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - the response streams and closes it
    with xlsx_writer(handle, report) as write:
        for day, voucher, _id, summary, fund, account, name, debit, credit, _rev in lines:
            write([day, voucher, summary, fund, account, name, debit, credit])
    handle.seek(0)
    return handle


def beancount_stream(funds, lines):
    """The ledger as a Beancount file from ledger_lines(): ASCII account names (account:fund
    code), the Chinese names as metadata, one transaction per voucher."""
    yield 'option "title" "Neighbors community foundation"\n'
    yield 'option "operating_currency" "CNY"\n\n'
    for fund in funds:
        for code, (account, name) in ACCOUNTS.items():
            yield (
                f"2000-01-01 open {account}:{fund.code} CNY\n"
                f'  name: "{_quoted(name)}·{_quoted(fund.name)}"\n  code: "{code}"\n'
            )
    yield "\n"
    current = None
    for day, voucher, entry_id, summary, fund, account, _name, debit, credit, _rev in lines:
        if entry_id != current:
            if current is not None:
                yield "\n"
            current = entry_id
            yield f'{day.isoformat()} * "{_quoted(summary)}"\n  voucher: "{voucher}"\n'
        amount = debit if debit else -credit
        yield f"  {ACCOUNTS[account][0]}:{fund}  {amount:.2f} CNY\n"
    yield "\n"


def _quoted(text):
    return str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


@dataclass
class FundLine:
    code: str
    name: str
    kind: str
    opening: Decimal = ZERO
    received: Decimal = ZERO
    paid: Decimal = ZERO
    closing: Decimal = ZERO
    # Restricted money spent on its purpose is released from the restriction (限定性净资产
    # 转为非限定性): for a restricted fund, what it paid out in the period, and what was left
    # of it when its time ended (its release voucher).
    released: Decimal = ZERO


@dataclass
class Statement:
    date_from: date
    date_to: date
    funds: list = field(default_factory=list)

    def total(self, attribute, kind=None):
        """The sum over all funds, or over the funds of one kind."""
        return sum((getattr(f, attribute) for f in self.funds if kind in (None, f.kind)), ZERO)

    def kinds(self):
        return [
            kind
            for kind in ("unrestricted", "restricted", "custodial")
            if any(f.kind == kind for f in self.funds)
        ]


def statement(date_from, date_to):
    """Per fund: the bank balance before the period (with the opening balances, 期初, whenever
    they are dated), money in and out in it, and after. opening + received − paid = closing
    holds by construction and is checked by the tests against every export."""
    bank = Posting.account == BANK
    before = dict(
        db.session.execute(
            select(Posting.fund_id, func.sum(Posting.debit - Posting.credit))
            .join(Posting.entry)
            .where(
                bank,
                or_(
                    JournalEntry.entry_date < date_from,
                    and_(is_opening(), JournalEntry.entry_date <= date_to),
                ),
            )
            .group_by(Posting.fund_id)
        ).all()
    )
    during = {
        fund_id: (debit, credit)
        for fund_id, debit, credit in db.session.execute(
            select(Posting.fund_id, func.sum(Posting.debit), func.sum(Posting.credit))
            .join(Posting.entry)
            .where(bank, JournalEntry.entry_date.between(date_from, date_to), ~is_opening())
            .group_by(Posting.fund_id)
        )
    }
    # What was left of a fund restricted in time when it ended, reclassified by its release
    # voucher (限定性净资产转为非限定性净资产).
    reclassified = dict(
        db.session.execute(
            select(Posting.fund_id, func.sum(Posting.credit))
            .join(Posting.entry)
            .where(
                JournalEntry.kind == "release",
                JournalEntry.entry_date.between(date_from, date_to),
            )
            .group_by(Posting.fund_id)
        ).all()
    )
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
                (paid if fund.kind == FundKind.RESTRICTED else ZERO)
                + Decimal(reclassified.get(fund.id) or 0).quantize(Decimal("0.01")),
            )
        )
    return result


def month_totals(year):
    """Received and paid per fund and month, for the public disclosure page. Custodial funds
    are left out: their names point to the person they are held for."""
    undone = aliased(JournalEntry)
    month = func.extract("month", JournalEntry.entry_date)
    rows = db.session.execute(
        select(Fund.code, Fund.name, month, func.sum(Posting.debit), func.sum(Posting.credit))
        .join(Posting.entry)
        .join(Posting.fund)
        .where(
            Posting.account == BANK,
            JournalEntry.entry_date.between(date(year, 1, 1), date(year, 12, 31)),
            # Mistakes and their reversals cancel out: neither is money in or out.
            JournalEntry.reverses_id.is_(None),
            ~JournalEntry.id.in_(select(undone.reverses_id).where(undone.reverses_id.is_not(None))),
            # An opening balance is what the fund held before: neither received nor paid.
            JournalEntry.kind != "opening",
            Fund.kind != FundKind.CUSTODIAL,  # held for a named person: not shown in public
        )
        .group_by(Fund.code, Fund.name, month)
        .order_by(Fund.code, month)
    ).all()
    return [(code, name, int(m), Decimal(d or 0), Decimal(c or 0)) for code, name, m, d, c in rows]


DETAIL_HEADER = ["row", "date", "voucher", "summary", "debit", "credit", "balance"]
DEBIT_NORMAL = ("1", "5")  # assets and expenses grow with debits; the rest with credits


def detail_ledger(fund_code, account, date_from, date_to):
    """The detail ledger (明细账) of one account of one fund: the opening balance, then each
    line with its running balance, a subtotal after each month and the year-to-date totals.

    Yields ("opening", balance), ("line", date, voucher, summary, debit, credit, balance),
    ("month", month, debit, credit, balance) and ("year", debit, credit, balance) rows.
    """
    sign = 1 if account.startswith(DEBIT_NORMAL) else -1
    fund = Posting.fund.has(Fund.code == fund_code)
    base = (
        select(func.coalesce(func.sum(Posting.debit - Posting.credit), 0))
        .join(Posting.entry)
        .where(Posting.account == account, fund)
    )
    # The opening (期初): everything before the period, and the opening balances in it.
    opening = Decimal(
        db.session.scalar(
            base.where(
                or_(
                    JournalEntry.entry_date < date_from,
                    and_(is_opening(), JournalEntry.entry_date <= date_to),
                )
            )
        )
    )
    year_start = date(date_to.year, 1, 1)
    balance = sign * opening
    yield ("opening", balance)
    query = (
        select(
            JournalEntry.entry_date,
            JournalEntry.voucher,
            JournalEntry.summary,
            Posting.debit,
            Posting.credit,
        )
        .join(Posting.entry)
        .where(
            Posting.account == account,
            fund,
            JournalEntry.entry_date.between(date_from, date_to),
            ~is_opening(),
        )
        .order_by(JournalEntry.entry_date, JournalEntry.id, Posting.line)
        .execution_options(yield_per=2000)
    )
    month, month_debit, month_credit = None, ZERO, ZERO
    year_debit = year_credit = ZERO
    with db.session.execute(query) as result:
        for entry_date, voucher, summary, debit, credit in result:
            if month and (entry_date.year, entry_date.month) != month:
                yield ("month", month, month_debit, month_credit, balance)
                month_debit = month_credit = ZERO
            month = (entry_date.year, entry_date.month)
            balance += sign * (debit - credit)
            month_debit, month_credit = month_debit + debit, month_credit + credit
            if entry_date >= year_start:
                year_debit, year_credit = year_debit + debit, year_credit + credit
            yield ("line", entry_date, voucher, summary, debit, credit, balance)
    if month:
        yield ("month", month, month_debit, month_credit, balance)
    if year_start < date_from:  # the year so far began before the period: add it
        early = db.session.execute(
            select(
                func.coalesce(func.sum(Posting.debit), 0),
                func.coalesce(func.sum(Posting.credit), 0),
            )
            .join(Posting.entry)
            .where(
                Posting.account == account,
                fund,
                JournalEntry.entry_date >= year_start,
                JournalEntry.entry_date < date_from,
                ~is_opening(),  # the year's totals are what moved in it
            )
        ).one()
        year_debit, year_credit = year_debit + early[0], year_credit + early[1]
    yield ("year", year_debit, year_credit, balance)


def detail_rows(rows):
    """The detail ledger's rows flattened for CSV and XLSX (labels left to the reader)."""
    for row in rows:
        kind, values = row[0], row[1:]
        if kind == "opening":
            yield ["opening", None, None, None, None, None, values[0]]
        elif kind == "line":
            yield ["line", *values]
        elif kind == "month":
            (year, month), debit, credit, balance = values
            yield ["month", f"{year}-{month:02d}", None, None, debit, credit, balance]
        else:
            yield ["year_to_date", None, None, None, *values]

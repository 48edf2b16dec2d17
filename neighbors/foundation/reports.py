"""What the foundation's roles may read: the ledger, statements, exports and verification, each
checked for role; and the public disclosure, which names donors only with their consent."""

import re
from datetime import UTC, date, datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from neighbors.core import audit
from neighbors.core import exports as core_exports
from neighbors.core.db import is_postgresql
from neighbors.core.errors import Invalid
from neighbors.core.exports import Column, Report
from neighbors.core.permissions import Role, require_role
from neighbors.core.privacy import mask_name
from neighbors.core.timezone import to_local
from neighbors.extensions import db
from neighbors.foundation import exports, ledger
from neighbors.foundation.labels import CHANNELS, SUBSIDY_STATES
from neighbors.foundation.models import (
    Beneficiary,
    Donation,
    Fund,
    FundKind,
    JournalEntry,
    Posting,
    Subsidy,
)
from neighbors.foundation.services import fund_by_code

READERS = (Role.ACCOUNTANT, Role.APPROVER)
# The whole Content-Type of each export (core.exports.download sends it as it is).
MIMETYPES = {
    "csv": core_exports.CSV,
    "xlsx": core_exports.XLSX,
    "beancount": core_exports.PLAIN_TEXT,
}


def ledger_page(actor, cursor=None, limit=50, date_from=None, date_to=None, fund_code=None):
    """Entries with their lines, newest first, and the cursor of the next page.

    Raises NotAllowed (accountants and approvers), Invalid (bad cursor).
    """
    require_role(actor, *READERS)
    query = (
        select(JournalEntry)
        .options(selectinload(JournalEntry.lines).joinedload(Posting.fund))
        .order_by(JournalEntry.id.desc())
    )
    if cursor:
        if not re.fullmatch(r"[0-9]{1,10}", cursor) or int(cursor) >= 2**31:
            raise Invalid(_("The page cursor is not valid."), fields={"cursor": _("Not valid.")})
        query = query.where(JournalEntry.id < int(cursor))
    if date_from:
        query = query.where(JournalEntry.entry_date >= date_from)
    if date_to:
        query = query.where(JournalEntry.entry_date <= date_to)
    if fund_code:
        query = query.where(JournalEntry.lines.any(Posting.fund.has(Fund.code == fund_code)))
    page = db.session.scalars(query.limit(limit + 1)).all()
    return page[:limit], (str(page[limit - 1].id) if len(page) > limit else None)


def statement(actor, date_from, date_to):
    """The fund statement for a period. Raises NotAllowed."""
    require_role(actor, *READERS)
    return exports.statement(date_from, date_to)


def export(actor, fmt, date_from, date_to, fund_code=None):
    """An export's body (bytes, or an iterable of bytes that streams) and its whole Content-Type.

    Each export is written to the audit log. Raises NotAllowed.
    """
    require_role(actor, *READERS)
    if fund_code:
        fund_code = fund_by_code(fund_code).code  # an unknown fund is a 404, not an empty file
    audit.record_export(
        actor,
        "ledger",
        format=fmt,
        date_from=str(date_from),
        date_to=str(date_to),
        fund=fund_code,
    )
    if fmt == "csv" and is_postgresql():
        return exports.csv_copy_stream(date_from, date_to, fund_code), MIMETYPES[fmt]
    lines = exports.ledger_lines(date_from, date_to, fund_code)
    if fmt == "csv":
        return exports.csv_stream(lines), MIMETYPES[fmt]
    if fmt == "xlsx":
        period = _period_text(date_from, date_to, fund_code)
        report = Report(foundation_name(), _("Ledger"), period, exports.ledger_columns())
        handle = exports.xlsx_file(report, lines)
        return _chunks(handle), MIMETYPES[fmt]
    funds = db.session.scalars(select(Fund).order_by(Fund.code)).all()
    text = exports.beancount_stream(funds, lines)
    return (chunk.encode() for chunk in text), MIMETYPES[fmt]


def _period_text(date_from, date_to, fund_code=None):
    """The period a report covers, as its title row says it (and its fund, when one)."""
    period = f"{date_from or '…'} – {date_to or '…'}"
    return f"{period} · {_('Fund')} {fund_code}" if fund_code else period


def _chunks(handle, size=64 * 1024):
    with handle:
        while chunk := handle.read(size):
            yield chunk


def detail_choices(actor):
    """The funds whose detail ledger a reader may open, by code. Raises NotAllowed."""
    require_role(actor, *READERS)
    return db.session.scalars(select(Fund).order_by(Fund.code)).all()


def detail(actor, fund_code, account, date_from, date_to, export=None):
    """The detail ledger of one account of one fund (see exports.detail_ledger); with an export
    format, the download is written to the audit log.

    Raises NotAllowed, NotFound (fund), Invalid (account).
    """
    require_role(actor, *READERS)
    fund = fund_by_code(fund_code)
    if account not in ledger.ACCOUNTS:
        raise Invalid(_("Unknown account."), fields={"account": _("Unknown account.")})
    if export:
        audit.record_export(
            actor, "detail_ledger", format=export, fund=fund.code, account=account,
            date_from=str(date_from), date_to=str(date_to),
        )  # fmt: skip
    return fund, exports.detail_ledger(fund.code, account, date_from, date_to)


def foundation_name():
    """The unit whose books these are, as its documents name it (FOUNDATION_NAME)."""
    return current_app.config.get("FOUNDATION_NAME") or _("Community foundation")


def donation_list(actor, year, fmt):
    """The year's donations for a spreadsheet, as columns and rows (written to the audit
    log): anonymous donors stay anonymous.

    Raises NotAllowed (accountants and approvers).
    """
    require_role(actor, *READERS)
    audit.record_export(actor, "donations", format=fmt, year=year)
    columns = [
        Column(_("Acknowledgement")),
        Column(_("Received on"), "date"),
        Column(_("Donor")),
        Column(_("Fund")),
        Column(_("Channel"), "label", CHANNELS),
        Column(_("Amount (yuan)"), "money", total=True),
        Column(_("Official receipt code")),
        Column(_("Official receipt number")),
    ]
    rows = db.session.execute(
        select(Donation, Fund.code)
        .join(Fund, Fund.id == Donation.fund_id)
        .where(Donation.received_on.between(date(year, 1, 1), date(year, 12, 31)))
        .order_by(Donation.ack_number)
    ).all()
    return columns, [
        [
            d.ack_number,
            d.received_on,
            _("Anonymous") if d.anonymous or not d.donor_name else d.donor_name,
            code,
            d.channel,
            d.amount,
            d.receipt_code,
            d.receipt_number,
        ]
        for d, code in rows
    ]


def subsidy_list(actor, year, fmt):
    """The year's subsidies for a spreadsheet, as columns and rows (written to the audit
    log): beneficiaries masked (张*), no ID or phone.

    Raises NotAllowed (accountants and approvers).
    """
    require_role(actor, *READERS)
    audit.record_export(actor, "subsidies", format=fmt, year=year)
    columns = [
        Column("#", "int"),
        Column(_("Beneficiary")),
        Column(_("Fund")),
        Column(_("Amount (yuan)"), "money", total=True),
        Column(_("Status"), "label", SUBSIDY_STATES),
        Column(_("Reason")),
        Column(_("Paid on"), "date"),
    ]
    rows = db.session.execute(
        select(Subsidy, Beneficiary.name, Fund.code)
        .join(Beneficiary, Beneficiary.id == Subsidy.beneficiary_id)
        .join(Fund, Fund.id == Subsidy.fund_id)
        .where(
            Subsidy.prepared_at >= datetime(year, 1, 1, tzinfo=UTC),
            Subsidy.prepared_at < datetime(year + 1, 1, 1, tzinfo=UTC),
        )
        .order_by(Subsidy.id)
    ).all()
    return columns, [
        [
            s.id,
            mask_name(name),
            code,
            s.amount,
            str(s.status),
            s.reason,
            to_local(s.paid_at).date() if s.paid_at else None,
        ]
        for s, name, code in rows
    ]


def verify(actor=None):
    """Check the whole ledger (see ledger.verify). Raises NotAllowed when an actor is given
    without a reading role; the command line runs it as the operator."""
    if actor is not None:
        require_role(actor, *READERS)
    return ledger.verify()


def disclosure(year):
    """Money received and paid per fund and month, and donors who agreed to be named."""
    donors = db.session.execute(
        select(Donation.donor_name, Fund.name, Donation.amount, Donation.received_on)
        .join(Fund, Fund.id == Donation.fund_id)
        .where(
            Donation.publish_consent.is_(True),
            Donation.anonymous.is_(False),
            Fund.kind != FundKind.CUSTODIAL,
            Donation.received_on.between(date(year, 1, 1), date(year, 12, 31)),
        )
        .order_by(Donation.received_on.desc())
        .limit(500)
    ).all()
    return {"months": exports.month_totals(year), "donors": donors}

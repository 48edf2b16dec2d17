"""The printable accounting voucher (记账凭证) of one ledger entry: the unit, its date and
number, the lines with their accounts and funds, the totals in figures and in capital numerals,
and who prepared, approved, paid and posted it."""

from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from neighbors.accounts.services import names_of
from neighbors.core.capitals import capital
from neighbors.core.errors import NotFound
from neighbors.core.permissions import require_role
from neighbors.extensions import db
from neighbors.foundation.models import Donation, JournalEntry, Posting, Subsidy


@dataclass
class Voucher:
    entry: JournalEntry
    lines: list
    debit: Decimal
    credit: Decimal
    capital: str
    # 制单, 审核, 出纳, 记账: the names of those who did each, "" when nobody had to.
    signatures: dict = field(default_factory=dict)
    reverses: str | None = None  # the voucher number this one reverses


def voucher(actor, entry_id, readers):
    """One entry as its voucher. Raises NotAllowed (not one of `readers`), NotFound."""
    require_role(actor, *readers)
    entry = db.session.scalar(
        select(JournalEntry)
        .where(JournalEntry.id == entry_id)
        .options(
            selectinload(JournalEntry.lines).joinedload(Posting.fund),
            joinedload(JournalEntry.reverses),
        )
    )
    if entry is None:
        raise NotFound(_("No such voucher."))
    debit = sum((line.debit for line in entry.lines), Decimal("0.00"))
    credit = sum((line.credit for line in entry.lines), Decimal("0.00"))
    return Voucher(
        entry,
        list(entry.lines),
        debit,
        credit,
        capital(debit),
        _signatures(entry),
        entry.reverses.voucher if entry.reverses else None,
    )


def _signatures(entry):
    """Who prepared (制单), approved (审核), paid or received (出纳) and posted (记账) it: for a
    subsidy paid, the steps of the subsidy; for a donation, who recorded it; otherwise the
    person who posted it."""
    subsidy = db.session.scalar(select(Subsidy).where(Subsidy.entry_id == entry.id))
    donation = db.session.scalar(select(Donation).where(Donation.entry_id == entry.id))
    ids = {"preparer": entry.actor_id, "approver": None, "cashier": None, "poster": entry.actor_id}
    if subsidy is not None:
        ids.update(
            preparer=subsidy.prepared_by_id,
            approver=subsidy.approved_by_id,
            second_approver=subsidy.second_approved_by_id,
            cashier=subsidy.paid_by_id,
        )
    elif donation is not None:
        ids.update(preparer=donation.created_by_id)
    names = names_of(ids.values())
    signed = {role: names.get(user_id, "") for role, user_id in ids.items()}
    if signed.pop("second_approver", ""):
        signed["approver"] = f"{signed['approver']}、{names[ids['second_approver']]}"
    return signed

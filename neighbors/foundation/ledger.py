"""The ledger: double-entry postings over a small chart of accounts, one voucher at a time,
each chained to the one before by a SHA-256 hash; reversals; and verification.

Every fund's money sits in the bank account; the fund's balance column is that account's
balance for the fund, changed only here, by a conditional UPDATE that refuses to go below zero.
"""

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, date
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from neighbors.core import audit
from neighbors.core.db import transaction, utcnow
from neighbors.core.errors import Conflict, Invalid, NotFound
from neighbors.core.permissions import Role, require_role
from neighbors.core.timezone import local_today
from neighbors.extensions import db
from neighbors.foundation.models import (
    Counter,
    Fund,
    FundKind,
    JournalEntry,
    LedgerHead,
    Posting,
)

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
# The most a Numeric(14, 2) column holds: a fund's balance never goes beyond it.
MAXIMUM = Decimal("999999999999.99")
# The most one donation, subsidy or opening balance may be: a hundred million yuan, far above
# anything a community foundation receives at once (a mistyped amount is refused, not posted),
# and far enough below MAXIMUM that a fund's balance has room to grow.
LIMIT = Decimal("100000000.00")
AMOUNT = re.compile(r"^[0-9]{1,12}(\.[0-9]{1,2})?$")
GENESIS = "0" * 64

# code: (Beancount account, Chinese name). The fund's code is the last part of each account.
ACCOUNTS = {
    "1002": ("Assets:Bank", "银行存款"),
    "2201": ("Liabilities:Custodial", "受托代理负债"),
    "3101": ("Equity:NetAssets:Unrestricted", "非限定性净资产"),
    "3102": ("Equity:NetAssets:Restricted", "限定性净资产"),
    "4101": ("Income:Donations:Unrestricted", "捐赠收入-非限定性"),
    "4102": ("Income:Donations:Restricted", "捐赠收入-限定性"),
    "5101": ("Expenses:Subsidies", "业务活动成本-资助支出"),
}
BANK = "1002"


def income_account(fund):
    """Where a donation to this fund is credited: income, or a liability for custodial money."""
    return {FundKind.UNRESTRICTED: "4101", FundKind.RESTRICTED: "4102", FundKind.CUSTODIAL: "2201"}[
        fund.kind
    ]


def net_assets_account(fund):
    return {FundKind.UNRESTRICTED: "3101", FundKind.RESTRICTED: "3102", FundKind.CUSTODIAL: "2201"}[
        fund.kind
    ]


def spending_account(fund):
    """Where a subsidy paid from this fund is debited."""
    return "2201" if fund.kind == FundKind.CUSTODIAL else "5101"


def parse_money(value, limit=MAXIMUM):
    """A Decimal amount in yuan with two places, from a Decimal, an int or a string such as
    "120.50" (never a float: money is exact), at most `limit`. Raises Invalid for anything
    else."""
    amount = None
    if isinstance(value, Decimal) and value.is_finite():
        amount = value
    elif isinstance(value, int) and not isinstance(value, bool):
        amount = Decimal(value)
    elif isinstance(value, str) and AMOUNT.match(value.strip()):
        amount = Decimal(value.strip())
    # The range first: quantizing a Decimal such as 1E+309 raises InvalidOperation.
    if amount is None or not CENT <= amount <= MAXIMUM or amount != amount.quantize(CENT):
        message = _("Enter an amount in yuan with at most two decimals, such as 120.50.")
        raise Invalid.from_fields({"amount": message})
    if amount > limit:
        message = _("An amount can be at most %(limit)s yuan.", limit=f"{limit:,.2f}")
        raise Invalid.from_fields({"amount": message}, code="amount_too_large")
    return amount.quantize(CENT)


def amount(value):
    """One donation's, subsidy's or opening balance's amount (see money): at most LIMIT."""
    return parse_money(value, LIMIT)


def books_start():
    """The first day of the books: BOOKS_START, else 1 January of the first voucher's year (of
    this year while there is none)."""
    configured = current_app.config.get("BOOKS_START")
    if configured:
        return configured  # a date: config.load checks it
    first = db.session.scalar(select(func.min(JournalEntry.entry_date)))
    return date((first or local_today()).year, 1, 1)


def opening_date(starts_on=None):
    """The day an opening balance is dated: the start of the books, or the fund's own start
    when that comes later (and is not in the future).

    Opening balances are what the foundation held when its books began: they are stated in the
    books' first year. Later, backdating one would change years already reported, so a new fund
    starts at zero and what it receives is recorded as donations. Raises Invalid then.
    """
    start = books_start()
    if local_today().year > start.year:
        message = _(
            "The books have been kept since %(day)s: a new fund starts at 0.00, and the money it "
            "receives is recorded as donations.",
            day=start.isoformat(),
        )
        raise Invalid(message, code="books_open", fields={"opening_balance": message})
    if starts_on and start < starts_on <= local_today():
        return starts_on
    return start


def is_opening():
    """SQL: the entry states an opening balance (期初), or reverses one. Reports show these as
    the opening, never as money received or paid."""
    opened = aliased(JournalEntry)  # not correlated with the outer query's entries
    openings = select(opened.id).where(opened.kind == "opening")
    # reverses_id IN (…) is NULL, not false, for most entries: NOT would drop them all.
    reverses_one = and_(
        JournalEntry.reverses_id.is_not(None), JournalEntry.reverses_id.in_(openings)
    )
    return or_(JournalEntry.kind == "opening", reverses_one)


def voucher_number(kind, entry_date):
    """The voucher's number: opening balances have their own series per year (QC2026-00001),
    which comes before every other voucher of the books; every other voucher takes the next
    number of its month (JZ2026-11-00001), gap-free, so the months' vouchers follow the
    calendar however late one was entered."""
    if kind == "opening":
        return f"QC{entry_date.year}-{next_number('opening', entry_date.year):05d}"
    month = entry_date.month
    number = next_number(f"voucher-{month:02d}", entry_date.year)
    return f"JZ{entry_date.year}-{month:02d}-{number:05d}"


def next_number(name, year):
    """The next number of a gap-free series (in the caller's transaction)."""
    taken = db.session.execute(
        update(Counter)
        .where(Counter.name == name, Counter.year == year)
        .values(last=Counter.last + 1)
        .returning(Counter.last)
    ).scalar()
    if taken is None:
        # The first number of the year: the row is made under a savepoint, so two first
        # numbers at once resolve by the primary key, and the loser takes the next one.
        try:
            with db.session.begin_nested():
                db.session.add(Counter(name=name, year=year, last=1))
            return 1
        except IntegrityError:  # someone else made the row first
            return next_number(name, year)
    return taken


def post(actor, *, summary, kind, lines, entry_date=None, reverses=None, reason=None):
    """Post one balanced voucher (in the caller's unit of work) and move the funds' balances.

    `lines` are (account code, fund, debit, credit). Raises Invalid (unbalanced, bad account),
    Conflict (a fund would go below zero).
    """
    entry_date = entry_date or local_today()
    debit = sum((parse_money(d) if d else Decimal("0.00")) for _a, _f, d, _c in lines)
    credit = sum((parse_money(c) if c else Decimal("0.00")) for _a, _f, _d, c in lines)
    if debit != credit or debit <= 0 or any(a not in ACCOUNTS for a, *_rest in lines):
        raise Invalid(_("A voucher must balance: debits equal credits."), code="unbalanced")
    if current_app.config.get("BOOKS_START") and entry_date < books_start():
        message = _(
            "The books start on %(day)s: what came before is in the opening balance.",
            day=books_start().isoformat(),
        )
        raise Invalid.from_fields({"received_on": message}, code="before_the_books")
    head = _head()
    entry = JournalEntry(
        voucher=voucher_number(kind, entry_date),
        entry_date=entry_date,
        posted_at=utcnow(),
        summary=summary[:200],
        kind=kind,
        actor_id=getattr(actor, "id", None),
        reverses_id=reverses.id if reverses else None,
        reason=reason,
        prev_hash=head.last_hash,
    )
    entry.lines = [
        Posting(
            line=number,
            account=account,
            fund_id=fund.id,
            debit=parse_money(d) if d else Decimal("0.00"),
            credit=parse_money(c) if c else Decimal("0.00"),
        )
        for number, (account, fund, d, c) in enumerate(lines, start=1)
    ]
    entry.hash = entry_hash(entry, head.last_hash)
    db.session.add(entry)
    for account, fund, d, c in lines:
        if account == BANK:
            _move(fund, (parse_money(d) if d else 0) - (parse_money(c) if c else 0))
    head.last_hash, head.entries = entry.hash, head.entries + 1
    db.session.flush()
    action = "ledger.reverse" if reverses is not None else "ledger.post"
    audit.record(actor, action, entry, voucher=entry.voucher, kind=kind)
    return entry


def lock_head():
    """Lock the chain's end for the caller's unit of work: postings after it go one at a time."""
    return _head()


def _head():
    """The chain's end, locked until commit; made on the very first posting."""
    query = (
        select(LedgerHead)
        .where(LedgerHead.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    head = db.session.execute(query).scalar()
    if head is None:
        try:
            with db.session.begin_nested():
                db.session.add(LedgerHead(id=1, last_hash=GENESIS, entries=0))
        except IntegrityError:
            pass  # made by a posting at the same moment
        head = db.session.execute(query).scalar_one()
    return head


def _move(fund, delta):
    """Change a fund's bank balance; refused when it would go below zero."""
    moved = db.session.execute(
        update(Fund)
        .where(Fund.id == fund.id, Fund.balance + delta >= 0, Fund.balance + delta <= MAXIMUM)
        .values(balance=Fund.balance + delta)
        .returning(Fund.balance)
        .execution_options(synchronize_session=False)
    ).scalar()
    if moved is None and delta > 0:
        raise Conflict(
            _("The fund %(code)s cannot hold more money than this.", code=fund.code),
            code="balance_too_large",
        )
    if moved is None:
        raise Conflict(
            _("The fund %(code)s does not hold enough money for this.", code=fund.code),
            code="insufficient_funds",
        )
    fund.balance = moved


def entry_hash(entry, prev_hash):
    """SHA-256 of the previous hash and the entry's content, in a canonical form."""
    content = {
        "voucher": entry.voucher,
        "date": entry.entry_date.isoformat(),
        "summary": entry.summary,
        "kind": entry.kind,
        "reverses": entry.reverses_id,
        "reason": entry.reason,
        "actor": entry.actor_id,
        "posted_at": entry.posted_at.astimezone(UTC).isoformat(),
        "lines": [
            [line.line, line.account, line.fund_id, f"{line.debit:.2f}", f"{line.credit:.2f}"]
            for line in entry.lines
        ],
    }
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def reverse(actor, entry_id, reason):
    """Post the mirror of an entry, linked to it, with a reason; an entry is reversed once.

    Raises NotAllowed (not an approver), NotFound, Invalid (no reason), Conflict (already
    reversed, a reversal itself, or a fund would go below zero).
    """
    require_role(actor, Role.APPROVER)
    reason = (reason or "").strip()
    if not 1 <= len(reason) <= 500:
        message = _("Give the reason, in at most 500 characters.")
        raise Invalid.from_fields({"reason": message})
    with transaction():
        _head()  # taken first: two reversals of one entry at once are checked in turn
        original = db.session.get(JournalEntry, entry_id)
        if original is None:
            raise NotFound(_("Not found."))
        if original.reverses_id is not None:
            raise Conflict(_("A reversal is not reversed; post a new entry."), code="is_reversal")
        if db.session.scalar(select(JournalEntry.id).where(JournalEntry.reverses_id == entry_id)):
            raise Conflict(_("This entry has been reversed already."), code="already_reversed")
        lines = [(line.account, line.fund, line.credit, line.debit) for line in original.lines]
        entry = post(
            actor,
            summary=_("Reversal of %(voucher)s", voucher=original.voucher),
            kind="reversal",
            lines=lines,
            reverses=original,
            reason=reason,
        )
    return entry


@dataclass
class Verification:
    ok: bool
    entries: int
    entry: JournalEntry | None = None  # the first entry found altered
    message: str = ""


def verify():
    """Walk the chain from the start and check every entry is as posted, nothing was removed
    from the end, and each fund's balance equals its postings."""
    prev, count = GENESIS, 0
    chain = db.session.scalars(
        select(JournalEntry).order_by(JournalEntry.id).execution_options(yield_per=1000)
    )
    with chain:  # a server-side cursor on PostgreSQL: closed even when we stop early
        for entry in chain:
            count += 1
            debit = sum(line.debit for line in entry.lines)
            credit = sum(line.credit for line in entry.lines)
            if entry.prev_hash != prev or entry_hash(entry, prev) != entry.hash:
                return Verification(
                    False,
                    count,
                    entry,
                    f"{entry.voucher} (entry {entry.id}) "
                    "was altered: its content or its link in the chain changed",
                )
            if debit != credit:
                return Verification(False, count, entry, f"{entry.voucher} does not balance")
            prev = entry.hash
    head = db.session.get(LedgerHead, 1)
    if (head.last_hash if head else GENESIS) != prev or (head.entries if head else 0) != count:
        return Verification(False, count, None, "entries were removed from the end of the chain")
    bank = dict(
        db.session.execute(
            select(Posting.fund_id, func.sum(Posting.debit - Posting.credit))
            .where(Posting.account == BANK)
            .group_by(Posting.fund_id)
        ).all()
    )
    for fund in db.session.scalars(select(Fund)):
        if (bank.get(fund.id) or Decimal("0.00")) != fund.balance:
            return Verification(
                False,
                count,
                None,
                f"fund {fund.code}: balance {fund.balance}"
                f" but its postings add up to {bank.get(fund.id) or 0}",
            )
    return Verification(True, count)

"""Funds: opened with their opening balance, a custodial fund's beneficiary (beneficiaries' data
encrypted), funds past their end released, and reversing a voucher."""

import logging
from datetime import timedelta
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from neighbors.accounts.services import normalize_phone
from neighbors.areas import services as areas
from neighbors.core import audit, privacy
from neighbors.core.db import transaction
from neighbors.core.errors import Conflict, DomainError, Invalid, NotFound
from neighbors.core.permissions import FOUNDATION_ROLES, Role, require_role
from neighbors.core.timezone import local_today
from neighbors.extensions import db
from neighbors.foundation import ledger
from neighbors.foundation.checks import (
    FUND_CODE,
    ID_NUMBER,
    _once,
    _raise,
    _remember,
    _replay,
    _text,
)
from neighbors.foundation.models import Beneficiary, Fund, FundKind, JournalEntry, Posting

logger = logging.getLogger(__name__)

_PAYS_NO_MORE = _l("The fund %(code)s ended on %(day)s: nothing more is paid from it.")


def funds(actor):
    """All funds with their balances, by code. Raises NotAllowed for non-foundation roles."""
    require_role(actor, *FOUNDATION_ROLES)
    return db.session.scalars(
        select(Fund).options(selectinload(Fund.beneficiary)).order_by(Fund.code)
    ).all()


def fund_by_code(code):
    fund = db.session.scalar(select(Fund).where(Fund.code == (code or "").strip().upper()))
    if fund is None:
        message = _("No fund has the code %(code)s.", code=code)
        raise NotFound.from_fields({"fund": message}, code="no_such_fund")
    return fund


def create_fund(
    actor,
    *,
    code,
    name,
    kind,
    purpose="",
    starts_on=None,
    ends_on=None,
    opening_balance="0",
    beneficiary_name=None,
    beneficiary_id_number=None,
    idempotency=None,
):
    """Open a fund; an opening balance is posted as the fund's first voucher, dated at the start
    of the books. A custodial fund names the beneficiary it is held for (and pays only them).

    Raises NotAllowed (admin or approver only), Invalid, Conflict (the code is taken, or the ID
    number belongs to another name).
    """
    require_role(actor, Role.APPROVER)
    fields = {}
    code = (code or "").strip().upper()
    if not FUND_CODE.match(code):
        fields["code"] = _(
            "Use 2 to 32 capital letters, digits and dashes, starting with a "
            "letter, such as EDU-2026."
        )
    name = _text(fields, "name", name, 100)
    purpose = _text(fields, "purpose", purpose, 500, required=False)
    try:
        kind = FundKind(kind)
    except ValueError:
        fields["kind"] = _("Choose unrestricted, restricted or custodial.")
    if starts_on and ends_on and ends_on < starts_on:
        fields["ends_on"] = _("The end must not be before the start.")
    elif ends_on and kind != FundKind.RESTRICTED:
        # Only a restriction ends (and is released); other money is never frozen by a date.
        fields["ends_on"] = _("Only a restricted fund has a last day.")
    beneficiary_name = (beneficiary_name or "").strip()
    if kind == FundKind.CUSTODIAL and not beneficiary_name:
        fields["beneficiary_name"] = _("Name the person the money is held for.")
    elif kind != FundKind.CUSTODIAL and (beneficiary_name or beneficiary_id_number):
        fields["beneficiary_name"] = _("Only a custodial fund is held for a named person.")
    opening = _opening(opening_balance)
    _raise(fields)

    def make():
        if db.session.scalar(select(Fund.id).where(Fund.code == code)):
            message = _("A fund with this code exists already.")
            raise Conflict.from_fields({"code": message}, code="fund_exists")
        fund = Fund(
            code=code, name=name, kind=kind, purpose=purpose, starts_on=starts_on, ends_on=ends_on
        )
        if kind == FundKind.CUSTODIAL:
            try:
                fund.beneficiary = _beneficiary(
                    actor, name=beneficiary_name, id_number=beneficiary_id_number
                )
            except DomainError as error:  # the fund's fields are named for the beneficiary
                renamed = {"id_number": "beneficiary_id_number"}
                error.fields = {renamed.get(k, k): v for k, v in error.fields.items()}
                raise
        db.session.add(fund)
        db.session.flush()
        if opening:
            # Dated at the start of the books (or of the fund), not today: it is what the fund
            # held before anything this ledger records.
            ledger.post(
                actor,
                summary=_("Opening balance of %(code)s", code=code),
                kind="opening",
                entry_date=ledger.opening_date(starts_on),
                lines=[
                    (ledger.BANK, fund, opening, None),
                    (ledger.net_assets_account(fund), fund, None, opening),
                ],
            )
        audit.record(actor, "fund.create", fund, code=code)
        return fund

    try:
        return _once(actor, idempotency, Fund, make)[0]
    except IntegrityError:  # another request opened a fund with this code meanwhile
        message = _("A fund with this code exists already.")
        raise Conflict(message, code="fund_exists", fields={"code": message}) from None


def name_beneficiary(actor, fund_code, *, beneficiary_name, beneficiary_id_number=None):
    """Name the beneficiary of a custodial fund opened before funds named theirs (until then it
    pays no one). Once named, the beneficiary is not changed: the donor's word is the fund's.

    `actor` None is the operator at the command line (`neighbors ledger name-beneficiary`).
    Raises NotAllowed (admin or approver only), NotFound, Invalid, Conflict (not custodial, or
    named already).
    """
    if actor is not None:
        require_role(actor, Role.APPROVER)
    with transaction():
        fund = fund_by_code(fund_code)
        db.session.refresh(fund, with_for_update=True)
        if fund.kind != FundKind.CUSTODIAL or fund.beneficiary_id is not None:
            raise Conflict(
                _("Only a custodial fund that names no one yet can be given a beneficiary."),
                code="beneficiary_named",
            )
        try:
            fund.beneficiary = _beneficiary(
                actor, name=beneficiary_name, id_number=beneficiary_id_number
            )
        except DomainError as error:
            error.fields = {
                {"id_number": "beneficiary_id_number"}.get(k, k): v for k, v in error.fields.items()
            }
            raise
        db.session.flush()
        audit.record(actor, "fund.name_beneficiary", fund, code=fund.code)
    return fund


def _opening(value):
    """An opening balance, or None for nothing (blank, 0, "0.00" and the like)."""
    try:
        if value in (None, "") or Decimal(str(value).strip()) == 0:
            return None
    except ArithmeticError:
        pass  # not a number at all: parse_money() says what is wrong
    try:
        return ledger.amount(value)
    except Invalid as error:  # the form's field is the opening balance
        raise Invalid(
            error.message, code=error.code, fields={"opening_balance": error.message}
        ) from None


def _beneficiary(
    actor, *, name, id_number=None, phone=None, category=None, community_code=None, household_size=1
):
    """Find a beneficiary by ID number, or add one (in the caller's unit of work)."""
    fields = {}
    name = _text(fields, "beneficiary_name", name, 100)
    id_number = (id_number or "").strip().upper() or None
    if id_number and not ID_NUMBER.match(id_number):
        fields["id_number"] = _("Enter the 18-character ID number.")
    if not isinstance(household_size, int) or not 1 <= household_size <= 30:
        fields["household_size"] = _("Enter a household size from 1 to 30.")
    category = _text(fields, "category", category, 100, required=False) or None
    _raise(fields)
    phone = normalize_phone(phone) if phone else None
    if id_number:
        known = db.session.scalar(
            # Under every configured key: one not yet moved to a new key is still found.
            select(Beneficiary).where(
                Beneficiary.id_number_hash.in_(privacy.lookup_hashes(id_number))
            )
        )
        if known:
            if known.name != name:  # a mistyped ID number must not pay someone else
                message = _("This ID number belongs to another name; check both.")
                raise Conflict.from_fields({"id_number": message}, code="beneficiary_mismatch")
            return known
    community = areas.community_by_code(community_code) if community_code else None
    beneficiary = Beneficiary(
        name=name,
        id_number_encrypted=privacy.encrypt(id_number),
        id_number_hash=privacy.lookup_hash(id_number) if id_number else None,
        phone_encrypted=privacy.encrypt(phone),
        category_encrypted=privacy.encrypt(category),
        community_id=community.id if community else None,
        household_size=household_size,
    )
    db.session.add(beneficiary)
    db.session.flush()
    return beneficiary


def _not_ended(fund, message, day=None):
    """A fund restricted in time takes and pays nothing after its last day (a gift received by
    then, `day`, may still be entered until its remainder is released): what it holds then is
    released from the restriction (see release_ended_funds). Raises Conflict."""
    day = day or local_today()
    if fund.ends_on and (day > fund.ends_on or fund.released_entry_id is not None):
        raise Conflict(
            str(message) % {"code": fund.code, "day": fund.ends_on.isoformat()},
            code="fund_ended",
        )


def ended_funds_to_release(today=None):
    """Ids of restricted funds whose last day is past and whose remaining money is still
    restricted."""
    today = today or local_today()
    return db.session.scalars(
        select(Fund.id)
        .where(
            Fund.kind == FundKind.RESTRICTED,
            Fund.ends_on < today,
            Fund.released_entry_id.is_(None),
            Fund.balance > 0,
        )
        .order_by(Fund.id)
    ).all()


def release_ended_fund(fund_id, today=None):
    """Release what a fund restricted in time still holds after its last day from the
    restriction (限定性净资产转为非限定性净资产): a voucher moving that balance from the fund's
    restricted to its unrestricted net assets, dated the day after the end. Once per fund, also
    when two runs race: the ledger's head and the fund's row are locked, then the fund's
    released voucher is checked. The money stays in the fund's bank balance; the fund takes no
    more donations and pays no more subsidies.

    Returns the voucher, or None when there is nothing (more) to release.
    """
    today = today or local_today()
    with transaction():
        ledger.lock_head()  # first, as every posting does: no deadlock with a donation
        fund = db.session.get(Fund, fund_id, with_for_update=True, populate_existing=True)
        if (
            fund is None
            or fund.kind != FundKind.RESTRICTED
            or fund.ends_on is None
            or fund.ends_on >= today
            or fund.released_entry_id is not None
            or fund.balance <= 0
        ):
            return None
        entry = ledger.post(
            None,
            summary=_(
                "Restriction of %(code)s ended on %(day)s: remaining balance released",
                code=fund.code,
                day=fund.ends_on.isoformat(),
            ),
            kind="release",
            entry_date=max(fund.ends_on + timedelta(days=1), ledger.books_start()),
            lines=_release_lines(fund),
        )
        fund.released_entry_id = entry.id
        db.session.flush()
        audit.record(None, "fund.release", fund, voucher=entry.voucher)
    return entry


def _release_lines(fund):
    """The reclassification of what a restricted fund still holds. Restricted gifts sit in its
    restricted income (4102) until a year-end closing moves them into restricted net assets
    (3102); the books close no year, so the release takes from the income first (捐赠收入
    限定性 → 非限定性, as the standard asks for a restriction lifted before closing) and the rest,
    up to its opening, from the net assets (限定性净资产 → 非限定性净资产). Neither account goes
    below zero: the balance left is at most the opening plus the gifts."""
    income = db.session.scalar(
        select(func.coalesce(func.sum(Posting.credit - Posting.debit), 0)).where(
            Posting.fund_id == fund.id, Posting.account == "4102"
        )
    )
    from_income = min(fund.balance, max(Decimal(income), Decimal("0.00")))
    rest = fund.balance - from_income
    lines = []
    if from_income:
        lines += [("4102", fund, from_income, None), ("4101", fund, None, from_income)]
    if rest:
        lines += [("3102", fund, rest, None), ("3101", fund, None, rest)]
    return lines


def reverse_entry(actor, entry_id, reason, idempotency=None):
    """Reverse a posted entry (see ledger.reverse), at most once per idempotency key: the same
    form or request sent again returns the first reversal. Returns (entry, created).

    Raises NotAllowed, NotFound, Invalid, Conflict (see ledger.reverse; a key used for another
    request).
    """
    require_role(actor, Role.APPROVER)
    with transaction():
        ledger.lock_head()  # first: a second send waits for the first, then finds its key
        if (earlier := _replay(actor, idempotency, JournalEntry)) is not None:
            return earlier, False
        original = db.session.get(JournalEntry, entry_id)
        if original is not None and original.kind == "release":
            # The fund recorded it as its one release: undone, the money would stay restricted
            # for good. A mistake in it is corrected by a new voucher, as the accountant sees fit.
            raise Conflict(
                _("A release from restriction is final; correct it with a new voucher."),
                code="release_final",
            )
        entry = ledger.reverse(actor, entry_id, reason)
        _remember(actor, idempotency, entry)
    return entry, True

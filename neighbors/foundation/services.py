"""The foundation's work: funds, donations with gap-free acknowledgement numbers, beneficiaries
with their sensitive data encrypted, and subsidies that three different people prepare, approve
and pay. Every movement of money is a voucher in the ledger (see ledger.py)."""

import hashlib
import json
import logging
import re
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from neighbors.accounts.services import normalize_phone
from neighbors.areas import services as areas
from neighbors.core import audit, privacy
from neighbors.core.db import transaction, utcnow
from neighbors.core.errors import Conflict, DomainError, Invalid, NotFound
from neighbors.core.permissions import FOUNDATION_ROLES, Role, has_role, require_role
from neighbors.core.privacy import mask_name
from neighbors.core.timezone import local_today
from neighbors.extensions import db
from neighbors.foundation import ledger
from neighbors.foundation.models import (
    Beneficiary,
    Donation,
    Fund,
    FundKind,
    IdempotencyKey,
    JournalEntry,
    Subsidy,
    SubsidyStatus,
)

logger = logging.getLogger(__name__)

FUND_CODE = re.compile(r"^[A-Z][A-Z0-9-]{1,31}$")
CHANNELS = ("bank_transfer", "cash", "wechat", "alipay", "other")
ID_NUMBER = re.compile(r"^[0-9]{17}[0-9X]$")


def _text(fields, name, value, limit, required=True):
    value = (value or "").strip()
    if (required and not value) or len(value) > limit or "\x00" in value:
        fields[name] = (
            _("Enter 1 to %(n)s characters.", n=limit)
            if required
            else _("At most %(n)s characters.", n=limit)
        )
    return value


def _raise(fields):
    if fields:
        raise Invalid(next(iter(fields.values())), fields=fields)


# -- funds -------------------------------------------------------------------------------------


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
        raise NotFound(message, code="no_such_fund", fields={"fund": message})
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
            raise Conflict(message, code="fund_exists", fields={"code": message})
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

    return _once(actor, idempotency, Fund, make)[0]


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
        pass  # not a number at all: money() says what is wrong
    try:
        return ledger.amount(value)
    except Invalid as error:  # the form's field is the opening balance
        raise Invalid(
            error.message, code=error.code, fields={"opening_balance": error.message}
        ) from None


# -- idempotency -------------------------------------------------------------------------------


def request_hash(body):
    """A fingerprint of a request body: the same JSON in any key order gives the same hash."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(actor, idempotency, model):
    """The object made earlier with this key, or None for a new key. Raises Conflict when the
    key was used with another body."""
    if not idempotency:
        return None
    key, fingerprint = idempotency
    if not 1 <= len(key) <= 100:
        raise Invalid(
            _("The Idempotency-Key must have 1 to 100 characters."), code="bad_idempotency_key"
        )
    seen = db.session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.actor_id == actor.id, IdempotencyKey.key == key)
    )
    if seen is None:
        return None
    if seen.request_hash != fingerprint or seen.object_type != model.__tablename__:
        raise Conflict(
            _("This Idempotency-Key was used for another request."), code="idempotency_key_reused"
        )
    return db.session.get(model, seen.object_id)


def _remember(actor, idempotency, obj):
    if idempotency:
        key, fingerprint = idempotency
        db.session.add(
            IdempotencyKey(
                actor_id=actor.id,
                key=key,
                request_hash=fingerprint,
                object_type=obj.__tablename__,
                object_id=obj.id,
            )
        )
        db.session.flush()


def _once(actor, idempotency, model, make):
    """Run `make` in a unit of work at most once per Idempotency-Key: (object, created)."""
    try:
        with transaction():
            earlier = _replay(actor, idempotency, model)
            if earlier is not None:
                return earlier, False
            obj = make()
            _remember(actor, idempotency, obj)
    except IntegrityError:
        if not idempotency:
            raise
        earlier = _replay(actor, idempotency, model)  # the same key raced us and won
        if earlier is None:
            raise
        return earlier, False
    return obj, True


# -- donations ---------------------------------------------------------------------------------


def record_donation(
    actor,
    *,
    fund_code,
    amount,
    received_on,
    donor_name=None,
    donor_kind="person",
    anonymous=False,
    publish_consent=False,
    channel="bank_transfer",
    notes="",
    receipt_code=None,
    receipt_number=None,
    receipt_date=None,
    idempotency=None,
):
    """Record a donation and post it; it gets the year's next acknowledgement number.

    Returns (donation, created). Raises NotAllowed (preparers only), Invalid, NotFound (fund),
    Conflict (an Idempotency-Key used for another request).
    """
    require_role(actor, Role.PREPARER)
    fields = {}
    amount = ledger.amount(amount)
    donor_name = _text(fields, "donor_name", donor_name, 200, required=not anonymous) or None
    notes = _text(fields, "notes", notes, 2000, required=False)
    if donor_kind not in ("person", "organisation"):
        fields["donor_kind"] = _("Choose person or organisation.")
    if channel not in CHANNELS:
        fields["channel"] = _("Choose one of: %(list)s.", list=", ".join(CHANNELS))
    today = local_today()
    if not isinstance(received_on, date) or not date(2000, 1, 1) <= received_on <= today:
        fields["received_on"] = _("Enter the day it was received; not in the future.")
    for name, value in (("receipt_code", receipt_code), ("receipt_number", receipt_number)):
        _text(fields, name, value, 40, required=False)
    _raise(fields)

    def make():
        fund = fund_by_code(fund_code)
        _not_ended(fund, _("The fund %(code)s ended on %(day)s: it takes no more donations."))
        number = ledger.next_number("ack", received_on.year)
        donor = _("anonymous donor") if anonymous or not donor_name else donor_name
        entry = ledger.post(
            actor,
            summary=_("Donation from %(donor)s", donor=donor)[:200],
            kind="donation",
            entry_date=received_on,
            lines=[
                (ledger.BANK, fund, amount, None),
                (ledger.income_account(fund), fund, None, amount),
            ],
        )
        donation = Donation(
            ack_number=f"{received_on.year}-{number:06d}",
            donor_kind=donor_kind,
            donor_name=donor_name,
            anonymous=bool(anonymous),
            publish_consent=bool(publish_consent) and not anonymous,
            received_on=received_on,
            channel=channel,
            amount=amount,
            fund_id=fund.id,
            notes=notes,
            receipt_code=receipt_code or None,
            receipt_number=receipt_number or None,
            receipt_date=receipt_date,
            entry_id=entry.id,
            created_by_id=actor.id,
        )
        db.session.add(donation)
        db.session.flush()
        audit.record(actor, "donation.record", donation, fund=fund.code)
        return donation

    return _once(actor, idempotency, Donation, make)


def donations(actor, limit=200):
    """The latest donations. Raises NotAllowed."""
    require_role(actor, *FOUNDATION_ROLES)
    return db.session.scalars(
        select(Donation)
        .options(joinedload(Donation.fund))
        .order_by(Donation.id.desc())
        .limit(limit)
    ).all()


# -- beneficiaries and subsidies ---------------------------------------------------------------


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
                raise Conflict(message, code="beneficiary_mismatch", fields={"id_number": message})
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


def prepare_subsidy(
    actor,
    *,
    fund_code,
    amount,
    beneficiary_name,
    reason,
    id_number=None,
    phone=None,
    category=None,
    community_code=None,
    household_size=1,
    related_party=False,
    idempotency=None,
):
    """Prepare a subsidy for approval. Returns (subsidy, created).

    Raises NotAllowed (preparers only), Invalid, NotFound (fund or community), Conflict.
    """
    require_role(actor, Role.PREPARER)
    amount = ledger.amount(amount)
    fields = {}
    reason = _text(fields, "reason", reason, 500)
    _raise(fields)

    def make():
        fund = fund_by_code(fund_code)
        _not_ended(fund, _PAYS_NO_MORE)
        if fund.kind == FundKind.CUSTODIAL:
            beneficiary = _held_for(fund, beneficiary_name, id_number)
        else:
            beneficiary = _beneficiary(
                actor,
                name=beneficiary_name,
                id_number=id_number,
                phone=phone,
                category=category,
                community_code=community_code,
                household_size=household_size,
            )
        subsidy = Subsidy(
            beneficiary_id=beneficiary.id,
            fund_id=fund.id,
            amount=amount,
            reason=reason,
            related_party=bool(related_party),
            prepared_by_id=actor.id,
            prepared_at=utcnow(),
        )
        db.session.add(subsidy)
        db.session.flush()
        audit.record(actor, "subsidy.prepare", subsidy, fund=fund.code)
        return subsidy

    return _once(actor, idempotency, Subsidy, make)


def _subsidy(subsidy_id):
    subsidy = db.session.get(Subsidy, subsidy_id, with_for_update=True, populate_existing=True)
    if subsidy is None:
        raise NotFound(_("Not found."))
    return subsidy


def _different(actor, subsidy, *steps):
    if actor.id in {getattr(subsidy, f"{step}_by_id") for step in steps}:
        raise Conflict(_("Each step of a subsidy needs a different person."), code="same_person")


_PAYS_NO_MORE = _l("The fund %(code)s ended on %(day)s: nothing more is paid from it.")


def _not_ended(fund, message):
    """A fund restricted in time takes and pays nothing after its last day: what it holds then
    is released from the restriction (see release_ended_funds). Raises Conflict."""
    if fund.ends_on and local_today() > fund.ends_on:
        raise Conflict(
            str(message) % {"code": fund.code, "day": fund.ends_on.isoformat()},
            code="fund_ended",
        )


def _held_for(fund, name, id_number):
    """The custodial fund's named beneficiary, when the subsidy is for them (by ID number when
    given, else by name). Raises Invalid, Conflict (anyone else, or no one named)."""
    fields = {}
    name = _text(fields, "beneficiary_name", name, 100)
    _raise(fields)
    person = fund.beneficiary
    if person is None:
        raise Conflict(
            _("The custodial fund %(code)s names no beneficiary: it pays no one.", code=fund.code),
            code="no_named_beneficiary",
        )
    id_number = (id_number or "").strip().upper()
    same_id = not id_number or (
        person.id_number_hash is not None
        and person.id_number_hash in privacy.lookup_hashes(id_number)
    )
    if name != person.name or not same_id:
        raise _not_the_beneficiary(fund)
    return person


def _not_the_beneficiary(fund):
    message = _(
        "The fund %(code)s is held for %(name)s and pays only them.",
        code=fund.code,
        name=mask_name(fund.beneficiary.name) if fund.beneficiary else "—",
    )
    return Conflict(message, code="not_the_beneficiary", fields={"beneficiary_name": message})


def _available_now(fund, subsidy=None):
    """A fund restricted in time is spent only from its first day (the donor's condition) to
    its last; a custodial fund only on its named beneficiary. Raises Conflict."""
    _not_ended(fund, _PAYS_NO_MORE)
    custodial = subsidy is not None and fund.kind == FundKind.CUSTODIAL
    if custodial and (fund.beneficiary_id is None or subsidy.beneficiary_id != fund.beneficiary_id):
        raise _not_the_beneficiary(fund)
    today = local_today()
    if fund.starts_on and today < fund.starts_on:
        raise Conflict(
            _(
                "The fund %(code)s may be spent from %(day)s.",
                code=fund.code,
                day=fund.starts_on.isoformat(),
            ),
            code="fund_not_yet_available",
        )


def approve_subsidy(actor, subsidy_id, idempotency=None):
    """Approve a prepared subsidy; a related-party one needs a second, different approver.

    Raises NotAllowed, NotFound, Conflict (wrong state, the same person as an earlier step,
    or the fund does not hold the amount).
    """
    require_role(actor, Role.APPROVER)
    with transaction():
        subsidy = _subsidy(subsidy_id)
        if (earlier := _replay(actor, idempotency, Subsidy)) is not None:
            return earlier  # the same form sent again: approved once
        _different(actor, subsidy, "prepared", "approved")
        if subsidy.status != SubsidyStatus.PREPARED:
            raise Conflict(_("Only a prepared subsidy can be approved."), code="wrong_state")
        _available_now(subsidy.fund, subsidy)
        if subsidy.fund.balance < subsidy.amount:
            raise Conflict(
                _("The fund %(code)s does not hold enough money for this.", code=subsidy.fund.code),
                code="insufficient_funds",
            )
        if subsidy.approved_by_id is None:
            subsidy.approved_by_id, subsidy.approved_at = actor.id, utcnow()
        else:
            subsidy.second_approved_by_id, subsidy.second_approved_at = actor.id, utcnow()
        if not subsidy.related_party or subsidy.second_approved_by_id:
            subsidy.status = SubsidyStatus.APPROVED
        audit.record(actor, "subsidy.approve", subsidy)
        _remember(actor, idempotency, subsidy)
    return subsidy


def pay_subsidy(actor, subsidy_id, idempotency=None):
    """Pay an approved subsidy: the expense is posted and the fund's balance goes down.

    Raises NotAllowed (cashiers only), NotFound, Conflict (wrong state, the same person as an
    earlier step, or the fund would go below zero).
    """
    require_role(actor, Role.CASHIER)
    with transaction():
        subsidy = _subsidy(subsidy_id)  # locked first: a second send waits, then sees the key
        if (earlier := _replay(actor, idempotency, Subsidy)) is not None:
            return earlier  # the same form sent again: paid once
        _different(actor, subsidy, "prepared", "approved", "second_approved")
        if subsidy.status != SubsidyStatus.APPROVED:
            raise Conflict(_("Only an approved subsidy can be paid."), code="wrong_state")
        fund = subsidy.fund
        _available_now(fund, subsidy)
        entry = ledger.post(
            actor,
            summary=_("Subsidy %(id)s paid", id=subsidy.id),
            kind="subsidy",
            lines=[
                (ledger.spending_account(fund), fund, subsidy.amount, None),
                (ledger.BANK, fund, None, subsidy.amount),
            ],
        )
        subsidy.status, subsidy.paid_by_id, subsidy.paid_at = SubsidyStatus.PAID, actor.id, utcnow()
        subsidy.entry_id = entry.id
        audit.record(actor, "subsidy.pay", subsidy, voucher=entry.voucher)
        _remember(actor, idempotency, subsidy)
    return subsidy


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
            entry_date=fund.ends_on + timedelta(days=1),
            lines=[
                ("3102", fund, fund.balance, None),
                ("3101", fund, None, fund.balance),
            ],
        )
        fund.released_entry_id = entry.id
        db.session.flush()
        audit.record(None, "fund.release", fund, voucher=entry.voucher)
    return entry


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
        entry = ledger.reverse(actor, entry_id, reason)
        _remember(actor, idempotency, entry)
    return entry, True


def reject_subsidy(actor, subsidy_id, reason=None, idempotency=None):
    """Reject a subsidy not yet paid. Raises NotAllowed, NotFound, Conflict."""
    require_role(actor, Role.APPROVER)
    with transaction():
        subsidy = _subsidy(subsidy_id)
        if (earlier := _replay(actor, idempotency, Subsidy)) is not None:
            return earlier
        _different(actor, subsidy, "prepared")
        if subsidy.status not in (SubsidyStatus.PREPARED, SubsidyStatus.APPROVED):
            raise Conflict(_("A paid or rejected subsidy cannot be rejected."), code="wrong_state")
        subsidy.status = SubsidyStatus.REJECTED
        subsidy.rejected_by_id, subsidy.rejected_at = actor.id, utcnow()
        subsidy.rejection_reason = (reason or "").strip()[:500] or None
        audit.record(actor, "subsidy.reject", subsidy)
        _remember(actor, idempotency, subsidy)
    return subsidy


def subsidies(actor, limit=200):
    """The latest subsidies with their beneficiaries and funds. Raises NotAllowed."""
    require_role(actor, *FOUNDATION_ROLES)
    return db.session.scalars(
        select(Subsidy)
        .options(joinedload(Subsidy.beneficiary), joinedload(Subsidy.fund))
        .order_by(Subsidy.id.desc())
        .limit(limit)
    ).all()


def beneficiary_details(actor, beneficiary_id):
    """A beneficiary's sensitive fields in full, for approvers and cashiers; each view is
    written to the audit log. Raises NotAllowed, NotFound."""
    require_role(actor, Role.APPROVER, Role.CASHIER)
    with transaction():
        person = db.session.get(Beneficiary, beneficiary_id)
        if person is None:
            raise NotFound(_("Not found."))
        audit.record(actor, "beneficiary.full_view", person)
    # A value no configured key can decrypt shows as privacy.UNREADABLE, not as an error page.
    return {
        "id_number": privacy.readable(person.id_number_encrypted),
        "phone": privacy.readable(person.phone_encrypted),
        "category": privacy.readable(person.category_encrypted),
    }


def require_fund_opener(actor):
    """Raises NotAllowed unless the actor may open funds (approvers, admins)."""
    require_role(actor, Role.APPROVER)


def require_preparer(actor):
    """Raises NotAllowed unless the actor may record donations and prepare subsidies."""
    require_role(actor, Role.PREPARER)


def can_see_full(actor):
    """Approvers and cashiers may open a beneficiary's sensitive fields (each view is logged)."""
    return has_role(actor, Role.APPROVER, Role.CASHIER)

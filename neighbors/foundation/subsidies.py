"""Beneficiaries, their sensitive data encrypted, and subsidies that three different people
prepare, approve and pay."""

import logging

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from neighbors.core import audit, privacy
from neighbors.core.db import transaction, utcnow
from neighbors.core.errors import Conflict, NotFound
from neighbors.core.permissions import FOUNDATION_ROLES, Role, require_role
from neighbors.core.privacy import mask_name
from neighbors.core.timezone import local_today
from neighbors.extensions import db
from neighbors.foundation import ledger
from neighbors.foundation.checks import _once, _raise, _remember, _replay, _text
from neighbors.foundation.funds import _PAYS_NO_MORE, _beneficiary, _not_ended, fund_by_code
from neighbors.foundation.models import Beneficiary, FundKind, Subsidy, SubsidyStatus

logger = logging.getLogger(__name__)


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


STEP_ROLES = {"approve": Role.APPROVER, "pay": Role.CASHIER, "reject": Role.APPROVER}
STEP_FROM = {"approve": SubsidyStatus.PREPARED, "pay": SubsidyStatus.APPROVED}


def subsidy_for_step(actor, subsidy_id, step):
    """The subsidy that `step` (approve, pay, reject) would change, for the page that asks
    first; None when it is past that step. Raises NotAllowed (not the step's role), NotFound."""
    require_role(actor, STEP_ROLES[step])
    subsidy = db.session.scalars(
        select(Subsidy)
        .options(joinedload(Subsidy.beneficiary), joinedload(Subsidy.fund))
        .where(Subsidy.id == subsidy_id)
    ).one_or_none()
    if subsidy is None:
        raise NotFound(_("Not found."))
    waiting = STEP_FROM.get(step, (SubsidyStatus.PREPARED, SubsidyStatus.APPROVED))
    waiting = waiting if isinstance(waiting, tuple) else (waiting,)
    return subsidy if subsidy.status in waiting else None


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

"""Donations, with gap-free acknowledgement numbers."""

import logging
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from neighbors.core import audit
from neighbors.core.permissions import FOUNDATION_ROLES, Role, require_role
from neighbors.core.timezone import local_today
from neighbors.extensions import db
from neighbors.foundation import ledger
from neighbors.foundation.checks import CHANNELS, _once, _raise, _text
from neighbors.foundation.funds import _not_ended, fund_by_code
from neighbors.foundation.models import Donation

logger = logging.getLogger(__name__)


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
        _not_ended(
            fund,
            _("The fund %(code)s ended on %(day)s: it takes no more donations."),
            day=received_on,
        )
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

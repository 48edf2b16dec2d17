"""Certificates of confirmed service: issued, signed, verified."""

import logging
import secrets
from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from neighbors.core import audit
from neighbors.core.db import transaction
from neighbors.core.errors import Invalid, NotFound
from neighbors.core.permissions import require_user
from neighbors.core.timezone import local_today
from neighbors.extensions import db
from neighbors.hours.models import Certificate, ServiceRecord
from neighbors.hours.records import is_effective

logger = logging.getLogger(__name__)


def _signer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="certificate")


def issue_certificate(actor, period_from, period_to):
    """A certificate of one's confirmed service in a period (dates, inclusive).

    Raises NotAuthenticated, Invalid (bad period, or nothing confirmed in it).
    """
    require_user(actor)
    today = local_today()
    if not (isinstance(period_from, date) and isinstance(period_to, date)):
        raise Invalid(_("Give the period as two dates."), fields={"from": _("Required.")})
    if (
        period_from > period_to
        or period_to > today
        or period_to - period_from > timedelta(days=366 * 50)
    ):
        message = _("The period must run forwards and end by today.")
        raise Invalid.from_fields({"to": message})
    with transaction():
        records = db.session.scalars(
            select(ServiceRecord)
            .where(
                ServiceRecord.user_id == actor.id,
                is_effective(),
                ServiceRecord.served_on.between(period_from, period_to),
            )
            .order_by(ServiceRecord.served_on, ServiceRecord.id)
        ).all()
        if not records:
            message = _("You have no confirmed service in this period.")
            raise Invalid.from_fields({"from": message}, code="nothing_confirmed")
        certificate = Certificate(
            name=actor.name,
            volunteer_number=volunteer_number(actor),
            serial=f"{today:%Y%m%d}{secrets.randbelow(10**8):08d}",
            user_id=actor.id,
            community_id=actor.home_community_id,
            period_from=period_from,
            period_to=period_to,
            total_minutes=sum(r.minutes for r in records),
            services=[
                {
                    "date": r.served_on.isoformat(),
                    "activity": r.activity,
                    "organiser": r.organiser,
                    "minutes": r.minutes,
                }
                for r in records
            ],
        )
        db.session.add(certificate)
        db.session.flush()
        audit.record(actor, "certificate.issue", certificate)
    return certificate


def certificate_token(certificate):
    """The signed token in the verification link; changing one character breaks it."""
    return _signer().dumps(certificate.serial)


def verify_certificate(token):
    """The certificate a token stands for. Raises NotFound when it is not genuine."""
    try:
        serial = _signer().loads(token)
    except BadSignature:
        serial = None
    # Only the exact token we issued: base64 lets a few characters change without changing the
    # decoded bytes, and such a token is not ours either.
    if not isinstance(serial, str) or _signer().dumps(serial) != token:
        serial = None
    certificate = (
        db.session.scalar(
            select(Certificate)
            .options(joinedload(Certificate.user), joinedload(Certificate.community))
            .where(Certificate.serial == serial)
        )
        if isinstance(serial, str)
        else None
    )
    if certificate is None:
        raise NotFound(_("This certificate is not genuine."), code="not_genuine")
    return certificate


def my_certificates(actor):
    """One's certificates, newest first. Raises NotAuthenticated."""
    require_user(actor)
    return db.session.scalars(
        select(Certificate)
        .where(Certificate.user_id == actor.id)
        .order_by(Certificate.issued_at.desc())
        .limit(100)
    ).all()


def my_certificate(actor, serial):
    """One of one's own certificates. Raises NotAuthenticated, NotFound."""
    require_user(actor)
    certificate = db.session.scalar(
        select(Certificate).where(Certificate.serial == serial, Certificate.user_id == actor.id)
    )
    if certificate is None:
        raise NotFound(_("Not found."))
    return certificate


def volunteer_number(user):
    """The number printed on certificates: stable, derived from the account."""
    return f"V{user.id:08d}"

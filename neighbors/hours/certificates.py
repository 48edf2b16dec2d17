"""Certificates of confirmed service (志愿服务记录证明): issued by whoever recorded the service
(谁记录谁证明: the organisation that ran the event, else the community), numbered without gaps
per issuer and year, signed, verified, kept in the issuer's register and revocable there."""

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload

from neighbors.accounts import identity as identities
from neighbors.areas.models import Community
from neighbors.core import audit
from neighbors.core.db import is_postgresql, next_number, transaction, utcnow
from neighbors.core.errors import Conflict, Invalid, NotAllowed, NotFound
from neighbors.core.permissions import (
    Role,
    has_role,
    managed_community_ids,
    organised_ids,
    require_community_staff,
    require_user,
)
from neighbors.core.privacy import mask_phone
from neighbors.core.timezone import local_today
from neighbors.extensions import db
from neighbors.hours.models import (
    Certificate,
    CertificateIssuer,
    CertificateSerial,
    ServiceRecord,
)
from neighbors.hours.records import is_effective

logger = logging.getLogger(__name__)

REGISTER_LIMIT = 500


@dataclass(frozen=True)
class IssuerRef:
    """Who issues: ("community", community id) or ("organisation", organisation id)."""

    kind: str
    id: int

    @property
    def key(self):
        return f"{self.kind}:{self.id}"

    @property
    def column(self):
        """The name of the column that holds this issuer's id (on records, issuers, exports)."""
        return f"{self.kind}_id"

    @classmethod
    def of_record(cls, record):
        if record.organisation_id is not None:
            return cls("organisation", record.organisation_id)
        return cls("community", record.community_id)

    @classmethod
    def parse(cls, key):
        """'community:3' or 'organisation:5'. Raises Invalid."""
        kind, _sep, number = (key or "").partition(":")
        if (
            kind not in ("community", "organisation")
            or not (number.isascii() and number.isdecimal())
            or len(number) > 9
        ):
            raise Invalid.from_fields({"issuer": _("Choose who issues the certificate.")})
        return cls(kind, int(number))


def _organisation(organisation_id):
    """An organisation's row (name, credit code, community, contact), or None. Hours sits below
    organisations in the layers, so it reads the table by name, as models name it by string."""
    table = db.metadata.tables["organisations"]
    return db.session.execute(select(table).where(table.c.id == organisation_id)).one_or_none()


def issuer_name(ref):
    """The issuing community's or organisation's name. Raises NotFound."""
    return _describe(ref)[0]


def _describe(ref):
    """(name, code, community id, default contact) of an issuer. Raises NotFound."""
    if ref.kind == "organisation":
        row = _organisation(ref.id)
        if row is None:
            raise NotFound(_("Not found."))
        # A certificate travels to third parties: the contact's own mobile only masked, until
        # the issuer sets a contact for its certificates (an office number) on purpose.
        phone = mask_phone(row.contact_phone) if row.contact_phone else None
        contact = " ".join(part for part in (row.contact_name, phone) if part)
        return row.name, row.credit_code or f"O{row.id:06d}", row.community_id, contact
    community = db.session.get(Community, ref.id)
    if community is None:
        raise NotFound(_("Not found."))
    return community.name, community.code, community.id, ""


def _signer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="certificate")


def _issuer_row(ref):
    """The issuer's settings row, made when first needed (safe under concurrency)."""
    dialect = postgresql if is_postgresql() else sqlite
    db.session.execute(
        dialect.insert(CertificateIssuer.__table__)
        .values(**{ref.column: ref.id}, responsible="", handler="", contact="", updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=[ref.column])
    )
    return _find_issuer(ref)


def issuers_of(actor):
    """The issuers of one's confirmed service, as (key, name), for the certificate form."""
    require_user(actor)
    refs = {
        IssuerRef.of_record(record)
        for record in db.session.scalars(
            select(ServiceRecord).where(ServiceRecord.user_id == actor.id, is_effective())
        )
    }
    return sorted(((ref.key, issuer_name(ref)) for ref in refs), key=lambda item: item[1])


def _check_period(period_from, period_to, today):
    if not (isinstance(period_from, date) and isinstance(period_to, date)):
        raise Invalid(_("Give the period as two dates."), fields={"from": _("Required.")})
    if (
        period_from > period_to
        or period_to > today
        or period_to - period_from > timedelta(days=366 * 50)
    ):
        message = _("The period must run forwards and end by today.")
        raise Invalid.from_fields({"to": message})


def issue_certificate(actor, period_from, period_to, issuer=None):
    """A certificate of one's confirmed service in a period (dates, inclusive), from one issuer
    (its key, as issuers_of gives; needed only when the service has more than one).

    Raises NotAuthenticated, Invalid (bad period, nothing confirmed in it, issuer to choose).
    """
    require_user(actor)
    today = local_today()
    _check_period(period_from, period_to, today)
    chosen = IssuerRef.parse(issuer) if issuer else None
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
        refs = {IssuerRef.of_record(r) for r in records}
        if chosen is None and len(refs) > 1:
            message = _(
                "Your service in this period was recorded by more than one community or "
                "organisation: choose which one issues the certificate."
            )
            raise Invalid.from_fields({"issuer": message}, code="choose_issuer")
        ref = chosen or next(iter(refs), None)
        records = [r for r in records if IssuerRef.of_record(r) == ref]
        if not records:
            message = _("You have no confirmed service in this period.")
            raise Invalid.from_fields({"from": message}, code="nothing_confirmed")
        name, code, community_id, default_contact = _describe(ref)
        settings = _issuer_row(ref)
        number = next_number(CertificateSerial, issuer_id=settings.id, year=today.year)
        identity = identities.issue_number(actor)
        certificate = Certificate(
            name=actor.name,
            volunteer_number=identities.volunteer_number(actor, identity),
            id_masked=identity.id_number_masked,
            serial=f"{code}-{today.year}-{number:06d}",
            user_id=actor.id,
            community_id=community_id,
            issuer_id=settings.id,
            issuer_name=name,
            responsible=settings.responsible,
            handler=settings.handler,
            contact=settings.contact or default_contact,
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
        audit.record(actor, "certificate.issue", certificate, serial=certificate.serial)
    return certificate


def certificate_token(certificate):
    """The signed token in the verification link; changing one character breaks it."""
    return _signer().dumps(certificate.serial)


def verify_certificate(token):
    """The certificate a token stands for (revoked ones too: the check page says so).
    Raises NotFound when it is not genuine."""
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
    """The number printed for a volunteer (the national one, else ours; "" before either)."""
    return identities.volunteer_number(user)


# -- the issuer's register -----------------------------------------------------------------------


def require_issuer(actor, ref):
    """Staff of the issuing community (or of the organisation's community), or a coordinator
    of the issuing organisation. Raises NotAuthenticated, NotAllowed, NotFound."""
    require_user(actor)
    _name, _code, community_id, _contact = _describe(ref)
    if ref.kind == "organisation" and ref.id in organised_ids(actor):
        return
    require_community_staff(actor, community_id)


def require_keeper(actor):
    """Raises NotAuthenticated, or NotAllowed for one who is neither staff nor a coordinator."""
    require_user(actor)
    if not (has_role(actor, Role.STAFF) or organised_ids(actor)):
        raise NotAllowed(_("Your role does not permit this."))


def managed_issuers(actor):
    """The issuers whose register the actor keeps, as (key, name): the communities they are
    staff of and the organisations they coordinate (an admin names a community by its key).
    Raises NotAuthenticated, NotAllowed (neither staff nor a coordinator)."""
    require_keeper(actor)
    scope = managed_community_ids(actor)
    refs = [IssuerRef("organisation", i) for i in sorted(organised_ids(actor))]
    if scope:
        refs += [IssuerRef("community", i) for i in sorted(scope)]
    if not refs and scope is None:
        return []
    return [(ref.key, issuer_name(ref)) for ref in refs]


def register(actor, issuer, year=None):
    """The certificates an issuer gave (in a year, if given), newest first, with the issuer's
    name. Raises NotAuthenticated, NotAllowed, NotFound, Invalid."""
    ref = IssuerRef.parse(issuer)
    require_issuer(actor, ref)
    settings = _find_issuer(ref)
    if settings is None:
        return issuer_name(ref), []
    query = (
        select(Certificate)
        .where(Certificate.issuer_id == settings.id)
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        .limit(REGISTER_LIMIT)
    )
    if year:
        query = query.where(Certificate.serial.like(f"%-{int(year):04d}-%"))
    return issuer_name(ref), db.session.scalars(query).all()


def _find_issuer(ref):
    return db.session.scalar(
        select(CertificateIssuer).where(getattr(CertificateIssuer, ref.column) == ref.id)
    )


def certificate_for_issuer(actor, serial):
    """A certificate, for its issuer's staff or coordinators. Raises NotAllowed, NotFound."""
    require_user(actor)
    certificate = db.session.scalar(
        select(Certificate)
        .options(joinedload(Certificate.issuer))
        .where(Certificate.serial == serial)
    )
    if certificate is None or certificate.issuer is None:
        raise NotFound(_("Not found."))
    require_issuer(actor, _ref_of(certificate.issuer))
    return certificate


def _ref_of(settings):
    if settings.organisation_id is not None:
        return IssuerRef("organisation", settings.organisation_id)
    return IssuerRef("community", settings.community_id)


def issuer_key(certificate):
    """The register a certificate belongs to (for links back to it)."""
    return _ref_of(certificate.issuer).key if certificate.issuer else ""


def revoke_certificate(actor, serial, reason):
    """Revoke a certificate, with a reason its check page and API then show.

    Raises NotAllowed, NotFound, Invalid (no reason), Conflict (already revoked).
    """
    reason = (reason or "").strip()
    if not reason:
        raise Invalid.from_fields({"reason": _("Say why the certificate is revoked.")})
    with transaction():
        certificate = certificate_for_issuer(actor, serial)
        if certificate.revoked_at is not None:
            raise Conflict(_("This certificate is already revoked."), code="already_revoked")
        certificate.revoked_at = utcnow()
        certificate.revoked_by_id = actor.id
        certificate.revoke_reason = reason[:500]
        db.session.flush()
        audit.record(actor, "certificate.revoke", certificate, serial=certificate.serial)
    return certificate


def issuer_settings(actor, issuer):
    """(name, settings row or None) of an issuer, for its staff or coordinators."""
    ref = IssuerRef.parse(issuer)
    require_issuer(actor, ref)
    return issuer_name(ref), _find_issuer(ref)


def save_issuer_settings(actor, issuer, *, responsible, handler, contact):
    """Set who signs an issuer's certificates and its contact; later certificates print them.
    Raises NotAllowed, NotFound, Invalid."""
    ref = IssuerRef.parse(issuer)
    values = {
        "responsible": (responsible or "").strip()[:100],
        "handler": (handler or "").strip()[:100],
        "contact": (contact or "").strip()[:200],
    }
    if not values["responsible"]:
        raise Invalid.from_fields({"responsible": _("Give the responsible person's name.")})
    with transaction():
        require_issuer(actor, ref)
        settings = _issuer_row(ref)
        for name, value in values.items():
            setattr(settings, name, value)
        db.session.flush()
        audit.record(actor, "certificate_issuer.update", settings)
    return settings

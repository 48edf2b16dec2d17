"""A volunteer's identity for the national volunteer service system: ID type and number
(encrypted, found by keyed hash, shown masked), gender, birth date, a guardian's consent for
people under 18, the national volunteer number, and the volunteer number we issue."""

import logging
import re
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from neighbors.accounts.contacts import normalize_phone
from neighbors.accounts.models import (
    Gender,
    IdType,
    User,
    VolunteerIdentity,
    VolunteerNumberCounter,
)
from neighbors.core import audit, idnumbers, privacy
from neighbors.core.db import next_number, transaction
from neighbors.core.errors import Conflict, Invalid, NotFound
from neighbors.core.permissions import require_community_staff, require_user
from neighbors.core.timezone import local_today
from neighbors.extensions import db

logger = logging.getLogger(__name__)

ADULT_AGE = 18


def age_on(birth_date, day):
    """Whole years of age on a day."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def identity_of(user_id):
    """The person's identity row, or None when they recorded nothing."""
    return db.session.get(VolunteerIdentity, user_id)


def identities(user_ids):
    """{user id: identity} for many people in one query."""
    if not user_ids:
        return {}
    rows = db.session.scalars(
        select(VolunteerIdentity).where(VolunteerIdentity.user_id.in_(set(user_ids)))
    )
    return {row.user_id: row for row in rows}


def volunteer_number(user, identity=None):
    """The number printed for a volunteer: the national one when recorded, else ours; "" before
    either exists (ours is issued with the first certificate or export, see issue_number)."""
    identity = identity if identity is not None else identity_of(user.id)
    if identity is None:
        return ""
    return identity.national_number or identity.volunteer_number or ""


def issue_number(user):
    """The person's identity row with our volunteer number issued (once, for their home
    community at the time; never changed after). Only flushes: call inside a unit of work."""
    identity = identity_of(user.id)
    if identity is None:
        identity = VolunteerIdentity(user_id=user.id)
        db.session.add(identity)
    if identity.volunteer_number is None:
        code = user.home_community.code if user.home_community else "0"
        sequence = next_number(VolunteerNumberCounter, community_code=code)
        identity.volunteer_number = idnumbers.volunteer_number(code, sequence)
        db.session.flush()
    return identity


def _id_number(id_type, raw, today):
    """(number, birth date, gender) of a typed number; the last two only for a resident ID."""
    if id_type == IdType.RESIDENT_ID:
        try:
            parsed = idnumbers.parse_resident_id(raw, today=today)
        except idnumbers.BadNumber:
            message = _(
                "This is not a valid resident ID number: check the 18 characters (the last "
                "may be X)."
            )
            raise Invalid.from_fields({"id_number": message}, code="bad_id_number") from None
        return parsed.number, parsed.birth_date, parsed.gender
    number = re.sub(r"\s", "", raw or "").upper()
    if not re.fullmatch(r"[0-9A-Z()（）-]{5,30}", number):
        message = _("Enter the number as printed on the document (5 to 30 letters or digits).")
        raise Invalid.from_fields({"id_number": message}, code="bad_id_number")
    return number, None, None


def save_identity(
    actor,
    *,
    id_type="",
    id_number="",
    gender="",
    birth_date=None,
    guardian_name="",
    guardian_phone="",
    guardian_consent_on=None,
    national_number="",
):
    """Record one's own identity; every part optional. A blank number keeps the one recorded
    (it is never shown back in full); no ID type removes it. A resident ID gives the birth date
    and gender. People under 18 need a guardian's name, phone and date of consent.

    Raises NotAuthenticated, Invalid, Conflict (the number is recorded for another account).
    """
    require_user(actor)
    today = local_today()
    with transaction():
        identity = identity_of(actor.id) or VolunteerIdentity(user_id=actor.id)
        db.session.add(identity)
        if not id_type:
            _set_number(identity, None, None)
        elif id_type not in set(IdType):
            raise Invalid.from_fields({"id_type": _("Choose a document from the list.")})
        elif id_number.strip():
            number, born, sex = _id_number(IdType(id_type), id_number, today)
            _set_number(identity, IdType(id_type), number)
            birth_date, gender = born or birth_date, sex or gender
        elif identity.id_type != id_type:
            message = _("Enter the number of this document.")
            raise Invalid.from_fields({"id_number": message})
        if identity.id_type == IdType.RESIDENT_ID and id_number.strip() == "":
            birth_date, gender = identity.birth_date, identity.gender  # as the number says
        if birth_date is not None and not (date(1900, 1, 1) <= birth_date <= today):
            raise Invalid.from_fields({"birth_date": _("Enter a birth date in the past.")})
        if gender and gender not in set(Gender):
            raise Invalid.from_fields({"gender": _("Please choose one from the list.")})
        identity.birth_date = birth_date
        identity.gender = Gender(gender) if gender else None
        _set_guardian(identity, guardian_name, guardian_phone, guardian_consent_on, today)
        identity.national_number = _national_number(national_number)
        try:
            db.session.flush()
        except IntegrityError:
            message = _("This ID number is already recorded for another account.")
            raise Conflict.from_fields({"id_number": message}, code="id_number_taken") from None
        audit.record(actor, "identity.update", actor, id_type=str(identity.id_type or ""))
    return identity


def _set_number(identity, id_type, number):
    identity.id_type = id_type
    identity.id_number_encrypted = privacy.encrypt(number)
    identity.id_number_hash = privacy.lookup_hash(number) if number else None
    identity.id_number_masked = idnumbers.mask_id_number(number) if number else None


def _set_guardian(identity, name, phone, consent_on, today):
    minor = identity.birth_date is not None and age_on(identity.birth_date, today) < ADULT_AGE
    name = (name or "").strip()[:100]
    phone = normalize_phone(phone) if phone else None
    if minor and not (name and phone and consent_on):
        message = _(
            "Volunteers under 18 need their guardian's consent: give the guardian's name, "
            "mobile number and the date they agreed."
        )
        raise Invalid.from_fields({"guardian_name": message}, code="guardian_consent_needed")
    if consent_on is not None and consent_on > today:
        raise Invalid.from_fields({"guardian_consent_on": _("Enter a date in the past.")})
    identity.guardian_name = name or None
    identity.guardian_phone_encrypted = privacy.encrypt(phone)
    identity.guardian_consent_on = consent_on


def _national_number(raw):
    number = re.sub(r"\s", "", raw or "").upper()  # as the counter looks it up
    if number and not re.fullmatch(r"[0-9A-Za-z-]{4,40}", number):
        message = _("Enter the national volunteer number as the national system shows it.")
        raise Invalid.from_fields({"national_number": message})
    return number or None


def find_by_id_number(id_number):
    """The user who recorded this ID number (any document type), or None."""
    number = re.sub(r"\s", "", id_number or "").upper()
    if not number:
        return None
    return db.session.scalar(
        select(User)
        .join(VolunteerIdentity, VolunteerIdentity.user_id == User.id)
        .where(VolunteerIdentity.id_number_hash.in_(privacy.lookup_hashes(number)))
    )


def find_by_volunteer_number(number):
    """The user whose volunteer number (ours or the national one) this is, or None."""
    number = re.sub(r"\s", "", number or "").upper()
    if not number:
        return None
    return db.session.scalar(
        select(User)
        .join(VolunteerIdentity, VolunteerIdentity.user_id == User.id)
        .where(
            (VolunteerIdentity.volunteer_number == number)
            | (VolunteerIdentity.national_number == number)
        )
    )


def identity_for_staff(actor, user_id):
    """(user, identity or None) for staff of the person's home community: masked values only.
    Raises NotAuthenticated, NotAllowed, NotFound."""
    user = db.session.get(User, user_id)
    if user is None:
        require_community_staff(actor, None)
        raise NotFound(_("Not found."))
    require_community_staff(actor, user.home_community_id)
    return user, identity_of(user_id)


def reveal_id_number(actor, user_id):
    """A person's whole ID number, for staff of their home community; audit-logged (the entry
    names who and whose, never the number). Raises NotAllowed, NotFound."""
    with transaction():
        user = db.session.get(User, user_id)
        if user is None:
            raise NotFound(_("Not found."))
        require_community_staff(actor, user.home_community_id)
        identity = identity_of(user_id)
        if identity is None or identity.id_number_encrypted is None:
            raise NotFound(_("No ID number is recorded."), code="no_id_number")
        audit.record(actor, "identity.reveal", user)
        return privacy.readable(identity.id_number_encrypted)


def guardian_phone(identity):
    """The guardian's mobile number, for the volunteer's own page."""
    return privacy.readable(identity.guardian_phone_encrypted) if identity else None

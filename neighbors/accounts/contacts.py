"""Logins and contacts: e-mail addresses and mobile numbers normalised, found, kept unique."""

import logging
import re
import unicodedata

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from neighbors.accounts.models import User
from neighbors.core import privacy
from neighbors.core.errors import Conflict, Invalid
from neighbors.extensions import db

logger = logging.getLogger(__name__)

PHONE_RE = re.compile(r"^1[3-9][0-9]{9}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
KEEP = object()  # _set_contact: leave the stored phone number as it is


def normalize_phone(raw):
    """A mainland mobile number as 11 digits, or None for blank. Raises Invalid."""
    # NFKC: full-width digits typed on a Chinese keyboard are the same number.
    digits = re.sub(r"[\s\-()]", "", unicodedata.normalize("NFKC", raw or ""))
    if not digits:
        return None
    digits = re.sub(r"^(\+86|0086)", "", digits)
    if not PHONE_RE.match(digits):
        message = _("Enter an 11-digit mobile number, such as 13812345678.")
        raise Invalid.from_fields({"phone": message})
    return digits


def normalize_email(raw):
    """The e-mail address lower-cased, or None for blank. Raises Invalid."""
    email = (raw or "").strip().lower()
    if not email:
        return None
    if len(email) > 254 or not EMAIL_RE.match(email):
        message = _("Enter a valid e-mail address.")
        raise Invalid.from_fields({"email": message})
    return email


def find_by_login(login):
    """The user with this e-mail address or mobile number, or None."""
    return _find_by_login(login)


def _find_by_login(login):
    login = (login or "").strip()
    if "@" in login:
        return db.session.scalar(select(User).where(User.email == login.lower()))
    try:
        phone = normalize_phone(login)
    except Invalid:
        return None
    if phone is None:
        return None
    # Under every configured key, so an account not yet moved to a new key still logs in; a
    # number counts as a login only once verified (accounts.phones).
    return db.session.scalar(
        select(User).where(
            User.phone_hash.in_(privacy.lookup_hashes(phone)), User.phone_verified_at.is_not(None)
        )
    )


def phone_of(user):
    """The user's phone number in full, for display (privacy.UNREADABLE when no configured key
    can decrypt it). Callers show it masked unless the viewer needs it."""
    return privacy.readable(user.phone_encrypted)


def _set_contact(user, email, phone):
    """Set the login fields (phone=KEEP keeps the stored number, unread: it may be under a key
    being rotated out). Raises Invalid when neither is given, Conflict when one is taken."""
    if phone is KEEP:
        phone = None
        keep = user.phone_hash is not None
    else:
        keep = False
    if not email and not phone and not keep:
        message = _("Give an e-mail address or a mobile number, or both.")
        raise Invalid.from_fields({"email": message, "phone": message})
    taken = {}
    if email and db.session.scalar(select(User.id).where(User.email == email, User.id != user.id)):
        taken["email"] = _("This e-mail address is already registered.")
    if phone and db.session.scalar(
        select(User.id).where(User.phone_hash.in_(privacy.lookup_hashes(phone)), User.id != user.id)
    ):
        taken["phone"] = _("This mobile number is already registered.")
    if taken:
        raise Conflict.from_fields(taken, code="already_registered")
    user.email = email
    if not keep:
        new_hash = privacy.lookup_hash(phone) if phone else None
        if new_hash is None or user.phone_hash not in privacy.lookup_hashes(phone):
            user.phone_verified_at = None  # a new number is no login until verified
        user.phone_hash = new_hash
        user.phone_encrypted = privacy.encrypt(phone) if phone else None


def _flush_unique():
    """Flush, turning a lost race on a unique login into the same Conflict a check would give."""
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise Conflict(
            _("This e-mail address or mobile number is already registered."),
            code="already_registered",
        ) from exc


def _check_name(name):
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        message = _("Enter a name of 1 to 100 characters.")
        raise Invalid.from_fields({"name": message})
    return name


def login_key(login):
    """The login as the throttle counts it: the same for every way of typing one login, and
    computed alike whether an account has it or not."""
    login = unicodedata.normalize("NFKC", str(login or "")).strip()[:254]
    if "@" in login:
        return login.lower()
    try:
        return normalize_phone(login) or ""
    except Invalid:
        return login.lower()

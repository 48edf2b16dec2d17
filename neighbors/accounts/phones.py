"""Verified phone numbers and signing in by a one-time code sent by SMS.

A code is 6 digits, valid CODE_MINUTES (5), used once, and stored as a keyed hash; a code dies
after CODE_WRONG_TRIES wrong tries. Codes are limited per number (SMS_CODE_PHONE_LIMITS) and
per address (SMS_CODE_IP_LIMIT), and asking for a login code for a number nobody has answers
exactly as for one that exists (nothing is sent). Wrong codes are counted by the login
throttle (core.ratelimit) in a scope of their own, per number.
"""

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

from flask import current_app, render_template
from flask_babel import gettext as _
from sqlalchemy import select, update

from neighbors.accounts.contacts import _flush_unique, _set_contact, normalize_phone
from neighbors.accounts.credentials import _new_token, _require_password
from neighbors.accounts.models import CodePurpose, PhoneCode, User
from neighbors.core import audit, outbox, privacy, ratelimit, sms_outbox
from neighbors.core.db import transaction, utcnow
from neighbors.core.errors import Conflict, Invalid, NotAuthenticated, TooManyAttempts
from neighbors.core.permissions import require_user
from neighbors.extensions import db

logger = logging.getLogger(__name__)

CODE_DIGITS = 6


def _phone(raw):
    phone = normalize_phone(raw)
    if phone is None:
        raise Invalid.from_fields({"phone": _("Enter your mobile number.")})
    return phone


def _code_hash(phone_hash, code):
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"phone-code|{phone_hash}|{code}".encode(), hashlib.sha256).hexdigest()


def _limits(phone, address):
    """Refuse a new code while the number or the address has had too many. Raises
    TooManyAttempts; otherwise counts this one."""
    number = privacy.lookup_hash(phone)
    counters = [
        ratelimit.Failures("SMS_CODE_PHONE_LIMIT", number),
        ratelimit.Failures("SMS_CODE_DAY_LIMIT", number),
        ratelimit.Failures("SMS_CODE_IP_LIMIT", ratelimit.network(address or "")),
    ]
    wait = max(counter.retry_after() for counter in counters)
    if wait:
        raise TooManyAttempts(
            _("Too many codes asked for: try again in %(seconds)s seconds.", seconds=wait),
            retry_after=wait,
        )
    for counter in counters:
        counter.failed()


def request_code(phone, purpose, *, address=None, actor=None):
    """Send a one-time code to a number: for signing in ("login": to the number of an account;
    a number nobody has gets nothing, and the same answer) or for verifying it ("verify": the
    signed-in actor's own number, or a new one they want instead).

    Raises Invalid (number or purpose), TooManyAttempts, NotAuthenticated (verify without a
    user), Conflict (verify a number another account has).
    """
    try:
        purpose = CodePurpose(purpose)
    except ValueError:
        raise Invalid.from_fields({"purpose": _("Choose login or verify.")}) from None
    phone = _phone(phone)
    if purpose == CodePurpose.VERIFY:
        require_user(actor)
    _limits(phone, address)
    hashes = privacy.lookup_hashes(phone)
    if purpose == CodePurpose.LOGIN:
        user = db.session.scalar(
            select(User).where(User.phone_hash.in_(hashes), User.active.is_(True))
        )
    else:
        user = db.session.get(User, actor.id)
        other = db.session.scalar(
            select(User.id).where(User.phone_hash.in_(hashes), User.id != user.id)
        )
        if other:
            raise Conflict.from_fields(
                {"phone": _("This mobile number is already registered.")},
                code="already_registered",
            )
    if user is None:
        logger.info("a login code was asked for a number nobody has")
        return
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    minutes = current_app.config["CODE_MINUTES"]
    with transaction():
        number = privacy.lookup_hash(phone)
        # A new code replaces the ones sent before for the same number and purpose.
        db.session.execute(
            update(PhoneCode)
            .where(
                PhoneCode.phone_hash.in_(hashes),
                PhoneCode.purpose == purpose,
                PhoneCode.used_at.is_(None),
            )
            .values(used_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        db.session.add(
            PhoneCode(
                phone_hash=number,
                purpose=purpose,
                user_id=user.id,
                code_hash=_code_hash(number, code),
                expires_at=utcnow() + timedelta(minutes=minutes),
            )
        )
        with outbox.language_of(user):
            text = render_template("accounts/sms/code.txt", code=code, minutes=minutes)
        locale = user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
        sms_outbox.queue(phone, "accounts/code", {"code": code}, text.strip(), locale)
        audit.record(actor, "phone.code_sent", user, purpose=str(purpose))


def _use_code(phone, code, purpose, address, user_id=None):
    """The user whose code this is, the code now used; None for a wrong, used or expired code
    (counted by the throttle). Raises TooManyAttempts while the number is throttled."""
    key = f"code:{privacy.lookup_hash(phone)}"
    ratelimit.check_login(key, address or "", scope="code")
    code = str(code or "").strip()
    now = utcnow()
    user = None
    with transaction():
        query = (
            select(PhoneCode)
            .where(
                PhoneCode.phone_hash.in_(privacy.lookup_hashes(phone)),
                PhoneCode.purpose == purpose,
                PhoneCode.used_at.is_(None),
                PhoneCode.expires_at > now,
                PhoneCode.wrong_tries < current_app.config["CODE_WRONG_TRIES"],
            )
            .order_by(PhoneCode.id.desc())
            .limit(1)
        )
        if user_id is not None:
            query = query.where(PhoneCode.user_id == user_id)
        row = db.session.scalar(query)
        right = (
            row is not None
            and len(code) == CODE_DIGITS
            and hmac.compare_digest(row.code_hash, _code_hash(row.phone_hash, code))
        )
        if row is not None and not right:
            row.wrong_tries += 1
        if right:
            # Once only, also when two tries with the right code race.
            used = db.session.execute(
                update(PhoneCode)
                .where(PhoneCode.id == row.id, PhoneCode.used_at.is_(None))
                .values(used_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            user = db.session.get(User, row.user_id) if used == 1 else None
    if user is None or not user.active:
        ratelimit.login_failed(key, address or "", scope="code")
        return None
    ratelimit.login_succeeded(key, address or "", scope="code")
    return user


def sign_in_with_code(phone, code, *, address=None):
    """The user a login code was sent to, signed in: the code proves the number is theirs, so
    it counts as verified from now on.

    Raises NotAuthenticated (one message for a wrong, used or expired code and for an unknown
    number), TooManyAttempts.
    """
    wrong = NotAuthenticated(_("Wrong or expired code."), code="invalid_code")
    try:
        phone = _phone(phone)
    except Invalid:
        raise wrong from None
    user = _use_code(phone, code, CodePurpose.LOGIN, address)
    if user is None:
        raise wrong
    with transaction():
        user = db.session.get(User, user.id)
        if user.phone_verified_at is None and user.phone_hash in privacy.lookup_hashes(phone):
            user.phone_verified_at = utcnow()
        audit.record(user, "account.login", user, method="code")
    return user


def verify_phone(actor, phone, code, *, address=None, current_password=None):
    """Make a number the actor's verified mobile number (their own, or a new one in place of
    it) with the code sent to it. A new number (a login) also needs the current password, as on
    the profile: a session left open must not be enough to take the account.

    Raises NotAuthenticated, Invalid (number, a wrong or expired code, a missing or wrong
    current password), Conflict (taken), TooManyAttempts.
    """
    require_user(actor)
    phone = _phone(phone)
    stored = db.session.get(User, actor.id)
    if stored.phone_hash not in privacy.lookup_hashes(phone):
        _require_password(stored, current_password)
    user = _use_code(phone, code, CodePurpose.VERIFY, address, user_id=actor.id)
    if user is None:
        raise Invalid.from_fields({"code": _("Wrong or expired code.")}, code="invalid_code")
    with transaction():
        user = db.session.get(User, actor.id)
        changed = user.phone_hash not in privacy.lookup_hashes(phone)
        if changed:
            _set_contact(user, user.email, phone)
        user.phone_verified_at = utcnow()
        _flush_unique()
        audit.record(actor, "phone.verified", user, changed=changed)
    return user


def issue_code_token(phone, code, *, address=None):
    """A new API token for the user a login code was sent to: (the token, its row).

    Raises NotAuthenticated, TooManyAttempts (as sign_in_with_code).
    """
    return _new_token(sign_in_with_code(phone, code, address=address))

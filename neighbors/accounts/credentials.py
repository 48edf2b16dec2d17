"""Credentials: passwords, logging in (with the login throttle), login sessions, invitations to
set a password, and API tokens."""

import hashlib
import logging
import secrets
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import joinedload

from neighbors.accounts.contacts import _find_by_login, login_key
from neighbors.accounts.models import ApiToken, LoginSession, User
from neighbors.core import audit, outbox, ratelimit
from neighbors.core.db import UTCDateTime, transaction, utcnow
from neighbors.core.errors import Invalid, NotAuthenticated, NotFound
from neighbors.core.links import absolute_url
from neighbors.core.permissions import require_user
from neighbors.extensions import db

logger = logging.getLogger(__name__)

PASSWORD_MIN, PASSWORD_MAX = 8, 128


def _hasher():
    config = current_app.config
    return PasswordHasher(
        time_cost=config["PASSWORD_TIME_COST"],
        memory_cost=config["PASSWORD_MEMORY_COST"],
        parallelism=config["PASSWORD_PARALLELISM"],
    )


def hash_password(password):
    """An argon2id hash of the password. Raises Invalid when it is too short or too long."""
    if not PASSWORD_MIN <= len(password or "") <= PASSWORD_MAX:
        raise Invalid(
            _("A password has %(min)s to %(max)s characters.", min=PASSWORD_MIN, max=PASSWORD_MAX),
            fields={
                "password": _(
                    "Use %(min)s to %(max)s characters.", min=PASSWORD_MIN, max=PASSWORD_MAX
                )
            },
        )
    return _hasher().hash(password)


def _password_matches(user, password):
    """Verify the password; returns (matches, a new hash when the parameters were raised).

    Takes as long for an unknown login as for a known one, so timing reveals nobody.
    """
    if user is None or not user.password_hash:
        _hasher().hash(password or "")
        return False, None
    try:
        _hasher().verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False, None
    if _hasher().check_needs_rehash(user.password_hash):
        return True, _hasher().hash(password)
    return True, None


def authenticate(login, password, *, address=None):
    """The active user with this login (e-mail or mobile) and password, tried from `address`
    (the client's IP address; None from the command line).

    Raises NotAuthenticated with one message for every kind of failure, so it reveals nothing;
    TooManyAttempts (the same for a login nobody has) while this address is locked out of this
    login after LOCKOUT_THRESHOLD failures, or while the login is slowed down after failures
    from anywhere (see neighbors.core.ratelimit).
    """
    key, address = login_key(login), address or ""
    ratelimit.check_login(key, address)
    user = _find_by_login(login)
    # Hashing is slow on purpose: it happens before the write transaction, not inside it.
    ok, new_hash = _password_matches(user, password)
    ok = ok and user.active
    locked = None if ok else ratelimit.login_failed(key, address)
    with transaction():
        if ok and new_hash:
            db.session.get(User, user.id).password_hash = new_hash
        # The failure is recorded too, so the transaction commits before the error is raised.
        audit.record(user if ok else None, "account.login" if ok else "account.login_failed", user)
        if locked and user is not None:
            minutes = current_app.config["LOCKOUT_MINUTES"]
            audit.record(None, "account.locked", user, minutes=minutes, by="address")
    if ok:
        ratelimit.login_succeeded(key, address)
        return user
    if locked:
        raise locked
    raise NotAuthenticated(_("Wrong login or password."), code="invalid_credentials")


def start_session(user):
    """Open a login session for the user (after authenticating); user.get_id() then names it."""
    raw = secrets.token_urlsafe(32)
    with transaction():
        db.session.add(LoginSession(user_id=user.id, token_hash=_token_hash(raw)))
    user.session_id = f"{user.id}:{raw}"
    return user


def user_for_session(session_id):
    """The active user of an open login session, or None (logged out, ended by a password
    change, older than SESSION_DAYS, or never issued)."""
    user_id, _sep, raw = (session_id or "").partition(":")
    if not user_id.isdigit() or not raw:
        return None
    opened_after = utcnow() - timedelta(days=current_app.config["SESSION_DAYS"])
    params = {"token_hash": _token_hash(raw), "user_id": int(user_id), "after": opened_after}
    user = db.session.scalars(_session_user(), params).unique().first()
    if user is not None:
        user.session_id = session_id
    return user


@cache  # every logged-in request asks it: built once, it costs a third of one built each time
def _session_user():
    # The roles come in the same round trip: the menu and every permission check read them.
    return (
        select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .options(joinedload(User.roles))
        .where(
            LoginSession.token_hash == bindparam("token_hash"),
            LoginSession.user_id == bindparam("user_id"),
            LoginSession.ended_at.is_(None),
            LoginSession.created_at > bindparam("after", type_=UTCDateTime()),
            User.active.is_(True),
        )
    )


def end_session(session_id):
    """Log out: the session ends on the server, whoever still holds its cookie."""
    _user_id, _sep, raw = (session_id or "").partition(":")
    with transaction():
        db.session.execute(
            update(LoginSession)
            .where(LoginSession.token_hash == _token_hash(raw), LoginSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )


def prune_sessions(now):
    """Delete sessions that ended or expired; returns how many."""
    opened_before = now - timedelta(days=current_app.config["SESSION_DAYS"])
    with transaction():
        return db.session.execute(
            delete(LoginSession).where(
                (LoginSession.ended_at.is_not(None)) | (LoginSession.created_at < opened_before)
            )
        ).rowcount


def _require_password(user, password):
    """Raises Invalid (on the current_password field) unless `password` is the user's own;
    TooManyAttempts after LOCKOUT_THRESHOLD wrong ones, so that a session left open is no way
    to guess the password either."""
    if not password:
        message = _("Enter your current password to change your e-mail address or mobile number.")
        raise Invalid.from_fields({"current_password": message})
    key = str(user.id)  # in a scope of its own: guesses here slow no login down
    ratelimit.check_login(key, "", scope="reauth")
    if not _password_matches(user, password)[0]:
        locked = ratelimit.login_failed(key, "", scope="reauth")
        if locked:
            raise locked
        message = _("The current password is wrong.")
        raise Invalid.from_fields({"current_password": message})
    ratelimit.login_succeeded(key, "", scope="reauth")


def change_password(actor, current_password, new_password):
    """Change one's password; every other session of the user ends.

    Raises NotAuthenticated, Invalid (wrong current password, weak new one).
    """
    require_user(actor)
    _require_password(db.session.get(User, actor.id), current_password)
    password_hash = hash_password(new_password)
    with transaction():
        user = db.session.get(User, actor.id)
        user.password_hash = password_hash
        db.session.execute(  # every session ends; the page that changed it starts a new one
            update(LoginSession)
            .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )
        # API tokens are sessions too: they end with the old password.
        db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
        audit.record(actor, "account.change_password", user)
    return user


def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="invitation")


def _password_state(user):
    # Part of the token, so a token stops working once it has been used to set a password.
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def invitation_token(user):
    return _serializer().dumps({"u": user.id, "p": _password_state(user)})


def user_for_invitation(token):
    """The invited user. Raises NotFound for an unknown, used or expired invitation."""
    max_age = current_app.config["INVITATION_TTL_HOURS"] * 3600
    try:
        data = _serializer().loads(token, max_age=max_age)
    except BadSignature:
        data = None
    user = db.session.get(User, data["u"]) if isinstance(data, dict) else None
    if user is None or data.get("p") != _password_state(user):
        raise NotFound(_("This invitation link is invalid, used or expired."))
    return user


def accept_invitation(token, password):
    """Set the first password of an invited user. Raises NotFound, Invalid."""
    password_hash = hash_password(password)
    with transaction():
        user = user_for_invitation(token)
        user.password_hash = password_hash
        audit.record(user, "account.accept_invitation", user)
    return user


def _queue_invitation(user):
    """Queue the invitation e-mail and return its link."""
    link = absolute_url("accounts.accept_invitation", token=invitation_token(user))
    outbox.queue(
        user.email,
        _("Your Neighbors account"),
        _(
            "Hello %(name)s,\n\nan account on Neighbors has been made for you. "
            "Set your password here within %(days)s days:\n\n%(link)s\n",
            name=user.name,
            link=link,
            days=current_app.config["INVITATION_TTL_HOURS"] // 24,
        ),
    )
    return link


def _token_hash(raw):
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(login, password, *, address=None):
    """A new bearer token for these credentials, tried from `address`: (the token, its row).

    Raises NotAuthenticated, TooManyAttempts (as authenticate).
    """
    return _new_token(authenticate(login, password, address=address))


def _new_token(user):
    raw = secrets.token_urlsafe(32)
    ttl = timedelta(hours=current_app.config["API_TOKEN_TTL_HOURS"])
    with transaction():
        token = ApiToken(user_id=user.id, token_hash=_token_hash(raw), expires_at=utcnow() + ttl)
        db.session.add(token)
        audit.record(user, "api.token_issued", user)
    return raw, token


def user_for_token(raw):
    """The active user holding this unexpired token, or None."""
    return db.session.scalar(_token_user(), {"token_hash": _token_hash(raw), "now": utcnow()})


@cache  # every API call asks it: a statement built once costs a third of one built each time
def _token_user():
    return (
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == bindparam("token_hash"),
            ApiToken.expires_at > bindparam("now", type_=UTCDateTime()),
            User.active.is_(True),
        )
    )


def revoke_token(raw):
    """Delete this token; it answers 401 from then on."""
    with transaction():
        db.session.execute(delete(ApiToken).where(ApiToken.token_hash == _token_hash(raw)))

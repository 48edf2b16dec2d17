"""Accounts: registration, login, profile, passwords, roles, Party report-in, tokens, imports."""

import hashlib
import logging
import re
import secrets
import unicodedata
from datetime import date, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from neighbors.accounts.models import (
    ApiToken,
    LoginSession,
    PartyMember,
    ReportStatus,
    RoleGrant,
    User,
)
from neighbors.areas import services as areas
from neighbors.core import audit, outbox, privacy, ratelimit
from neighbors.core.db import transaction, utcnow
from neighbors.core.errors import (
    Conflict,
    Invalid,
    NotAllowed,
    NotAuthenticated,
    NotFound,
)
from neighbors.core.links import absolute_url
from neighbors.core.permissions import (
    Role,
    managed_community_ids,
    require_community_staff,
    require_role,
    require_user,
)
from neighbors.core.tabular import ImportFailed, read_table
from neighbors.core.timezone import local_today
from neighbors.extensions import db

logger = logging.getLogger(__name__)

PASSWORD_MIN, PASSWORD_MAX = 8, 128
PARTY_FOUNDED = date(1921, 7, 1)
PHONE_RE = re.compile(r"^1[3-9][0-9]{9}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
IMPORT_COLUMNS = ("name", "email", "phone", "password", "role", "community")


# -- passwords ---------------------------------------------------------------------------------


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


# -- normalising logins ------------------------------------------------------------------------


def normalize_phone(raw):
    """A mainland mobile number as 11 digits, or None for blank. Raises Invalid."""
    # NFKC: full-width digits typed on a Chinese keyboard are the same number.
    digits = re.sub(r"[\s\-()]", "", unicodedata.normalize("NFKC", raw or ""))
    if not digits:
        return None
    digits = re.sub(r"^(\+86|0086)", "", digits)
    if not PHONE_RE.match(digits):
        message = _("Enter an 11-digit mobile number, such as 13812345678.")
        raise Invalid(message, fields={"phone": message})
    return digits


def normalize_email(raw):
    """The e-mail address lower-cased, or None for blank. Raises Invalid."""
    email = (raw or "").strip().lower()
    if not email:
        return None
    if len(email) > 254 or not EMAIL_RE.match(email):
        message = _("Enter a valid e-mail address.")
        raise Invalid(message, fields={"email": message})
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
    # Under every configured key, so an account not yet moved to a new key still logs in.
    return db.session.scalar(select(User).where(User.phone_hash.in_(privacy.lookup_hashes(phone))))


def phone_of(user):
    """The user's phone number in full, for display (privacy.UNREADABLE when no configured key
    can decrypt it). Callers show it masked unless the viewer needs it."""
    return privacy.readable(user.phone_encrypted)


KEEP = object()  # _set_contact: leave the stored phone number as it is


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
        raise Invalid(message, fields={"email": message, "phone": message})
    taken = {}
    if email and db.session.scalar(select(User.id).where(User.email == email, User.id != user.id)):
        taken["email"] = _("This e-mail address is already registered.")
    if phone and db.session.scalar(
        select(User.id).where(User.phone_hash.in_(privacy.lookup_hashes(phone)), User.id != user.id)
    ):
        taken["phone"] = _("This mobile number is already registered.")
    if taken:
        raise Conflict(next(iter(taken.values())), code="already_registered", fields=taken)
    user.email = email
    if not keep:
        user.phone_hash = privacy.lookup_hash(phone) if phone else None
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
        raise Invalid(message, fields={"name": message})
    return name


# -- registration, login, profile --------------------------------------------------------------


def register(*, name, email, phone, password, community_code, consent, locale=None):
    """Create a volunteer account and record consent to the privacy notice.

    Raises Invalid (bad fields, no consent), Conflict (e-mail or phone already registered),
    NotFound (unknown community).
    """
    if not consent:
        message = _("You must agree to the privacy notice to register.")
        raise Invalid(message, fields={"consent": message})
    name, email, phone = _check_name(name), normalize_email(email), normalize_phone(phone)
    password_hash = hash_password(password)
    with transaction():
        user = User(name=name, locale=locale, password_hash=password_hash)
        _set_contact(user, email, phone)
        user.home_community = areas.community_by_code(community_code)
        user.privacy_consent_version = current_app.config["PRIVACY_NOTICE_VERSION"]
        user.privacy_consent_at = utcnow()
        user.roles.append(RoleGrant(role=Role.VOLUNTEER))
        db.session.add(user)
        _flush_unique()
        audit.record(user, "account.register", user)
    logger.info("user %s registered", user.id)
    return user


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


# -- login sessions ----------------------------------------------------------------------------


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
    user = db.session.scalar(
        select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            LoginSession.token_hash == _token_hash(raw),
            LoginSession.user_id == int(user_id),
            LoginSession.ended_at.is_(None),
            LoginSession.created_at > opened_after,
            User.active.is_(True),
        )
    )
    if user is not None:
        user.session_id = session_id
    return user


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


def update_profile(
    actor, *, name, email, phone, community_code, grid_code, locale, current_password=None
):
    """Change one's own profile; a blank phone keeps the current number. Changing the e-mail
    address or the phone number (the logins, where reset links and codes go) needs the current
    password: a session left open on a shared computer must not be enough to take the account.

    Raises NotAuthenticated, Invalid (also a missing or wrong current password), Conflict,
    NotFound (unknown community or grid).
    """
    require_user(actor)
    new_email, new_phone = normalize_email(email), normalize_phone(phone)
    stored = db.session.get(User, actor.id)
    logins_change = new_email != stored.email or (
        new_phone is not None and stored.phone_hash not in privacy.lookup_hashes(new_phone)
    )
    if logins_change:
        _require_password(stored, current_password)
    with transaction():
        user = db.session.get(User, actor.id)
        user.name = _check_name(name)
        _set_contact(user, new_email, new_phone or KEEP)
        moved = False
        if community_code:
            community = areas.community_by_code(community_code)
            moved = community.id != user.home_community_id
            user.home_community = community
        try:
            user.grid = _grid_in(user.home_community, grid_code)
        except Invalid:
            if not moved:
                raise
            user.grid = None  # the old community's grid, still selected in the form
        if locale is not None:
            user.locale = locale or None
        _flush_unique()
        audit.record(actor, "account.update_profile", user)
    return user


def _require_password(user, password):
    """Raises Invalid (on the current_password field) unless `password` is the user's own;
    TooManyAttempts after LOCKOUT_THRESHOLD wrong ones, so that a session left open is no way
    to guess the password either."""
    if not password:
        message = _("Enter your current password to change your e-mail address or mobile number.")
        raise Invalid(message, fields={"current_password": message})
    key = f"signed-in:{user.id}"  # never a login's key: guesses here slow no login down
    ratelimit.check_login(key, "")
    if not _password_matches(user, password)[0]:
        locked = ratelimit.login_failed(key, "")
        if locked:
            raise locked
        message = _("The current password is wrong.")
        raise Invalid(message, fields={"current_password": message})
    ratelimit.login_succeeded(key, "")


def _grid_in(community, grid_code):
    if not grid_code:
        return None
    for grid in areas.grids_of(community.id) if community else ():
        if grid.code == grid_code:
            return grid
    message = _("Choose a grid of your home community.")
    raise Invalid(message, fields={"grid": message})


def set_locale(actor, locale):
    """Remember a signed-in user's language."""
    if locale not in current_app.config["LANGUAGES"]:
        raise Invalid(_("Unknown language."), fields={"lang": _("Unknown language.")})
    with transaction():
        db.session.get(User, actor.id).locale = locale


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


# -- invitations -------------------------------------------------------------------------------


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


# -- creating users from the command line and spreadsheets -----------------------------------


def _role(value):
    try:
        return Role(value)
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        message = _("Unknown role %(role)s; use one of %(roles)s.", role=value, roles=roles)
        raise Invalid(message, fields={"role": message}) from None


def _new_user(*, name, email, phone, password_hash, role, community_code):
    """A user with one role (staff: for the community given; others: home community).

    The password is hashed by the caller, before the write transaction begins.
    """
    role = _role(role)
    user = User(name=_check_name(name), password_hash=password_hash)
    _set_contact(user, normalize_email(email), normalize_phone(phone))
    community = areas.community_by_code(community_code) if community_code else None
    if role == Role.STAFF and community is None:
        message = _("Staff need the community they manage.")
        raise Invalid(message, fields={"community": message})
    if role in (Role.VOLUNTEER, Role.STAFF):
        user.home_community = community
    user.roles.append(RoleGrant(role=role, community=community if role == Role.STAFF else None))
    db.session.add(user)
    _flush_unique()
    return user


def create_user(*, email, password, name, role, community_code=None, phone=None, actor=None):
    """Create a user with a role. Raises Invalid, Conflict, NotFound (community)."""
    password_hash = hash_password(password)
    with transaction():
        user = _new_user(
            name=name,
            email=email,
            phone=phone,
            password_hash=password_hash,
            role=role,
            community_code=community_code,
        )
        audit.record(actor, "account.create", user, role=str(role))
    return user


def has_users():
    """True once anybody has an account."""
    return db.session.scalar(select(User.id).limit(1)) is not None


def user_exists(email):
    return db.session.scalar(select(User.id).where(User.email == email.lower())) is not None


def active_admins():
    """The active administrators who have an e-mail address (for alerts)."""
    return db.session.scalars(
        select(User)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .where(RoleGrant.role == Role.ADMIN, User.active.is_(True), User.email.is_not(None))
    ).all()


def user_by_email(email):
    """The user with this e-mail address. Raises NotFound."""
    user = db.session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if user is None:
        raise NotFound(_("No user has the e-mail address %(email)s.", email=email))
    return user


def grant_role(email, role, community_code=None, actor=None):
    """Give a user a further role (staff: for one more community); one already held is kept.

    Raises NotFound (user or community), Invalid (unknown role, staff without a community).
    """
    role = _role(role)
    if role == Role.STAFF and not community_code:
        message = _("Staff need the community they manage.")
        raise Invalid(message, fields={"community": message})
    with transaction():
        user = user_by_email(email)
        community = areas.community_by_code(community_code) if role == Role.STAFF else None
        community_id = community.id if community else None
        if not any(g.role == role and g.community_id == community_id for g in user.roles):
            user.roles.append(RoleGrant(role=role, community=community))
            audit.record(
                actor, "account.grant_role", user, role=str(role), community=community_code
            )
    return user


def revoke_role(email, role, community_code=None, actor=None):
    """Take a role away (staff: for one community). Raises NotFound (user, community or grant)."""
    role = _role(role)
    with transaction():
        user = user_by_email(email)
        community = areas.community_by_code(community_code) if community_code else None
        community_id = community.id if community else None
        grants = [g for g in user.roles if g.role == role and g.community_id == community_id]
        if not grants:
            raise NotFound(_("The user does not hold that role."))
        user.roles.remove(grants[0])
        audit.record(actor, "account.revoke_role", user, role=str(role), community=community_code)
    return user


def import_users(path, actor=None, progress=None):
    """Create users from a CSV or XLSX sheet (name,email,phone,password,role,community).

    All or nothing. A row without a password gets an e-mailed invitation to set one.
    Raises ImportFailed with every problem and its line; nothing is written then.
    Returns (number created, [(e-mail, invitation link), ...]).
    """
    rows, errors = read_table(path, IMPORT_COLUMNS, required=("name", "role"))
    rows, more_errors = _hash_rows(rows, progress)
    errors += more_errors
    invitations = []
    with transaction():
        for line, row, password_hash in rows:
            try:
                with db.session.begin_nested():
                    user = _new_user(
                        name=row["name"],
                        email=row["email"],
                        phone=row["phone"],
                        password_hash=password_hash,
                        role=row["role"],
                        community_code=row["community"],
                    )
            except (Invalid, Conflict, NotFound) as exc:
                messages = list(exc.fields.values()) or [exc.message]
                errors.append((line, messages[0]))
                continue
            if password_hash is None:
                invitations.append((user.email, _queue_invitation(user)))
        if errors:
            raise ImportFailed(errors)
        audit.record(actor, "account.import", None, created=len(rows), invited=len(invitations))
    return len(rows), invitations


def _hash_rows(rows, progress=None):
    """Rows with their password hashes, computed before any transaction (hashing is slow on
    purpose), and the errors found: repeated logins, passwords too short, nowhere to invite."""
    hashed, errors, seen = [], [], {}
    for number, (line, row) in enumerate(rows, start=1):
        if progress:
            progress(number, len(rows))
        keys = [(key, row[key].lower()) for key in ("email", "phone") if row[key]]
        repeated = [key for key in keys if key in seen]
        if repeated:
            errors.append(
                (
                    line,
                    _(
                        "%(column)s repeats line %(first)s",
                        column=repeated[0][0],
                        first=seen[repeated[0]],
                    ),
                )
            )
            continue
        seen.update(dict.fromkeys(keys, line))
        if not row["password"] and not row["email"]:
            errors.append(
                (line, _("a row without a password needs an e-mail address for the invitation"))
            )
            continue
        try:
            hashed.append((line, row, hash_password(row["password"]) if row["password"] else None))
        except Invalid as exc:
            errors.append((line, exc.message))
    return hashed, errors


# -- Party member report-in --------------------------------------------------------------------


def declare_party_membership(actor, *, branch, work_unit, community_code, grid_code, reported_on):
    """Declare (or re-declare) one's Party details and report-in; staff then confirm it.

    Raises NotAuthenticated, Invalid, NotFound (community).
    """
    require_user(actor)
    today = local_today()
    if not isinstance(reported_on, date) or not PARTY_FOUNDED <= reported_on <= today:
        message = _("Enter the date you reported in; it cannot be in the future.")
        raise Invalid(message, fields={"reported_on": message})
    fields = {}
    for key, value in (("branch", branch), ("work_unit", work_unit)):
        if not 1 <= len((value or "").strip()) <= 200:
            fields[key] = _("Enter 1 to 200 characters.")
    if fields:
        raise Invalid(next(iter(fields.values())), fields=fields)
    with transaction():
        community = areas.community_by_code(community_code)
        # Lock the person's row, so two submissions at once update one report-in in turn.
        db.session.get(User, actor.id, with_for_update=True)
        member = db.session.get(PartyMember, actor.id) or PartyMember(user_id=actor.id)
        member.branch, member.work_unit = branch.strip(), work_unit.strip()
        member.community = community
        member.grid = _grid_in(community, grid_code)
        member.reported_on = reported_on
        member.status = ReportStatus.DECLARED
        member.declared_at = utcnow()
        member.reviewed_by, member.reviewed_at = None, None
        db.session.add(member)
        db.session.flush()
        audit.record(actor, "party.declare", member.user, community=community.code)
    return member


def party_reports(actor, status=None):
    """Party member report-ins of the communities the actor manages, newest first.

    Raises NotAuthenticated, NotAllowed.
    """
    require_role(actor, Role.STAFF)
    query = select(PartyMember).join(PartyMember.user).order_by(PartyMember.declared_at.desc())
    scope = managed_community_ids(actor)
    if scope is not None:
        query = query.where(PartyMember.community_id.in_(scope))
    if status:
        query = query.where(PartyMember.status == ReportStatus(status))
    query = query.options(
        joinedload(PartyMember.user),
        joinedload(PartyMember.community),
        joinedload(PartyMember.grid),
    )
    return db.session.scalars(query.limit(500)).all()


def review_party_report(actor, user_id, *, confirm):
    """Confirm or reject a member's report-in to one of the actor's communities.

    Raises NotAllowed (not staff, or one's own report-in), NotFound (no such report, or
    another community's), Conflict (already reviewed).
    """
    require_role(actor, Role.STAFF)
    with transaction():
        member = db.session.get(PartyMember, user_id, with_for_update=True)
        if member is None:
            raise NotFound(_("Not found."))
        require_community_staff(actor, member.community_id)
        if member.user_id == actor.id:
            raise NotAllowed(_("Another staff member must review your own report-in."))
        if member.status != ReportStatus.DECLARED:
            raise Conflict(_("This report-in has already been reviewed."))
        member.status = ReportStatus.CONFIRMED if confirm else ReportStatus.REJECTED
        member.reviewed_by_id, member.reviewed_at = actor.id, utcnow()
        audit.record(actor, "party.confirm" if confirm else "party.reject", member.user)
    return member


# -- API tokens --------------------------------------------------------------------------------


def _token_hash(raw):
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(login, password, *, address=None):
    """A new bearer token for these credentials, tried from `address`: (the token, its row).

    Raises NotAuthenticated, TooManyAttempts (as authenticate).
    """
    user = authenticate(login, password, address=address)
    raw = secrets.token_urlsafe(32)
    ttl = timedelta(hours=current_app.config["API_TOKEN_TTL_HOURS"])
    with transaction():
        token = ApiToken(user_id=user.id, token_hash=_token_hash(raw), expires_at=utcnow() + ttl)
        db.session.add(token)
        audit.record(user, "api.token_issued", user)
    return raw, token


def user_for_token(raw):
    """The active user holding this unexpired token, or None."""
    return db.session.scalar(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == _token_hash(raw),
            ApiToken.expires_at > utcnow(),
            User.active.is_(True),
        )
    )


def revoke_token(raw):
    """Delete this token; it answers 401 from then on."""
    with transaction():
        db.session.execute(delete(ApiToken).where(ApiToken.token_hash == _token_hash(raw)))

"""Creating users from the command line and spreadsheets, and lookups for the CLI."""

import logging

from flask_babel import gettext as _
from sqlalchemy import select

from neighbors.accounts.contacts import (
    _check_name,
    _flush_unique,
    _set_contact,
    normalize_email,
    normalize_phone,
)
from neighbors.accounts.credentials import _queue_invitation, hash_password
from neighbors.accounts.models import RoleGrant, User
from neighbors.areas import services as areas
from neighbors.core import audit
from neighbors.core.db import transaction, utcnow
from neighbors.core.errors import Conflict, Invalid, NotFound
from neighbors.core.permissions import Role
from neighbors.core.tabular import ImportFailed, read_table
from neighbors.extensions import db

logger = logging.getLogger(__name__)

IMPORT_COLUMNS = ("name", "email", "phone", "password", "role", "community")


def _role(value):
    try:
        return Role(value)
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        message = _("Unknown role %(role)s; use one of %(roles)s.", role=value, roles=roles)
        raise Invalid.from_fields({"role": message}) from None


def _new_user(*, name, email, phone, password_hash, role, community_code):
    """A user with one role (staff: for the community given; others: home community).

    The password is hashed by the caller, before the write transaction begins.
    """
    role = _role(role)
    user = User(name=_check_name(name), password_hash=password_hash)
    _set_contact(user, normalize_email(email), normalize_phone(phone))
    # The operator who typed the number (command line, import) vouches for it.
    user.phone_verified_at = utcnow() if user.phone_hash else None
    community = areas.community_by_code(community_code) if community_code else None
    if role == Role.STAFF and community is None:
        message = _("Staff need the community they manage.")
        raise Invalid.from_fields({"community": message})
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

"""Registration and one's own profile: name, logins, home community and grid, language."""

import logging

from flask import current_app
from flask_babel import gettext as _

from neighbors.accounts.contacts import (
    KEEP,
    _check_name,
    _flush_unique,
    _set_contact,
    normalize_email,
    normalize_phone,
)
from neighbors.accounts.credentials import _require_password, hash_password
from neighbors.accounts.models import Channel, RoleGrant, User
from neighbors.areas import services as areas
from neighbors.core import audit, privacy
from neighbors.core.db import transaction, utcnow
from neighbors.core.errors import Invalid
from neighbors.core.permissions import Role, require_user
from neighbors.extensions import db

logger = logging.getLogger(__name__)


def register(*, name, email, phone, password, community_code, consent, locale=None):
    """Create a volunteer account and record consent to the privacy notice.

    Raises Invalid (bad fields, no consent), Conflict (e-mail or phone already registered),
    NotFound (unknown community).
    """
    if not consent:
        message = _("You must agree to the privacy notice to register.")
        raise Invalid.from_fields({"consent": message})
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


def update_profile(
    actor,
    *,
    name,
    email,
    phone,
    community_code,
    grid_code,
    locale,
    current_password=None,
    channel=None,
):
    """Change one's own profile; a blank phone keeps the current number. Changing the e-mail
    address or the phone number (the logins, where reset links and codes go) needs the current
    password: a session left open on a shared computer must not be enough to take the account.
    channel: how the person is told about what concerns them ("email", "sms", "both"; "" for the
    default: e-mail, or SMS without an e-mail address); None keeps it.

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
            user.grid = grid_in(user.home_community, grid_code)
        except Invalid:
            if not moved:
                raise
            user.grid = None  # the old community's grid, still selected in the form
        if locale is not None:
            user.locale = locale or None
        if channel is not None:
            user.notify_channel = _channel_for(user, channel)
        _flush_unique()
        audit.record(actor, "account.update_profile", user)
    return user


def _channel_for(user, channel):
    """The chosen channel, if the person has the contact it needs. Raises Invalid."""
    if not channel:
        return None
    try:
        chosen = Channel(channel)
    except ValueError:
        raise Invalid.from_fields({"channel": _("Choose e-mail, SMS or both.")}) from None
    if chosen in (Channel.EMAIL, Channel.BOTH) and not user.email:
        message = _("Give an e-mail address to be told by e-mail.")
        raise Invalid.from_fields({"channel": message})
    if chosen in (Channel.SMS, Channel.BOTH) and user.phone_hash is None:
        message = _("Give a mobile number to be told by SMS.")
        raise Invalid.from_fields({"channel": message})
    return chosen


def grid_in(community, grid_code):
    if not grid_code:
        return None
    for grid in areas.grids_of(community.id) if community else ():
        if grid.code == grid_code:
            return grid
    message = _("Choose a grid of your home community.")
    raise Invalid.from_fields({"grid": message})


def set_locale(actor, locale):
    """Remember a signed-in user's language."""
    if locale not in current_app.config["LANGUAGES"]:
        raise Invalid(_("Unknown language."), fields={"lang": _("Unknown language.")})
    with transaction():
        db.session.get(User, actor.id).locale = locale

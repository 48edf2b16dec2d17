"""The API blueprint, bearer-token authentication and JSON input parsing."""

import json
from datetime import datetime

from flask import Blueprint, g, request
from flask_babel import gettext as _

from neighbors.accounts import services as accounts
from neighbors.core.errors import Invalid, NotAuthenticated
from neighbors.core.permissions import role_gate
from neighbors.core.ratelimit import api_calls
from neighbors.core.timezone import parse_iso

bp = api_calls(Blueprint("api", __name__, url_prefix="/api/v1"))


@bp.before_request
def authenticate_bearer():
    """Resolve `Authorization: Bearer <token>`; a header that is present but wrong answers 401."""
    g.api_user, g.api_token = None, None
    header = request.headers.get("Authorization")
    if header is None:
        return
    scheme, _sep, raw = header.partition(" ")
    user = accounts.user_for_token(raw.strip()) if scheme.lower() == "bearer" and raw else None
    if user is None:
        raise NotAuthenticated(_("The token is missing, wrong or expired."), code="invalid_token")
    g.api_user, g.api_token = user, raw.strip()


def current_actor():
    """The user the bearer token belongs to. Raises NotAuthenticated without one."""
    if g.get("api_user") is None:
        raise NotAuthenticated(
            _("Send a bearer token: Authorization: Bearer <token>."), code="unauthorized"
        )
    return g.api_user


def role_required(*roles):
    """The API: answer 401/403 before reading the body unless the token's user holds a role."""
    return role_gate(current_actor, *roles)


def json_body():
    """The request's JSON object. Raises Invalid (422, invalid_json) for anything else."""
    message = _("Send a JSON object with Content-Type: application/json.")
    if not request.is_json:
        raise Invalid(message, code="invalid_json")
    try:
        data = json.loads(request.get_data())
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise Invalid(message, code="invalid_json") from None
    if not isinstance(data, dict):
        raise Invalid(message, code="invalid_json")
    if _any_text(data, lambda text: "\x00" in text):
        raise Invalid(_("The request contains a NUL character."), code="invalid_input")
    # JSON may escape half of a surrogate pair ("\ud800"): no database can store that text.
    if _any_text(data, _not_unicode):
        raise Invalid(
            _("The request contains text that is not valid Unicode."), code="invalid_input"
        )
    return data


def _any_text(value, test):
    """Whether any string in the JSON value, keys included, passes `test`."""
    if isinstance(value, str):
        return test(value)
    if isinstance(value, dict):
        return any(test(k) or _any_text(v, test) for k, v in value.items())
    if isinstance(value, list):
        return any(_any_text(item, test) for item in value)
    return False


def _not_unicode(text):
    """Whether the text holds half of a surrogate pair, which UTF-8 cannot encode."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return True
    return False


def read_fields(data, required=(), optional=(), types=None, max_length=1000):
    """The named fields of a JSON object, checked for presence and type.

    `types` maps a name to str (the default), int, bool or datetime (ISO 8601 with an offset,
    returned aware in UTC). Raises Invalid naming each bad field.
    """
    types = types or {}
    values, problems = {}, {}
    for name in (*required, *optional):
        value, kind = data.get(name), types.get(name, str)
        if value is None:
            if name in required:
                problems[name] = _("This field is required.")
            continue
        problem = _type_problem(value, kind, max_length)
        if problem:
            problems[name] = problem
        else:
            values[name] = parse_iso(value) if kind is datetime else value
    if problems:
        raise Invalid(_("Some fields are missing or invalid."), fields=problems)
    return values


def _type_problem(value, kind, max_length):
    if kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**31
        return None if ok else _("Must be a whole number.")
    if kind is bool:
        return None if isinstance(value, bool) else _("Must be true or false.")
    if not isinstance(value, str):
        return _("Must be a string.")
    if "\x00" in value:
        return _("Must not contain a NUL character.")
    if len(value) > max_length:
        return _("At most %(n)s characters.", n=max_length)
    if kind is datetime:
        try:
            parse_iso(value)
        except ValueError:
            return _("Must be an ISO 8601 time with an offset, such as 2026-05-01T09:00:00+08:00.")
    return None

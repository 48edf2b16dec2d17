"""The API blueprint, bearer-token authentication and JSON input parsing."""

from flask import Blueprint, g, request
from flask_babel import gettext as _

from neighbors.accounts import services as accounts
from neighbors.core.errors import Invalid, NotAuthenticated

bp = Blueprint("api", __name__, url_prefix="/api/v1")


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


def json_body():
    """The request's JSON object. Raises Invalid (422, invalid_json) for anything else."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid(
            _("Send a JSON object with Content-Type: application/json."), code="invalid_json"
        )
    return data


def read_fields(data, required=(), optional=(), max_length=1000):
    """The named string fields of a JSON object. Raises Invalid naming each bad field."""
    values, problems = {}, {}
    for name in (*required, *optional):
        value = data.get(name)
        if value is None:
            if name in required:
                problems[name] = _("This field is required.")
            continue
        if not isinstance(value, str):
            problems[name] = _("Must be a string.")
        elif len(value) > max_length:
            problems[name] = _("At most %(n)s characters.", n=max_length)
        else:
            values[name] = value
    if problems:
        raise Invalid(_("Some fields are missing or invalid."), fields=problems)
    return values

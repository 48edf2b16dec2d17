"""Rate limits on logins: per address and login name, counting failed attempts only."""

from flask import current_app, request
from flask_limiter.util import get_remote_address

from neighbors.extensions import limiter


def _login_name():
    if request.is_json:
        body = request.get_json(silent=True)
        value = body.get("login") if isinstance(body, dict) else None
    else:
        value = request.form.get("login")
    return str(value or "")[:254].strip().lower()


def _failed(response):
    # A login that works redirects (page) or answers 201 (API); only failures count.
    return response.status_code not in (201, 302)


def code_attempts(view):
    """Limit guesses at an event's check-in code: CHECKIN_RATE_LIMIT per address and event."""
    return limiter.limit(
        lambda: current_app.config["CHECKIN_RATE_LIMIT"],
        key_func=lambda: f"{get_remote_address()}|{request.path}",
        methods=["POST"],
    )(view)


def login_limits(view):
    """Limit failed POSTs: LOGIN_RATE_LIMIT per address and login, LOGIN_IP_RATE_LIMIT per
    address (so one address cannot try many logins either)."""
    per_login = limiter.limit(
        lambda: current_app.config["LOGIN_RATE_LIMIT"],
        key_func=lambda: f"{get_remote_address()}|{_login_name()}",
        methods=["POST"],
        deduct_when=_failed,
    )
    per_address = limiter.limit(
        lambda: current_app.config["LOGIN_IP_RATE_LIMIT"], methods=["POST"], deduct_when=_failed
    )
    return per_address(per_login(view))

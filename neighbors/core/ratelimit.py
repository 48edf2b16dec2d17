"""Rate limits: failed logins per address and login name, registrations per address, check-in
codes per address and event, and every API call per token (or address without one).

Counts live in Redis when REDIS_URL is set (shared by every worker and host), else in memory.
NEIGHBORS_RATELIMIT_ENABLED=false turns them all off (load tests).
"""

import hashlib

from flask import current_app, request
from flask_limiter.util import get_remote_address

from neighbors.extensions import limiter


def _login_name():
    if request.is_json:
        body = request.get_json(silent=True)
        value = body.get("login") if isinstance(body, dict) else None
    else:
        value = request.form.get("login")
    # JSON can carry half a surrogate pair ("\ud800"), which Redis cannot encode in a key.
    return str(value or "")[:254].strip().lower().encode(errors="replace").decode()


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


def registrations(view):
    """Limit new accounts: REGISTER_RATE_LIMIT per address, counting every POST."""
    return limiter.limit(lambda: current_app.config["REGISTER_RATE_LIMIT"], methods=["POST"])(view)


def _api_caller():
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer " and header[7:].strip():
        return "token:" + hashlib.sha256(header[7:].strip().encode()).hexdigest()[:32]
    return "address:" + get_remote_address()


def api_calls(blueprint):
    """Limit every API call: API_RATE_LIMIT per bearer token (or per address without one), and
    API_IP_RATE_LIMIT per address, so that made-up tokens buy no further allowance."""
    limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=_api_caller)(blueprint)
    limiter.limit(lambda: current_app.config["API_IP_RATE_LIMIT"])(blueprint)
    return blueprint

"""Rate limits: failed logins per address and login name, registrations per address, check-in
codes per address and event, wrong check-in codes per person and event (counted by the service,
see Failures), and every API call per token (or address without one).

Counts live in Redis when REDIS_URL is set (shared by every worker and host), else in memory.
NEIGHBORS_RATELIMIT_ENABLED=false turns them all off (load tests).
"""

import hashlib
import math
import threading
import time

from flask import current_app, request
from flask_limiter.util import get_remote_address
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

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


class Failures:
    """Failed tries at one thing by one person (a wrong check-in code for one event, say), kept
    where Flask-Limiter keeps its counts: Redis when REDIS_URL is set, so every worker and host
    shares them, else this process's memory. A service counts the failures it sees, which an
    address-based limit cannot: the person is the same from any address.

    `setting` names a limit such as "5 per 10 minutes" in a moving window: after that many
    failures, every try waits until the oldest of them is older than the window.
    """

    def __init__(self, setting, *key):
        self.item = parse(current_app.config[setting])
        self.key = [setting.lower(), *(str(part) for part in key)]

    def retry_after(self):
        """Seconds to wait before the next try, or 0 when it may go ahead."""
        if not _on():
            return 0
        window = _strategy()
        if window.test(self.item, *self.key):
            return 0
        reset_at = window.get_window_stats(self.item, *self.key).reset_time
        return max(math.ceil(reset_at - time.time()), 1)

    def failed(self):
        """Count one failure."""
        if _on():
            _strategy().hit(self.item, *self.key)


_strategies_lock = threading.Lock()


def _on():
    return bool(current_app.config["RATELIMIT_ENABLED"])


def _strategy():
    """The app's moving-window counter on its rate-limit storage, made once per app."""
    app = current_app._get_current_object()
    with _strategies_lock:
        strategy = app.extensions.get("neighbors_failures")
        if strategy is None:
            storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
            strategy = app.extensions["neighbors_failures"] = MovingWindowRateLimiter(storage)
    return strategy


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

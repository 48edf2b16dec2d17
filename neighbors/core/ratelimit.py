"""Rate limits: failed logins per login and address (the login throttle below) and per
address, registrations per address, check-in codes per address and event, wrong check-in
codes per person and event (counted by the service, see Failures), and every API call per
token (or address without one).

Counts live in Redis when REDIS_URL is set (shared by every worker and host), else in memory.
NEIGHBORS_RATELIMIT_ENABLED=false turns them all off (load tests).
"""

import hashlib
import hmac
import ipaddress
import math
import threading
import time

from flask import current_app, request
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from neighbors.core.errors import TooManyAttempts
from neighbors.extensions import limiter


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
        prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or ""
        self.key = [prefix, setting.lower(), *(str(part) for part in key)]

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


def _on():
    return bool(current_app.config["RATELIMIT_ENABLED"])


_storage_lock = threading.Lock()


def _store():
    """The app's counter storage, where Flask-Limiter keeps its counts: Redis when REDIS_URL is
    set (shared by every worker and host), else this process's memory. Made once per app."""
    app = current_app._get_current_object()
    with _storage_lock:
        store = app.extensions.get("neighbors_counters")
        if store is None:
            uri = app.config["RATELIMIT_STORAGE_URI"]
            store = app.extensions["neighbors_counters"] = storage_from_string(uri)
    return store


def _strategy():
    return MovingWindowRateLimiter(_store())


def login_limits(view):
    """Limit failed POSTs: LOGIN_IP_RATE_LIMIT per address, so that one address cannot try many
    logins either. Failures at one login are counted by the login throttle below."""
    return limiter.limit(
        lambda: current_app.config["LOGIN_IP_RATE_LIMIT"], methods=["POST"], deduct_when=_failed
    )(view)


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
    LIMITED_BLUEPRINTS.add(blueprint.name)
    return blueprint


# The blueprints limited as a whole (api_calls).
LIMITED_BLUEPRINTS = set()


def check_only_limited_blueprints(app):
    """Run Flask-Limiter's before-request check only for a limited blueprint's requests.

    That check looks for default, application-wide and blueprint limits (a limited view checks
    its own limits in its decorator): with no default or application limit, a page or /healthz
    has nothing there to find, and looking cost ~15 % of /healthz. Call after limiter.init_app.
    """
    manager = limiter.limit_manager
    if manager.default_limits or manager.application_limits or app.config.get("RATELIMIT_META"):
        return  # every request has limits to check
    hooks = app.before_request_funcs.get(None, [])
    check = limiter._check_request_limit
    if check not in hooks:  # RATELIMIT_ENABLED is false: Flask-Limiter added no hook
        return
    position = hooks.index(check)

    def check_limits_of_limited_blueprints():
        if not LIMITED_BLUEPRINTS.isdisjoint(request.blueprints):
            return check()
        return None

    hooks[position] = check_limits_of_limited_blueprints


# -- the login throttle ------------------------------------------------------------------------
#
# OWASP's Authentication Cheat Sheet: throttle per account and address, slow the account down,
# and never let a stranger lock its owner out. So:
# - LOCKOUT_THRESHOLD failures at one login from one address lock that pair (only) for
#   LOCKOUT_MINUTES: that address may not try that login again, even with the right password;
# - after LOGIN_SLOWDOWN_AFTER failures at one login from anywhere within LOCKOUT_MINUTES, each
#   further failure makes every address wait before the next try at it: 1, 2, 4 … seconds, at
#   most LOGIN_SLOWDOWN_MAX_SECONDS; an address that logged in to it within KNOWN_ADDRESS_DAYS
#   does not wait (OWASP's "device cookie", by address): strangers cannot hold the owner up.
# The counts are kept for the login as typed (canonical form), whether an account has it or not,
# so known and unknown logins answer alike. Keys are keyed hashes: no e-mail address, phone
# number or address in Redis.


def _key(kind, *parts):
    secret = current_app.config["SECRET_KEY"].encode()
    message = "|".join(parts).encode(errors="replace")
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or ""
    digest = hmac.new(secret, message, "sha256").hexdigest()[:40]
    return f"{prefix}neighbors-login:{kind}:{digest}"


def _network(address):
    """The address as counted: an IPv6 client holds a whole /64, so it counts as one."""
    try:
        parsed = ipaddress.ip_address((address or "").split("%")[0])
    except ValueError:
        return str(address or "")[:64]
    if parsed.version == 6:
        if parsed.ipv4_mapped:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


network = _network  # for other counts by address


def _seconds_left(store, key):
    if not store.get(key):
        return 0
    return max(math.ceil(store.get_expiry(key) - time.time()), 1)


def check_login(login, address, scope="login"):
    """Refuse a try at this login from this address while their pair is locked, or while the
    login is slowed down, unless this address has logged in to it before (the owner's own
    devices are not slowed down by strangers' guesses). `login` is canonical (as
    accounts.login_key gives it); `scope` keeps other guessing (the current password of a
    signed-in user) apart from logins. Raises TooManyAttempts."""
    if not _on():
        return
    store, network = _store(), _network(address)
    locked = _seconds_left(store, _key(scope + ":lock", login, network))
    if locked:
        raise _locked(locked)
    wait = _seconds_left(store, _key(scope + ":wait", login))
    if wait and not store.get(_key(scope + ":known", login, network)):
        raise _slowed(wait)


def login_failed(login, address, scope="login"):
    """Count a failed try. Returns TooManyAttempts when it locked the pair, else None."""
    if not _on():
        return None
    config, store = current_app.config, _store()
    window = int(config["LOCKOUT_MINUTES"]) * 60
    everywhere = store.incr(_key(scope + ":failures", login), window)
    over = everywhere - int(config["LOGIN_SLOWDOWN_AFTER"])
    if over >= 0:
        delay = min(2 ** min(over, 20), int(config["LOGIN_SLOWDOWN_MAX_SECONDS"]))
        wait = _key(scope + ":wait", login)
        store.clear(wait)
        store.incr(wait, delay)
    pair = (login, _network(address))
    if store.incr(_key(scope + ":pair", *pair), window) < int(config["LOCKOUT_THRESHOLD"]):
        return None
    store.clear(_key(scope + ":pair", *pair))
    lock = _key(scope + ":lock", *pair)
    store.clear(lock)
    store.incr(lock, window)
    return _locked(window)


def login_succeeded(login, address, scope="login"):
    """A success from this address starts its count at this login afresh, and makes the address
    known to the login for KNOWN_ADDRESS_DAYS: the login's slow-down no longer holds it up."""
    if _on():
        store, network = _store(), _network(address)
        store.clear(_key(scope + ":pair", login, network))
        known = _key(scope + ":known", login, network)
        store.clear(known)
        store.incr(known, int(current_app.config["KNOWN_ADDRESS_DAYS"]) * 86400)


def _locked(seconds):
    return TooManyAttempts(
        _(
            "Too many failed attempts from here: try this login again in %(minutes)s minutes.",
            minutes=-(-seconds // 60),
        ),
        retry_after=seconds,
    )


def _slowed(seconds):
    return TooManyAttempts(
        _(
            "Too many failed attempts at this login: try again in %(seconds)s seconds.",
            seconds=seconds,
        ),
        retry_after=seconds,
    )

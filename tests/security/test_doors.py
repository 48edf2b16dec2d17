"""The other doors: CSRF on every form, sessions that end on the server, security headers, rate
limits with Retry-After (in Redis across processes), and the account lockout."""

import multiprocessing
import os
import re
import uuid

import pytest
from werkzeug.routing import AnyConverter

from neighbors import create_app
from neighbors.extensions import db, limiter
from tests.clients import log_in, post_form
from tests.factories import PASSWORD

REDIS_URL = os.environ.get("NEIGHBORS_TEST_REDIS_URL")


def form_routes(app):
    """(path, endpoint) of every POST that a browser makes (everything outside the API)."""
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint.startswith("api."):
            continue
        values = {}
        for name, converter in rule._converters.items():
            if isinstance(converter, AnyConverter):
                values[name] = sorted(converter.items)[0]
            else:
                values[name] = 1 if "int" in type(converter).__name__.lower() else "x"
        with app.test_request_context():
            from flask import url_for

            yield url_for(rule.endpoint, **values), rule.endpoint


def test_every_form_refuses_a_post_without_its_csrf_token(app, client, make):
    _id, email = make.user(role="admin")
    log_in(client, email)
    routes = list(form_routes(app))
    assert len(routes) > 30
    for path, endpoint in routes:
        response = client.post(path, data={"login": email, "password": PASSWORD})
        assert response.status_code == 400, f"{endpoint} accepted a form without a CSRF token"
        forged = client.post(path, data={"csrf_token": "forged", "login": email})
        assert forged.status_code == 400, f"{endpoint} accepted a forged CSRF token"
    assert client.get("/profile").status_code == 200  # still logged in: nothing happened


def test_the_api_never_reads_the_session_cookie(client, make):
    _id, email = make.user(role="staff")
    log_in(client, email)  # the browser's cookie is there
    assert client.get("/api/v1/me").status_code == 401
    response = client.post("/api/v1/events", json={"title": "x"})
    assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"


def test_the_session_cookie_is_httponly_lax_and_rotated_at_login(client, make):
    _id, email = make.user()
    client.get("/login")
    before = client.get_cookie("session").value
    response = post_form(client, "/login", {"login": email, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    after = client.get_cookie("session").value
    assert after != before
    planted = client.application.test_client()  # a cookie fixed before the login grants nothing
    planted.set_cookie("session", before)
    assert planted.get("/profile").status_code == 302


def test_production_cookies_are_secure_and_hsts_is_sent(database_url, monkeypatch):
    monkeypatch.setattr(limiter, "enabled", limiter.enabled)  # restored after: one limiter
    production = create_app(
        {
            "ENV": "production",
            "SECRET_KEY": "s" * 40,
            "DATA_KEY": "d" * 40,
            "DATABASE_URL": database_url,
            "BASE_URL": "https://neighbors.example.org",
        }
    )
    assert (
        production.config["SESSION_COOKIE_SECURE"] and production.config["REMEMBER_COOKIE_SECURE"]
    )
    response = production.test_client().get("/privacy")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    with production.app_context():
        db.engine.dispose()


def test_logging_out_ends_the_session_for_a_copied_cookie_too(app, client, make):
    _id, email = make.user()
    post_form(client, "/login", {"login": email, "password": PASSWORD, "remember": "y"})
    thief = app.test_client()
    for name in ("session", "remember_token"):
        thief.set_cookie(name, client.get_cookie(name).value)
    assert thief.get("/profile").status_code == 200
    post_form(client, "/logout", {})
    assert client.get("/profile").status_code == 302
    assert thief.get("/profile").status_code == 302  # the stolen copy is dead as well


def test_every_page_carries_the_security_headers_and_no_inline_script(client, make):
    _id, email = make.user(role="admin")
    log_in(client, email)
    for path in ("/", "/events", "/login", "/profile", "/admin/audit", "/nowhere"):
        response = client.get(path)
        policy = response.headers.get("Content-Security-Policy", "")
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
        assert "unsafe-inline" not in policy
        assert response.headers.get("X-Content-Type-Options") == "nosniff", path
        assert response.headers.get("Referrer-Policy") == "same-origin", path
        assert "Strict-Transport-Security" not in response.headers  # not over plain HTTP
        html = response.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert not re.search(r"\son[a-z]+\s*=|\sstyle\s*=", html), path


@pytest.fixture
def limited(database_url, committing_db):
    """Build an app with rate limits on (the suite's app has them off); restores the limiter."""
    made = []
    was = limiter.enabled

    def build(**settings):
        app = create_app(
            {"ENV": "testing", "DATABASE_URL": database_url, "RATELIMIT_ENABLED": True, **settings}
        )
        made.append(app)
        return app

    yield build
    limiter.enabled = was
    for app in made:
        with app.app_context():
            db.engine.dispose()


def client_at(app, address):
    """A test client whose requests come from this IP address (REMOTE_ADDR, as without proxy)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _answer(response):
    """What a caller can tell from an answer to a login: status, error text, Retry-After."""
    if response.is_json:
        text = response.json.get("error", {}).get("message")
    else:
        page = response.get_data(as_text=True)
        found = re.search(r'class="flash error"[^>]*>\s*(?:<p>)?\s*([^<]+)', page)
        text = found.group(1).strip() if found else None
    return response.status_code, text, response.headers.get("Retry-After")


def test_known_and_unknown_logins_answer_alike_after_repeated_failures(
    limited, live_make, time_machine
):
    time_machine.move_to("2026-12-01 08:00:00+00:00", tick=False)  # Retry-After to the second
    app = limited(LOCKOUT_THRESHOLD=4, LOGIN_SLOWDOWN_AFTER=2)
    _id, email = live_make.user()
    _id, phone_owner = live_make.user(phone="13912345678")
    for known, unknown in ((email, "nobody@example.org"), ("139 1234 5678", "13987654321")):
        answers = {}
        for login in (known, unknown):
            web, api = client_at(app, "203.0.113.9"), client_at(app, "203.0.113.9")
            seen = []
            for attempt in range(6):
                # Each attempt waits out any slow-down first, to reach the lock itself.
                wrong = {"login": login, "password": f"guess number {attempt}"}
                seen.append(_answer(post_form(web, "/login", wrong)))
                seen.append(_answer(api.post("/api/v1/tokens", json=wrong)))
                time_machine.shift(30)
            right = {"login": login, "password": PASSWORD}  # refused too, while locked
            seen.append(_answer(post_form(web, "/login", right)))
            seen.append(_answer(api.post("/api/v1/tokens", json=right)))
            answers[login] = seen
        assert answers[known] == answers[unknown]
        statuses = [status for status, _text, _retry in answers[known]]
        assert statuses[-2:] == [429, 429] and 200 in statuses and 401 in statuses
        assert answers[known][-1][2] and 0 < int(answers[known][-1][2]) <= 900


def test_an_attacker_elsewhere_cannot_lock_the_owner_out(limited, live_make, time_machine):
    time_machine.move_to("2026-12-01 08:00:00+00:00", tick=False)
    app = limited()  # the production settings: 10 failures lock a pair, a slow-down after 5
    _id, email = live_make.user()
    attacker = client_at(app, "203.0.113.9")
    owner_web, owner_api = client_at(app, "198.51.100.7"), client_at(app, "2001:db8::7")

    def hammer(times):
        statuses = []
        for attempt in range(times):
            wrong = {"login": email, "password": f"guess number {attempt}"}
            response = attacker.post("/api/v1/tokens", json=wrong)
            statuses.append(response.status_code)
            wait = int(response.headers["Retry-After"]) if response.status_code == 429 else 1
            time_machine.shift(wait if wait <= 61 else 1)  # waits out slow-downs, not locks
        return statuses

    def owner_gets_in(send, success):
        waited = 0
        response = send()
        while response.status_code == 429:
            seconds = int(response.headers["Retry-After"])
            # At most the slow-down, or the minute of the per-address limit that Flask-Limiter
            # writes into Retry-After: a short wait, never the attacker's 15-minute lock.
            assert seconds <= 61, f"locked out for {seconds} s"
            waited += seconds
            hammer(3)  # the attacker keeps at it meanwhile
            time_machine.shift(seconds)
            response = send()
        assert response.status_code == success, response.get_data(as_text=True)
        assert waited <= 120
        return response

    assert 429 in hammer(40)  # the attacker's address is locked out of the login
    right = {"login": email, "password": PASSWORD}
    owner_gets_in(lambda: post_form(owner_web, "/login", right), 302)
    owner_gets_in(lambda: owner_api.post("/api/v1/tokens", json=right), 201)
    # The lock holds for the attacker's address, even with the right password.
    refused = attacker.post("/api/v1/tokens", json=right)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 60


def test_registrations_and_api_calls_are_limited(limited, live_make):
    app = limited(REGISTER_RATE_LIMIT="2 per hour", API_RATE_LIMIT="3 per minute")
    client = app.test_client()
    registering = [post_form(client, "/register", {"name": "x"}).status_code for _ in range(3)]
    assert registering[-1] == 429 and 429 not in registering[:2]
    statuses = [client.get("/api/v1/events").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/events")
    assert response.json["error"]["code"] == "rate_limited" and "Retry-After" in response.headers
    _id, email = live_make.user()
    from neighbors.accounts import services as accounts

    with app.app_context():
        token = accounts.issue_token(email, PASSWORD)[0]
    mine = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert mine.status_code == 200  # a token has its own allowance


def test_limits_can_be_turned_off_for_load_tests(limited):
    app = limited(RATELIMIT_ENABLED=False, API_RATE_LIMIT="1 per minute")
    client = app.test_client()
    assert {client.get("/api/v1/events").status_code for _ in range(5)} == {200}


@pytest.fixture
def redis_keys():
    """A key prefix of this test's own in the test Redis, and a function listing its keys;
    they are deleted after. Other runs may share the Redis database at the same time."""
    import redis

    prefix = f"test-{uuid.uuid4().hex}"
    store = redis.Redis.from_url(REDIS_URL)
    try:
        yield prefix, lambda: list(store.scan_iter(f"*{prefix}*"))
    finally:
        keys = list(store.scan_iter(f"*{prefix}*"))
        if keys:
            store.delete(*keys)
        store.close()


def _calls_in_another_process(database_url, redis_url, prefix, calls):
    app = create_app(
        {
            "ENV": "testing",
            "DATABASE_URL": database_url,
            "RATELIMIT_ENABLED": True,
            "REDIS_URL": redis_url,
            "RATELIMIT_KEY_PREFIX": prefix,
            "API_RATE_LIMIT": "3 per minute",
        }
    )
    client = app.test_client()
    statuses = [client.get("/api/v1/events").status_code for _ in range(calls)]
    with app.app_context():
        db.engine.dispose()
    return statuses


@pytest.mark.skipif(
    not REDIS_URL,
    reason="set NEIGHBORS_TEST_REDIS_URL=redis://127.0.0.1:6379/15 to test limits shared in Redis",
)
def test_limits_in_redis_hold_across_processes(database_url, committing_db, redis_keys):
    prefix, keys = redis_keys
    spawn = multiprocessing.get_context("spawn")
    with spawn.Pool(2) as pool:  # two processes, as two gunicorn workers or two hosts
        first, second = pool.starmap(
            _calls_in_another_process, [(database_url, REDIS_URL, prefix, 2)] * 2
        )
    statuses = first + second
    assert sorted(statuses) == [200, 200, 200, 429], statuses
    assert keys(), "the counts were not kept in Redis"


def _logins_in_another_process(database_url, redis_url, prefix, calls):
    app = create_app(
        {
            "ENV": "testing",
            "DATABASE_URL": database_url,
            "RATELIMIT_ENABLED": True,
            "REDIS_URL": redis_url,
            "RATELIMIT_KEY_PREFIX": prefix,
            "LOCKOUT_THRESHOLD": 3,
        }
    )
    client = client_at(app, "203.0.113.9")
    wrong = {"login": "nobody@example.org", "password": "a guess"}
    statuses = [client.post("/api/v1/tokens", json=wrong).status_code for _ in range(calls)]
    with app.app_context():
        db.engine.dispose()
    return statuses


@pytest.mark.skipif(
    not REDIS_URL,
    reason="set NEIGHBORS_TEST_REDIS_URL=redis://127.0.0.1:6379/15 to test limits shared in Redis",
)
def test_failed_logins_are_counted_across_processes_in_redis(
    database_url, committing_db, redis_keys
):
    prefix, keys = redis_keys
    spawn = multiprocessing.get_context("spawn")
    with spawn.Pool(1) as first, spawn.Pool(1) as second:  # two workers, one after the other
        before = first.apply(_logins_in_another_process, (database_url, REDIS_URL, prefix, 2))
        after = second.apply(_logins_in_another_process, (database_url, REDIS_URL, prefix, 2))
    assert (before, after) == ([401, 401], [429, 429])
    names = b" ".join(key for key in keys() if b"neighbors-login" in key)
    assert names, "the failures were not counted in Redis"
    assert b"nobody" not in names and b"203.0.113" not in names  # only keyed hashes

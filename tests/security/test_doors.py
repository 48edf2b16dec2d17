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
from tests.conftest import PASSWORD, log_in, post_form

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


def test_repeated_failures_lock_the_account_with_429_and_retry_after(limited, live_make):
    app = limited(LOCKOUT_THRESHOLD=3, RATELIMIT_ENABLED=False)
    _id, email = live_make.user()
    client = app.test_client()
    wrong = {"login": email, "password": "not the password"}
    statuses = [post_form(client, "/login", wrong).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    response = post_form(client, "/login", {"login": email, "password": PASSWORD})
    assert response.status_code == 429 and 0 < int(response.headers["Retry-After"]) <= 900
    api = client.post("/api/v1/tokens", json={"login": email, "password": PASSWORD})
    assert api.status_code == 429 and api.json["error"]["code"] == "rate_limited"
    assert "Retry-After" in api.headers


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
def test_limits_in_redis_hold_across_processes(database_url, committing_db):
    import redis

    # Keys of this run only: other runs may share the Redis database at the same time.
    prefix = f"test-{uuid.uuid4().hex}"
    store = redis.Redis.from_url(REDIS_URL)
    spawn = multiprocessing.get_context("spawn")
    try:
        with spawn.Pool(2) as pool:  # two processes, as two gunicorn workers or two hosts
            first, second = pool.starmap(
                _calls_in_another_process, [(database_url, REDIS_URL, prefix, 2)] * 2
            )
        statuses = first + second
        assert sorted(statuses) == [200, 200, 200, 429], statuses
    finally:
        keys = list(store.scan_iter(f"*{prefix}*"))
        if keys:
            store.delete(*keys)
        store.close()
    assert keys, "the counts were not kept in Redis"

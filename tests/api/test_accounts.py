"""API v1 base: tokens, /me, error bodies, and the health check."""

import pytest

from neighbors.accounts import services as accounts
from tests.clients import assert_error, bearer, log_in, token_for
from tests.factories import PASSWORD


def test_token_and_me(client, make):
    user_id, email = make.user(phone="13900001111")
    response = client.post("/api/v1/tokens", json={"login": email, "password": PASSWORD})
    assert response.status_code == 201
    body = response.json
    assert body["user"] == {"id": user_id, "name": body["user"]["name"], "roles": ["volunteer"]}
    assert body["expires_at"].endswith("+00:00")
    me = client.get("/api/v1/me", headers=bearer(body["token"]))
    assert me.status_code == 200
    assert me.json["id"] == user_id
    assert me.json["phone"] == "139****1111"
    assert me.json["home_community"]["code"] == "210102002001"
    assert me.json["total_minutes"] == 0


def test_token_by_phone_and_staff_roles(client, make):
    _id, _email = make.user(role="staff", phone="13900002222")
    token = token_for(client, "13900002222")
    me = client.get("/api/v1/me", headers=bearer(token)).json
    assert me["roles"] == ["staff"]
    assert [c["code"] for c in me["managed_communities"]] == ["210102002001"]


def test_wrong_password_is_401(client, make):
    _id, email = make.user()
    response = client.post("/api/v1/tokens", json={"login": email, "password": "wrong one"})
    assert_error(response, 401, "invalid_credentials")


@pytest.mark.parametrize("body", ['{"login": ', "[1, 2]", '"text"', "null", "\xff\xfe"])
def test_malformed_json_is_422(client, body):
    response = client.post("/api/v1/tokens", data=body, content_type="application/json")
    assert_error(response, 422, "invalid_json")


def test_wrong_content_type_is_422(client):
    response = client.post("/api/v1/tokens", data={"login": "a", "password": "b"})
    assert_error(response, 422, "invalid_json")


@pytest.mark.parametrize(
    "body, bad",
    [
        ({}, {"login", "password"}),
        ({"login": 12, "password": "x"}, {"login"}),
        ({"login": "a@example.org", "password": ["x"]}, {"password"}),
        ({"login": "a" * 5000, "password": "x"}, {"login"}),
    ],
)
def test_missing_or_wrong_fields_are_422_and_named(client, body, bad):
    error = assert_error(client.post("/api/v1/tokens", json=body), 422, "invalid")
    assert set(error["fields"]) == bad


def test_me_needs_a_valid_token(client, make):
    assert_error(client.get("/api/v1/me"), 401, "unauthorized")
    assert_error(client.get("/api/v1/me", headers=bearer("made-up")), 401, "invalid_token")
    assert_error(
        client.get("/api/v1/me", headers={"Authorization": "Basic abc"}), 401, "invalid_token"
    )


def test_a_deleted_token_stops_working(client, make):
    _id, email = make.user()
    token = token_for(client, email)
    other = token_for(client, email)
    assert client.delete("/api/v1/tokens/current", headers=bearer(token)).status_code == 204
    assert_error(client.get("/api/v1/me", headers=bearer(token)), 401, "invalid_token")
    assert client.get("/api/v1/me", headers=bearer(other)).status_code == 200
    assert_error(client.delete("/api/v1/tokens/current"), 401, "unauthorized")


def test_the_api_ignores_the_session_cookie(client, make):
    _id, email = make.user()
    log_in(client, email)
    assert client.get("/profile").status_code == 200
    assert_error(client.get("/api/v1/me"), 401, "unauthorized")


def test_unknown_routes_and_methods_answer_json(client):
    assert_error(client.get("/api/v1/nothing-here"), 404, "not_found")
    assert_error(client.get("/api/v1/tokens"), 405, "method_not_allowed")


def test_healthz_does_a_database_round_trip(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_healthz_reports_a_database_that_does_not_answer(tmp_path):
    from neighbors import create_app

    broken = create_app(
        {"ENV": "testing", "DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/x.db"}
    )
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["status"] == "error"
    with broken.app_context():
        from neighbors.extensions import db

        db.engine.dispose()


def test_failed_token_requests_are_rate_limited_with_retry_after(database_url, committing_db):
    from neighbors import create_app
    from neighbors.extensions import db, limiter

    was = limiter.enabled
    limited = create_app(
        {
            "ENV": "testing",
            "DATABASE_URL": database_url,
            "RATELIMIT_ENABLED": True,
            "LOCKOUT_THRESHOLD": 4,
        }
    )
    try:
        client = limited.test_client()
        email = "limited@example.org"
        with limited.app_context():
            accounts.create_user(email=email, password=PASSWORD, name="x", role="admin")
        wrong = {"login": email, "password": "wrong password"}
        statuses = [client.post("/api/v1/tokens", json=wrong).status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]
        response = client.post("/api/v1/tokens", json=wrong)
        assert_error(response, 429, "rate_limited")
        assert int(response.headers["Retry-After"]) > 0
        # another login from the same address is still heard
        other = {"login": "someone@example.org", "password": "wrong password"}
        assert client.post("/api/v1/tokens", json=other).status_code == 401
    finally:
        limiter.enabled = was
        with limited.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("body", ['{"login": "a\\u0000@b.c", "password": "x"}', "[" * 100000])
def test_nul_characters_and_absurd_nesting_are_422_not_500(client, body):
    response = client.post("/api/v1/tokens", data=body, content_type="application/json")
    assert response.status_code == 422 and response.is_json


def test_changing_the_password_ends_api_tokens(client, make):
    _id, email = make.user()
    token = token_for(client, email)
    log_in(client, email)
    from tests.clients import post_form

    post_form(
        client,
        "/profile/password",
        {
            "current_password": PASSWORD,
            "new_password": "a new password!",
            "confirm": "a new password!",
        },
    )
    assert_error(client.get("/api/v1/me", headers=bearer(token)), 401, "invalid_token")

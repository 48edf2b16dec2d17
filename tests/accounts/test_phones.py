"""Verified phone numbers and signing in by a one-time code sent by SMS, through the services,
the pages and the API."""

import contextlib
import threading
from datetime import timedelta

import pytest
from flask import has_app_context
from limits.storage import MemoryStorage
from sqlalchemy import select

from neighbors.accounts import services as accounts
from neighbors.accounts.models import PhoneCode, User
from neighbors.core.audit import AuditEntry
from neighbors.core.db import utcnow
from neighbors.core.errors import Conflict, Invalid, NotAuthenticated, TooManyAttempts
from neighbors.core.sms_outbox import SmsMessage
from neighbors.extensions import db
from tests.clients import post_form
from tests.factories import COMMUNITY, PASSWORD

PHONE = "13812345678"
EN = {"Accept-Language": "en"}


APP = []  # the app, for reading the outbox from tests that use the client


@pytest.fixture(autouse=True)
def _remember_app(app):
    APP[:] = [app]


def texts():
    context = contextlib.nullcontext() if has_app_context() else APP[0].app_context()
    with context:
        db.session.expire_all()
        rows = db.session.scalars(select(SmsMessage).order_by(SmsMessage.id)).all()
        return [(row.phone, row.template, row.params, row.text) for row in rows]


def last_code():
    return texts()[-1][2]["code"]


def phone_user(make, phone=PHONE, **fields):
    """A volunteer whose number was entered by an operator (verified)."""
    user_id, _ = make.user(email=None, phone=phone, **fields)
    return user_id


def register(phone=PHONE, email=None):
    return accounts.register(
        name="王大爷", email=email, phone=phone, password=PASSWORD,
        community_code=COMMUNITY, consent=True,
    )  # fmt: skip


@pytest.fixture
def limited(app, monkeypatch):
    """Rate limits on, with counts of their own (the suite's app has them off)."""
    monkeypatch.setitem(app.config, "RATELIMIT_ENABLED", True)
    monkeypatch.setitem(app.extensions, "neighbors_counters", MemoryStorage())
    app.extensions.pop("neighbors_counters", None)
    yield
    app.extensions.pop("neighbors_counters", None)


def test_a_login_code_signs_in_once(ctx, make):
    user_id = phone_user(make)
    accounts.request_code("138 1234 5678", "login", address="203.0.113.9")
    [(phone, template, params, text)] = texts()
    code = params["code"]
    assert len(code) == 6 and code.isdigit() and phone == PHONE
    assert code in text and "5" in text  # "valid for 5 minutes"
    assert template == "accounts/code"
    assert accounts.sign_in_with_code(PHONE, code, address="203.0.113.9").id == user_id
    with pytest.raises(NotAuthenticated):  # used once
        accounts.sign_in_with_code(PHONE, code, address="203.0.113.9")


def test_codes_are_stored_hashed_and_never_logged_in_full(ctx, make, caplog):
    phone_user(make)
    accounts.request_code(PHONE, "login", address="203.0.113.9")
    code = last_code()
    row = db.session.scalar(select(PhoneCode))
    assert code not in row.code_hash and PHONE not in row.phone_hash
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "phone.code_sent"))
    assert PHONE not in str(entry.detail) and code not in str(entry.detail)
    assert PHONE not in caplog.text and code not in caplog.text


def test_a_code_expires_after_five_minutes(ctx, make, time_machine):
    phone_user(make)
    time_machine.move_to(utcnow(), tick=False)
    accounts.request_code(PHONE, "login", address="203.0.113.9")
    code = last_code()
    time_machine.shift(timedelta(minutes=5, seconds=1))
    with pytest.raises(NotAuthenticated):
        accounts.sign_in_with_code(PHONE, code)


def test_a_new_code_replaces_the_last_and_wrong_tries_kill_a_code(ctx, make):
    phone_user(make)
    accounts.request_code(PHONE, "login")
    first = last_code()
    accounts.request_code(PHONE, "login")
    second = last_code()
    if first != second:
        with pytest.raises(NotAuthenticated):
            accounts.sign_in_with_code(PHONE, first)
    wrong = "000000" if second != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(NotAuthenticated):
            accounts.sign_in_with_code(PHONE, wrong)
    with pytest.raises(NotAuthenticated):  # five wrong tries: the right code no longer works
        accounts.sign_in_with_code(PHONE, second)


def test_an_unknown_number_gets_the_same_answer_and_nothing_is_sent(ctx, make):
    phone_user(make)
    assert accounts.request_code("13900000000", "login") is None
    assert texts() == []
    with pytest.raises(NotAuthenticated) as unknown:
        accounts.sign_in_with_code("13900000000", "123456")
    with pytest.raises(NotAuthenticated) as wrong:
        accounts.sign_in_with_code(PHONE, "123456")
    assert (unknown.value.message, unknown.value.code) == (wrong.value.message, wrong.value.code)


def test_codes_are_limited_per_number_and_per_address(ctx, make, limited, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_CODE_PHONE_LIMIT", "2 per hour")
    monkeypatch.setitem(app.config, "SMS_CODE_IP_LIMIT", "4 per hour")
    phone_user(make)
    for _ in range(2):
        accounts.request_code(PHONE, "login", address="203.0.113.9")
    with pytest.raises(TooManyAttempts) as refused:  # the number, from another address too
        accounts.request_code(PHONE, "login", address="198.51.100.7")
    assert refused.value.retry_after > 0
    # Unknown numbers count alike (nothing tells them apart), and the address runs out.
    accounts.request_code("13900000001", "login", address="203.0.113.9")
    accounts.request_code("13900000002", "login", address="203.0.113.9")
    with pytest.raises(TooManyAttempts):
        accounts.request_code("13900000003", "login", address="203.0.113.9")
    assert len(texts()) == 2


def test_codes_are_limited_per_day(ctx, make, limited, app, monkeypatch, time_machine):
    monkeypatch.setitem(app.config, "SMS_CODE_PHONE_LIMIT", "1 per minute")
    monkeypatch.setitem(app.config, "SMS_CODE_DAY_LIMIT", "3 per day")
    phone_user(make)
    time_machine.move_to(utcnow(), tick=False)
    for _ in range(3):
        accounts.request_code(PHONE, "login")
        time_machine.shift(timedelta(minutes=2))
    with pytest.raises(TooManyAttempts):
        accounts.request_code(PHONE, "login")


def test_a_registered_number_is_a_login_only_once_verified(ctx, areas_loaded):
    user = register()
    with pytest.raises(NotAuthenticated):
        accounts.authenticate(PHONE, PASSWORD)
    accounts.request_code(PHONE, "verify", actor=user)
    accounts.verify_phone(user, PHONE, last_code())
    assert accounts.authenticate(PHONE, PASSWORD).id == user.id


def test_signing_in_by_code_to_the_registered_number_verifies_it(ctx, areas_loaded):
    user = register()
    accounts.request_code(PHONE, "login")
    assert accounts.sign_in_with_code(PHONE, last_code()).id == user.id
    assert accounts.authenticate(PHONE, PASSWORD).id == user.id


def test_changing_the_number_needs_a_code_to_the_new_one(ctx, make):
    user_id = phone_user(make)
    phone_user(make, phone="13900000009")
    me = db.session.get(User, user_id)
    with pytest.raises(Conflict):  # another account's number
        accounts.request_code("13900000009", "verify", actor=me)
    accounts.request_code("13700000000", "verify", actor=me)
    assert texts()[-1][0] == "13700000000"
    with pytest.raises(Invalid):
        accounts.verify_phone(me, "13700000000", "999999" if last_code() != "999999" else "0")
    assert accounts.phone_of(db.session.get(User, user_id)) == PHONE  # unchanged meanwhile
    code = last_code()
    with pytest.raises(Invalid) as no_password:  # a new login needs the password too
        accounts.verify_phone(me, "13700000000", code)
    assert "current_password" in no_password.value.fields
    accounts.verify_phone(me, "13700000000", code, current_password=PASSWORD)
    assert accounts.phone_of(db.session.get(User, user_id)) == "13700000000"
    assert accounts.authenticate("13700000000", PASSWORD).id == user_id
    with pytest.raises(NotAuthenticated):
        accounts.authenticate(PHONE, PASSWORD)


def test_a_number_typed_on_the_profile_is_no_login_until_verified(ctx, make):
    user_id, email = make.user()
    me = db.session.get(User, user_id)
    accounts.update_profile(
        me, name=me.name, email=email, phone=PHONE, community_code=None, grid_code="",
        locale=None, current_password=PASSWORD,
    )  # fmt: skip
    with pytest.raises(NotAuthenticated):
        accounts.authenticate(PHONE, PASSWORD)


def test_the_right_code_used_twice_at_once_signs_in_once(app, live_make):
    with app.app_context():
        user_id, _ = live_make.user(email=None, phone=PHONE)
    with app.test_request_context():
        accounts.request_code(PHONE, "login")
        code = last_code()
    barrier, results = threading.Barrier(8), []

    def try_code():
        with app.test_request_context():
            barrier.wait()
            try:
                results.append(accounts.sign_in_with_code(PHONE, code).id)
            except NotAuthenticated:
                results.append(None)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=try_code) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(user_id) == 1 and results.count(None) == 7


def test_sign_in_by_code_on_the_page(client, make):
    phone_user(make)
    page = client.get("/login", headers=EN).get_data(as_text=True)
    assert "/login/code" in page
    response = post_form(client, "/login/code", {"phone": PHONE, "send": "1"}, headers=EN)
    assert response.status_code == 200 and "Code from the SMS" in response.text
    assert "sent to 138****5678" in response.text
    wrong = "000000" if last_code() != "000000" else "111111"
    response = post_form(
        client, "/login/code", {"phone": PHONE, "code": wrong, "confirm": "1"}, headers=EN
    )
    assert response.status_code == 200 and "Wrong or expired code." in response.text
    response = post_form(
        client, "/login/code", {"phone": PHONE, "code": last_code(), "confirm": "1"}, headers=EN
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/profile")
    assert client.get("/profile").status_code == 200


def test_registering_with_a_number_asks_for_its_code(client, areas_loaded):
    response = post_form(
        client,
        "/register",
        {"name": "王大爷", "phone": PHONE, "password": PASSWORD, "confirm": PASSWORD,
         "community": COMMUNITY, "consent": "y"},
        headers=EN,
    )  # fmt: skip
    assert response.status_code == 302 and response.headers["Location"].endswith("/profile/phone")
    page = client.get("/profile/phone", headers=EN).text
    assert "not verified yet" in page
    early = client.post("/api/v1/tokens", json={"login": PHONE, "password": PASSWORD})
    assert early.status_code == 401  # not a login yet
    response = post_form(
        client, "/profile/phone", {"phone": "", "code": last_code(), "confirm": "1"}, headers=EN
    )
    assert response.status_code == 302
    assert "138****5678 · verified" in client.get("/profile", headers=EN).text
    login = client.post("/api/v1/tokens", json={"login": PHONE, "password": PASSWORD})
    assert login.status_code == 201


def test_the_api_sends_codes_and_issues_tokens_for_them(client, make):
    user_id = phone_user(make)
    known = client.post("/api/v1/sms-codes", json={"phone": PHONE, "purpose": "login"})
    unknown = client.post("/api/v1/sms-codes", json={"phone": "13900000000"})
    assert (known.status_code, known.json) == (unknown.status_code, unknown.json)
    assert known.status_code == 202 and len(texts()) == 1
    bad = client.post("/api/v1/sms-codes", json={"phone": "12345"})
    assert bad.status_code == 422 and bad.json["error"]["fields"]["phone"]
    wrong = "000000" if last_code() != "000000" else "111111"
    refused = client.post("/api/v1/tokens", json={"phone": PHONE, "code": wrong})
    assert refused.status_code == 401 and refused.json["error"]["code"] == "invalid_code"
    issued = client.post("/api/v1/tokens", json={"phone": PHONE, "code": last_code()})
    assert issued.status_code == 201 and issued.json["user"]["id"] == user_id
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {issued.json['token']}"})
    assert me.json["phone"] == "138****5678" and me.json["phone_verified"] is True
    assert (
        client.post("/api/v1/sms-codes", json={"phone": PHONE, "purpose": "x"}).status_code == 422
    )
    assert (
        client.post("/api/v1/sms-codes", json={"phone": PHONE, "purpose": "verify"}).status_code
        == 401
    )


def test_the_api_verifies_a_new_number(client, make):
    user_id, email = make.user()
    token = client.post("/api/v1/tokens", json={"login": email, "password": PASSWORD}).json["token"]
    auth = {"Authorization": f"Bearer {token}"}
    sent = client.post(
        "/api/v1/sms-codes", json={"phone": PHONE, "purpose": "verify"}, headers=auth
    )
    assert sent.status_code == 202
    body = {"phone": PHONE, "code": last_code(), "current_password": PASSWORD}
    done = client.post("/api/v1/me/phone", json=body, headers=auth)
    assert done.status_code == 200 and done.json["phone_verified"] is True
    login = client.post("/api/v1/tokens", json={"login": PHONE, "password": PASSWORD})
    assert login.status_code == 201 and login.json["user"]["id"] == user_id


def test_too_many_codes_answer_429_on_the_page_and_the_api(client, make, limited, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_CODE_PHONE_LIMIT", "1 per hour")
    phone_user(make)
    assert client.post("/api/v1/sms-codes", json={"phone": PHONE}).status_code == 202
    again = client.post("/api/v1/sms-codes", json={"phone": PHONE})
    assert again.status_code == 429 and int(again.headers["Retry-After"]) > 0
    page = post_form(client, "/login/code", {"phone": PHONE, "send": "1"}, headers=EN)
    assert page.status_code == 429 and "Too many codes" in page.text

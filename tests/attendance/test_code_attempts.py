"""Wrong check-in codes are counted per person and event (issue 12), not only per address: from
however many addresses, after five wrong codes for one event the person waits."""

import os
import uuid
from datetime import timedelta

import pytest

from neighbors import create_app
from neighbors.attendance import services as attendance
from neighbors.core.db import utcnow
from neighbors.core.errors import Invalid, TooManyAttempts
from neighbors.core.ratelimit import Failures
from neighbors.events import services as events
from neighbors.events.models import Event
from neighbors.extensions import db
from tests.clients import bearer, log_in, post_form, token_for
from tests.factories import person

REDIS_URL = os.environ.get("NEIGHBORS_TEST_REDIS_URL")
EN = {"Accept-Language": "en"}


@pytest.fixture
def counting(app, monkeypatch):
    """Failures counted (the suite's app has rate limits off), in a store of this test's own."""
    monkeypatch.setitem(app.config, "RATELIMIT_ENABLED", True)
    monkeypatch.setitem(app.config, "CHECKIN_WRONG_CODE_LIMIT", "5 per 10 minutes")
    app.extensions.pop("neighbors_counters", None)
    yield
    app.extensions.pop("neighbors_counters", None)


def under_way(factory, people):
    """An event that started ten minutes ago, with these people signed up before it began."""
    start = utcnow() + timedelta(minutes=5)
    event_id = factory.event(starts_at=start, ends_at=start + timedelta(hours=2))
    with factory.make.context():
        for user_id in people:
            events.sign_up(person(user_id), event_id)
    return event_id, start


def wrong(code):
    return "000000" if code != "000000" else "111111"


def test_five_wrong_codes_make_the_person_wait(ctx, hours_factory, counting, time_machine):
    a, b = hours_factory.volunteers(2)
    event_id, start = under_way(hours_factory, [a, b])
    other_event, _start = under_way(hours_factory, [a])
    time_machine.move_to(start + timedelta(minutes=10), tick=False)
    code = attendance.checkin_code(db.session.get(Event, event_id))
    for _ in range(5):
        with pytest.raises(Invalid):
            attendance.check_in_with_code(person(a), event_id, wrong(code))
    with pytest.raises(TooManyAttempts) as waiting:  # even the right code, for now
        attendance.check_in_with_code(person(a), event_id, code)
    assert 590 <= waiting.value.retry_after <= 600
    assert "try again in 10 minutes" in waiting.value.message
    # someone else, and the same person at another event, are not held up
    assert attendance.check_in_with_code(person(b), event_id, code).checked_in_at
    other_code = attendance.checkin_code(db.session.get(Event, other_event))
    assert attendance.check_in_with_code(person(a), other_event, other_code).checked_in_at

    time_machine.move_to(start + timedelta(minutes=20, seconds=1), tick=False)
    code = attendance.checkin_code(db.session.get(Event, event_id))
    assert attendance.check_in_with_code(person(a), event_id, code).checked_in_at


def test_the_api_answers_429_with_retry_after_from_any_address(client, hours_factory, counting):
    volunteer, _other = hours_factory.volunteers(2)
    event_id, _start = under_way(hours_factory, [volunteer])
    with hours_factory.app.app_context():
        token = token_for(client, person(volunteer).email)
        code = attendance.checkin_code(db.session.get(Event, event_id))
    statuses = []
    for i in range(6):  # a new address every time
        response = client.post(
            f"/api/v1/events/{event_id}/checkin",
            json={"code": wrong(code)},
            headers={**bearer(token), **EN},
            environ_base={"REMOTE_ADDR": f"10.0.{i}.1"},
        )
        statuses.append(response.status_code)
    assert statuses == [422] * 5 + [429]
    assert response.json["error"]["code"] == "rate_limited"
    assert "Too many wrong codes" in response.json["error"]["message"]
    assert 0 < int(response.headers["Retry-After"]) <= 600


def test_the_page_says_to_wait(app, client, hours_factory, counting):
    volunteer, _other = hours_factory.volunteers(2)
    event_id, _start = under_way(hours_factory, [volunteer])
    with app.app_context():
        log_in(client, person(volunteer).email)
        code = attendance.checkin_code(db.session.get(Event, event_id))
    for _ in range(5):
        response = post_form(client, f"/events/{event_id}/checkin", {"code": wrong(code)})
        assert response.status_code == 200
    response = post_form(client, f"/events/{event_id}/checkin", {"code": code}, headers=EN)
    assert response.status_code == 429 and 0 < int(response.headers["Retry-After"]) <= 600
    assert "Too many wrong codes for this event. Please try again in 10 minutes" in response.text


@pytest.mark.skipif(
    not REDIS_URL,
    reason="set NEIGHBORS_TEST_REDIS_URL=redis://127.0.0.1:6379/15 to test counts shared in Redis",
)
def test_wrong_codes_are_counted_across_processes_in_redis(database_url):
    """Two apps, as two workers or hosts, each with its own connection to one Redis."""
    settings = {
        "ENV": "testing",
        "DATABASE_URL": database_url,
        "RATELIMIT_ENABLED": True,
        "REDIS_URL": REDIS_URL,
        "CHECKIN_WRONG_CODE_LIMIT": "5 per 10 minutes",
    }
    first, second = create_app(settings), create_app(settings)
    person_and_event = (uuid.uuid4().hex, 1)
    try:
        for app in (first, second, first, second, first):
            with app.test_request_context():
                Failures("CHECKIN_WRONG_CODE_LIMIT", *person_and_event).failed()
        with second.test_request_context():
            assert Failures("CHECKIN_WRONG_CODE_LIMIT", *person_and_event).retry_after() > 0
            assert Failures("CHECKIN_WRONG_CODE_LIMIT", uuid.uuid4().hex, 1).retry_after() == 0
    finally:
        for app in (first, second):
            with app.app_context():
                db.engine.dispose()

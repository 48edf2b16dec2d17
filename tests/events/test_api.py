"""API v1 for events and sign-ups: the DESIGN.md contract, status codes and bodies."""

from datetime import timedelta

from neighbors.core.db import utcnow
from tests.clients import assert_error, bearer, token_for
from tests.factories import COMMUNITY, OTHER_COMMUNITY

EVENT_KEYS = {
    "id",
    "title",
    "category",
    "community",
    "venue",
    "starts_at",
    "ends_at",
    "capacity",
    "confirmed_count",
    "waitlist_count",
    "status",
}


def new_event(client, token, **fields):
    body = {
        "community": COMMUNITY,
        "title": "楼道清扫",
        "category": "warmth",
        "starts_at": "2030-05-01T09:00:00+08:00",
        "ends_at": "2030-05-01T11:00:00+08:00",
        "capacity": 2,
    }
    body.update(fields)
    return client.post("/api/v1/events", json=body, headers=bearer(token))


def test_staff_create_publish_patch_and_volunteers_sign_up(client, factory, make):
    staff = token_for(client, factory.staff_email)
    response = new_event(client, staff)
    assert response.status_code == 201
    event = response.json
    assert set(event) >= EVENT_KEYS and event["status"] == "draft"
    assert event["starts_at"] == "2030-05-01T09:00:00+08:00"
    assert event["community"] == {
        "id": event["community"]["id"],
        "code": COMMUNITY,
        "name": "文安路社区",
    }
    event_id = event["id"]
    assert_error(client.get(f"/api/v1/events/{event_id}"), 404, "not_found")  # a draft
    published = client.post(f"/api/v1/events/{event_id}/publish", headers=bearer(staff))
    assert published.status_code == 200 and published.json["status"] == "published"

    tokens = [token_for(client, make.user()[1]) for _ in range(3)]
    answers = [client.post(f"/api/v1/events/{event_id}/signups", headers=bearer(t)) for t in tokens]
    assert [a.status_code for a in answers] == [201, 201, 201]
    assert [a.json["status"] for a in answers] == ["confirmed", "confirmed", "waitlisted"]
    assert [a.json["waitlist_position"] for a in answers] == [None, None, 1]
    again = client.post(f"/api/v1/events/{event_id}/signups", headers=bearer(tokens[0]))
    assert again.status_code == 200 and again.json == answers[0].json

    assert_error(
        client.patch(f"/api/v1/events/{event_id}", json={"capacity": 1}, headers=bearer(staff)),
        409,
        "capacity_below_confirmed",
    )
    raised = client.patch(f"/api/v1/events/{event_id}", json={"capacity": 3}, headers=bearer(staff))
    assert raised.status_code == 200
    assert (raised.json["confirmed_count"], raised.json["waitlist_count"]) == (3, 0)

    roster = client.get(f"/api/v1/events/{event_id}/signups", headers=bearer(staff))
    assert roster.status_code == 200
    assert [i["status"] for i in roster.json["items"]] == ["confirmed"] * 3
    assert set(roster.json["items"][0]) == {
        "id",
        "user",
        "status",
        "waitlist_position",
        "checked_in_at",
        "checked_out_at",
        "reply",
    }
    assert_error(
        client.get(f"/api/v1/events/{event_id}/signups", headers=bearer(tokens[0])),
        403,
        "forbidden",
    )

    cancelled = client.delete(f"/api/v1/events/{event_id}/signups/me", headers=bearer(tokens[0]))
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert_error(
        client.delete(f"/api/v1/events/{event_id}/signups/me", headers=bearer(tokens[0])),
        404,
        "not_signed_up",
    )


def test_closed_and_cancelled_events_answer_409(client, factory, make):
    now = utcnow()
    past = factory.event(starts_at=now - timedelta(days=1), ends_at=now - timedelta(hours=20))
    cancelled = factory.event()
    staff = token_for(client, factory.staff_email)
    response = client.post(
        f"/api/v1/events/{cancelled}/cancel", json={"reason": "暴雨"}, headers=bearer(staff)
    )
    assert response.status_code == 200 and response.json["status"] == "cancelled"
    token = token_for(client, make.user()[1])
    assert_error(
        client.post(f"/api/v1/events/{past}/signups", headers=bearer(token)), 409, "event_closed"
    )
    assert_error(
        client.post(f"/api/v1/events/{cancelled}/signups", headers=bearer(token)),
        409,
        "event_cancelled",
    )
    completed = client.post(f"/api/v1/events/{past}/complete", headers=bearer(staff))
    assert completed.status_code == 200 and completed.json["status"] == "completed"


def test_roles_scope_and_bad_input(client, factory, make):
    volunteer = token_for(client, make.user()[1])
    other = token_for(client, make.user(role="staff", community=OTHER_COMMUNITY)[1])
    staff = token_for(client, factory.staff_email)
    assert_error(new_event(client, volunteer), 403, "forbidden")
    assert_error(new_event(client, other), 404, "not_found")
    assert_error(client.post("/api/v1/events", json={}), 401, "unauthorized")
    error = assert_error(
        new_event(client, staff, capacity="ten", starts_at="2030-05-01 09:00", category="sport"),
        422,
        "invalid",
    )
    assert {"capacity", "starts_at"} <= set(error["fields"])
    error = assert_error(new_event(client, staff, category="sport"), 422, "invalid")
    assert "category" in error["fields"]
    error = assert_error(
        new_event(client, staff, ends_at="2030-05-01T08:00:00+08:00"), 422, "invalid"
    )
    assert "ends_at" in error["fields"]
    draft = factory.event(publish=False)
    assert_error(
        client.post(f"/api/v1/events/{draft}/publish", headers=bearer(other)), 404, "not_found"
    )
    assert_error(
        client.post(f"/api/v1/events/{draft}/signups", headers=bearer(volunteer)), 404, "not_found"
    )
    assert_error(
        client.post("/api/v1/events/99999999999/signups", headers=bearer(volunteer)),
        404,
        "not_found",
    )


def test_list_with_filters_and_cursor(client, factory):
    base = utcnow() + timedelta(days=1)
    ids = [
        factory.event(
            title=f"活动{i}",
            starts_at=base + timedelta(hours=i),
            ends_at=base + timedelta(hours=i, minutes=30),
        )
        for i in range(5)
    ]
    page = client.get("/api/v1/events?limit=2").json
    seen = [e["id"] for e in page["items"]]
    while page["next_cursor"]:
        page = client.get(f"/api/v1/events?limit=2&cursor={page['next_cursor']}").json
        seen += [e["id"] for e in page["items"]]
    assert seen == ids
    assert client.get("/api/v1/events?q=活动3").json["items"][0]["title"] == "活动3"
    assert client.get(f"/api/v1/events?community={OTHER_COMMUNITY}").json["items"] == []
    day = (base + timedelta(hours=8)).astimezone().date().isoformat()
    assert isinstance(client.get(f"/api/v1/events?from={day}&to={day}").json["items"], list)
    assert_error(client.get("/api/v1/events?from=yesterday"), 422, "invalid")
    assert_error(client.get("/api/v1/events?status=draft"), 401, "unauthorized")
    assert_error(client.get("/api/v1/events?limit=x"), 422, "invalid")
    assert_error(client.get("/api/v1/events?category=sport"), 422, "invalid")


def test_hostile_input_gets_4xx(client, factory, make):
    staff = token_for(client, factory.staff_email)
    for far in ("9999-12-31T20:00:00+00:00", "0001-01-01T00:00:00+00:00"):
        error = assert_error(new_event(client, staff, starts_at=far), 422, "invalid")
        assert "starts_at" in error["fields"]
    assert_error(client.get("/api/v1/events?from=9999-12-31"), 422, "invalid")
    assert_error(client.get("/api/v1/events?to=0001-01-01"), 422, "invalid")
    import base64

    cursor = base64.urlsafe_b64encode(b"2030-01-01T00:00:00+00:00|99999999999999999").decode()
    assert_error(client.get(f"/api/v1/events?cursor={cursor}"), 422, "invalid")
    event_id = factory.event()
    response = client.post(
        f"/api/v1/events/{event_id}/cancel", json={"reason": "a\u0000"}, headers=bearer(staff)
    )
    assert_error(response, 422, "invalid_input")
    assert_error(
        client.post(f"/api/v1/events/{event_id}/cancel", json={}, headers=bearer(staff)),
        422,
        "invalid",
    )
    long_title = "长" * 200
    event_id = factory.event(title=long_title, capacity=1)
    first, second = (token_for(client, make.user()[1]) for _ in range(2))
    client.post(f"/api/v1/events/{event_id}/signups", headers=bearer(first))
    client.post(f"/api/v1/events/{event_id}/signups", headers=bearer(second))
    response = client.delete(f"/api/v1/events/{event_id}/signups/me", headers=bearer(first))
    assert response.status_code == 200  # the promotion e-mail's subject is cut to fit


def test_a_cancelled_draft_stays_private(client, factory):
    staff = token_for(client, factory.staff_email)
    draft = factory.event(publish=False)
    client.post(f"/api/v1/events/{draft}/cancel", json={"reason": "不办了"}, headers=bearer(staff))
    assert_error(client.get(f"/api/v1/events/{draft}"), 404, "not_found")
    assert client.get("/api/v1/events?status=cancelled").json["items"] == []
    assert client.get(f"/api/v1/events/{draft}", headers=bearer(staff)).status_code == 200


def test_no_cancelling_a_sign_up_once_the_event_is_completed(client, factory, make, time_machine):
    from datetime import timedelta

    from neighbors.core.db import utcnow

    now = utcnow()
    event_id = factory.event(starts_at=now + timedelta(minutes=1), ends_at=now + timedelta(hours=2))
    token = token_for(client, make.user()[1])
    client.post(f"/api/v1/events/{event_id}/signups", headers=bearer(token))
    with factory.app.app_context():
        from neighbors.events.models import Event
        from neighbors.extensions import db

        with db.session.begin_nested():
            db.session.get(Event, event_id).starts_at = now - timedelta(minutes=1)
        db.session.commit()
    staff = token_for(client, factory.staff_email)
    time_machine.move_to(now + timedelta(hours=3))  # the event is over
    assert (
        client.post(f"/api/v1/events/{event_id}/complete", headers=bearer(staff)).status_code == 200
    )
    assert_error(
        client.delete(f"/api/v1/events/{event_id}/signups/me", headers=bearer(token)),
        409,
        "event_closed",
    )
    assert_error(
        client.post(f"/api/v1/events/{event_id}/signups", headers=bearer(token)),
        409,
        "event_closed",
    )

"""API v1 for hours: attendance, check-in, confirmation, my hours, certificates."""

from datetime import timedelta

from neighbors.attendance import services as attendance
from neighbors.core.db import utcnow
from neighbors.core.timezone import local_today
from neighbors.events.models import Event
from neighbors.extensions import db
from tests.clients import assert_error, bearer, token_for
from tests.factories import OTHER_COMMUNITY


def test_attendance_completion_confirmation_hours_and_certificate(app, client, hours_factory):
    volunteer_id, email = hours_factory.make.user()
    event_id = hours_factory.held_event([volunteer_id], minutes=90)
    staff = token_for(client, hours_factory.staff_email)
    with app.app_context():
        event = db.session.get(Event, event_id)
        start = event.starts_at.isoformat()
        end = (event.starts_at + timedelta(minutes=60)).isoformat()
    response = client.post(
        f"/api/v1/events/{event_id}/attendance",
        headers=bearer(staff),
        json={"user_id": volunteer_id, "checked_in_at": start, "checked_out_at": end},
    )
    assert response.status_code == 200 and response.json["checked_out_at"]
    bad = client.post(
        f"/api/v1/events/{event_id}/attendance",
        headers=bearer(staff),
        json={"user_id": volunteer_id, "checked_in_at": end, "checked_out_at": start},
    )
    assert_error(bad, 422, "invalid")
    client.post(f"/api/v1/events/{event_id}/complete", headers=bearer(staff))

    token = token_for(client, email)
    (item,) = client.get("/api/v1/me/hours", headers=bearer(token)).json["items"]
    assert {k: item[k] for k in ("event_id", "minutes", "status")} == {
        "event_id": event_id,
        "minutes": 60,
        "status": "pending",
    }
    assert_error(
        client.post(f"/api/v1/service-records/{item['id']}/confirm", headers=bearer(token)),
        403,
        "forbidden",
    )
    other = token_for(client, hours_factory.make.user(role="staff", community=OTHER_COMMUNITY)[1])
    assert_error(
        client.post(f"/api/v1/service-records/{item['id']}/confirm", headers=bearer(other)),
        404,
        "not_found",
    )
    confirmed = client.post(f"/api/v1/service-records/{item['id']}/confirm", headers=bearer(staff))
    assert confirmed.status_code == 200 and confirmed.json["status"] == "confirmed"
    assert_error(
        client.post(f"/api/v1/service-records/{item['id']}/reject", json={}, headers=bearer(staff)),
        409,
        "not_pending",
    )
    assert client.get("/api/v1/me", headers=bearer(token)).json["total_minutes"] == 60

    today = local_today()
    issued = client.post(
        "/api/v1/me/certificates",
        headers=bearer(token),
        json={"from": (today - timedelta(days=7)).isoformat(), "to": today.isoformat()},
    )
    assert issued.status_code == 201
    assert issued.json["total_minutes"] == 60 and issued.json["serial"]
    assert issued.json["verify_url"].endswith(issued.json["token"])
    verified = client.get(f"/api/v1/certificates/verify/{issued.json['token']}")
    assert verified.status_code == 200 and verified.json["serial"] == issued.json["serial"]
    forged = (
        issued.json["token"][:5]
        + ("x" if issued.json["token"][5] != "x" else "y")
        + issued.json["token"][6:]
    )
    assert_error(client.get(f"/api/v1/certificates/verify/{forged}"), 404, "not_genuine")
    assert_error(
        client.post(
            "/api/v1/me/certificates", headers=bearer(token), json={"from": "2026-13-01", "to": "x"}
        ),
        422,
        "invalid",
    )


def test_check_in_with_a_code(app, client, hours_factory):
    volunteer_id, email = hours_factory.make.user()
    now = utcnow()
    event_id = hours_factory.event(
        starts_at=now + timedelta(minutes=5), ends_at=now + timedelta(hours=1)
    )
    token = token_for(client, email)
    client.post(f"/api/v1/events/{event_id}/signups", headers=bearer(token))
    with app.app_context():
        code = attendance.checkin_code(db.session.get(Event, event_id))
    assert_error(
        client.post(
            f"/api/v1/events/{event_id}/checkin", json={"code": "12"}, headers=bearer(token)
        ),
        422,
        "wrong_code",
    )
    response = client.post(
        f"/api/v1/events/{event_id}/checkin", json={"code": code}, headers=bearer(token)
    )
    assert response.status_code == 200 and response.json["checked_in_at"]

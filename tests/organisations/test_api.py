"""API of DESIGN.md §6 for organisations, and what their coordinators may do with events and
hours (谁组织谁记录): draft, take attendance, confirm; staff of the community publish."""

from datetime import timedelta

from neighbors.core.db import utcnow
from tests.clients import assert_error, bearer, token_for
from tests.factories import COMMUNITY, OTHER_COMMUNITY


def event_body(**fields):
    start = utcnow() + timedelta(days=3)
    body = {
        "community": COMMUNITY,
        "title": "楼道清扫",
        "category": "warmth",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "capacity": 5,
    }
    body.update(fields)
    return body


def test_directory_registration_and_members(client, factory, make):
    staff = token_for(client, factory.staff_email)
    made = client.post(
        "/api/v1/organisations",
        json={"name": "文安路志愿服务队", "kind": "volunteer_team", "community": COMMUNITY},
        headers=bearer(staff),
    )
    assert made.status_code == 201 and made.json["status"] == "active"
    team = made.json["id"]
    bad = client.post(
        "/api/v1/organisations",
        json={"name": "x", "kind": "club", "community": COMMUNITY, "credit_code": "123"},
        headers=bearer(staff),
    )
    assert set(assert_error(bad, 422, "invalid")["fields"]) == {"kind", "credit_code"}

    member_id, member_email = make.user()
    added = client.post(
        f"/api/v1/organisations/{team}/members",
        json={"user_id": member_id, "role": "coordinator"},
        headers=bearer(staff),
    )
    assert added.status_code == 201 and added.json["role"] == "coordinator"
    listed = client.get("/api/v1/organisations", query_string={"community": COMMUNITY}).json
    assert listed["items"] == [
        {
            "id": team,
            "name": "文安路志愿服务队",
            "kind": "volunteer_team",
            "community": listed["items"][0]["community"],
            "status": "active",
            "credit_code": None,
            "members_count": 1,
        }
    ]
    assert listed["items"][0]["community"]["code"] == COMMUNITY
    stranger = token_for(client, make.user()[1])
    refused = client.post(
        f"/api/v1/organisations/{team}/members",
        json={"user_id": member_id},
        headers=bearer(stranger),
    )
    assert_error(refused, 404, "not_found")
    assert_error(client.get("/api/v1/organisations?kind=club"), 422, "invalid")


def test_a_coordinator_drafts_staff_publish_and_the_coordinator_confirms_the_hours(
    client, factory, make
):
    staff = token_for(client, factory.staff_email)
    team = client.post(
        "/api/v1/organisations",
        json={"name": "文安路志愿服务队", "kind": "volunteer_team", "community": COMMUNITY},
        headers=bearer(staff),
    ).json["id"]
    coordinator_id, coordinator_email = make.user()
    client.post(
        f"/api/v1/organisations/{team}/members",
        json={"user_id": coordinator_id, "role": "coordinator"},
        headers=bearer(staff),
    )
    coordinator = token_for(client, coordinator_email)

    # Not for another community, and not without being its coordinator.
    elsewhere = client.post(
        "/api/v1/events",
        json=event_body(community=OTHER_COMMUNITY, organisation=team),
        headers=bearer(coordinator),
    )
    assert elsewhere.status_code in (404, 422)
    volunteer_id, volunteer_email = make.user()
    volunteer = token_for(client, volunteer_email)
    assert_error(
        client.post(
            "/api/v1/events", json=event_body(organisation=team), headers=bearer(volunteer)
        ),
        403,
        "forbidden",
    )

    draft = client.post(
        "/api/v1/events", json=event_body(organisation=team), headers=bearer(coordinator)
    )
    assert draft.status_code == 201, draft.json
    assert draft.json["status"] == "draft"
    assert draft.json["organisation"] == {"id": team, "name": "文安路志愿服务队"}
    event_id = draft.json["id"]
    assert_error(
        client.post(f"/api/v1/events/{event_id}/publish", headers=bearer(coordinator)),
        403,
        "forbidden",
    )
    published = client.post(f"/api/v1/events/{event_id}/publish", headers=bearer(staff))
    assert published.json["status"] == "published"
    assert (
        client.post(f"/api/v1/events/{event_id}/signups", headers=bearer(volunteer)).status_code
        == 201
    )

    # The coordinator takes attendance: the roster, a check-in, then (after the end) completion.
    roster = client.get(f"/api/v1/events/{event_id}/signups", headers=bearer(coordinator))
    assert roster.status_code == 200 and len(roster.json["items"]) == 1
    with factory.app.app_context():
        from neighbors.core.db import transaction
        from neighbors.core.timezone import isoformat
        from neighbors.events.models import Event
        from neighbors.extensions import db

        with transaction():  # time passes: the event is over
            event = db.session.get(Event, event_id)
            shift = event.ends_at - utcnow() + timedelta(hours=1)
            event.starts_at -= shift
            event.ends_at -= shift
            came, left = isoformat(event.starts_at), isoformat(event.ends_at)
    taken = client.post(
        f"/api/v1/events/{event_id}/attendance",
        json={"user_id": volunteer_id, "checked_in_at": came, "checked_out_at": left},
        headers=bearer(coordinator),
    )
    assert taken.status_code == 200, taken.json
    done = client.post(f"/api/v1/events/{event_id}/complete", headers=bearer(coordinator))
    assert done.status_code == 200, done.json

    with factory.app.app_context():
        from neighbors.hours import services as hours
        from tests.factories import person

        (record,) = hours.records_to_confirm(person(coordinator_id), organisation_id=team)
        record_id = record.id
        assert record.organiser == "文安路志愿服务队"
    other_team_staff = token_for(client, make.user(role="staff", community=OTHER_COMMUNITY)[1])
    assert_error(
        client.post(
            f"/api/v1/service-records/{record_id}/confirm", headers=bearer(other_team_staff)
        ),
        404,
        "not_found",
    )
    confirmed = client.post(
        f"/api/v1/service-records/{record_id}/confirm", headers=bearer(coordinator)
    )
    assert confirmed.status_code == 200 and confirmed.json["status"] == "confirmed"
    page = client.get(f"/organisations/{team}", headers={"Accept-Language": "en"}).text
    assert "<dd>2 hours</dd>" in page  # the organisation's confirmed service, on its page

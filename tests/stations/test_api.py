"""API v1 for stations and an event's room: the DESIGN.md §6 contract, status codes, bodies."""

from tests.clients import assert_error, bearer, token_for
from tests.factories import COMMUNITY, NEIGHBOUR_COMMUNITY, OTHER_COMMUNITY, person

STATION = {
    "code": "ST-API",
    "name": "南湖街道党群服务站",
    "address": "文安路 28 号",
    "opening_hours": "8:30–20:00",
    "communities": [COMMUNITY, NEIGHBOUR_COMMUNITY],
    "rooms": [{"name": "多功能厅", "capacity": 40}, {"name": "会议室", "capacity": 12}],
}


def admin_token(client, factory):
    with client.application.app_context():
        email = person(factory.admin_id).email
    return token_for(client, email)


def new_event(client, token, **fields):
    body = {
        "community": COMMUNITY,
        "title": "书法班",
        "category": "culture",
        "starts_at": "2030-05-01T09:00:00+08:00",
        "ends_at": "2030-05-01T11:00:00+08:00",
        "capacity": 10,
    }
    body.update(fields)
    return client.post("/api/v1/events", json=body, headers=bearer(token))


def test_admins_create_stations_and_anyone_lists_them_by_community(client, factory):
    created = client.post(
        "/api/v1/stations", json=STATION, headers=bearer(admin_token(client, factory))
    )
    assert created.status_code == 201
    station = created.json
    assert station["code"] == "ST-API" and station["opening_hours"] == "8:30–20:00"
    assert [c["code"] for c in station["communities"]] == [COMMUNITY, NEIGHBOUR_COMMUNITY]
    assert {(r["name"], r["capacity"]) for r in station["rooms"]} == {
        ("多功能厅", 40),
        ("会议室", 12),
    }
    assert all(isinstance(r["id"], int) for r in station["rooms"])
    listed = client.get(f"/api/v1/stations?community={NEIGHBOUR_COMMUNITY}").json["items"]
    assert [s["code"] for s in listed] == ["ST-API"] and listed[0] == station
    assert client.get(f"/api/v1/stations?community={OTHER_COMMUNITY}").json == {"items": []}
    assert_error(client.get("/api/v1/stations?community=nope"), 404, "not_found")
    again = client.post(
        "/api/v1/stations", json=STATION, headers=bearer(admin_token(client, factory))
    )
    assert_error(again, 409, "station_exists")


def test_who_may_create_a_station(client, factory, make):
    assert_error(client.post("/api/v1/stations", json=STATION), 401, "unauthorized")
    volunteer = token_for(client, make.user()[1])
    assert_error(
        client.post("/api/v1/stations", json=STATION, headers=bearer(volunteer)), 403, "forbidden"
    )
    staff = token_for(client, factory.staff_email)
    # Staff of 文安路社区 do not manage 三好街社区, which the station would also serve.
    assert_error(
        client.post("/api/v1/stations", json=STATION, headers=bearer(staff)), 404, "not_found"
    )
    mine = {**STATION, "communities": [COMMUNITY]}
    assert client.post("/api/v1/stations", json=mine, headers=bearer(staff)).status_code == 201


def test_bad_stations_are_422_naming_the_field(client, factory):
    token = admin_token(client, factory)
    for body, field in (
        ({**STATION, "communities": "210102002001"}, "communities"),
        ({**STATION, "rooms": [{"name": "厅", "capacity": "40"}]}, "rooms"),
        ({**STATION, "rooms": ["厅"]}, "rooms"),
        ({**STATION, "code": ""}, "code"),
        ({k: v for k, v in STATION.items() if k != "name"}, "name"),
    ):
        error = assert_error(
            client.post("/api/v1/stations", json=body, headers=bearer(token)), 422, "invalid"
        )
        assert field in error["fields"], (body, error)


def rooms_of(client, factory):
    body = client.post(
        "/api/v1/stations", json=STATION, headers=bearer(admin_token(client, factory))
    ).json
    return {room["name"]: room["id"] for room in body["rooms"]}


def test_an_event_takes_a_room_once_at_a_time(client, factory):
    rooms = rooms_of(client, factory)
    staff = token_for(client, factory.staff_email)
    first = new_event(client, staff, room=rooms["会议室"], capacity=12)
    assert first.status_code == 201
    assert first.json["room"] == {
        "id": rooms["会议室"],
        "name": "会议室",
        "capacity": 12,
        "station": {"code": "ST-API", "name": "南湖街道党群服务站"},
    }
    clash = new_event(
        client,
        staff,
        room=rooms["会议室"],
        starts_at="2030-05-01T10:00:00+08:00",
        ends_at="2030-05-01T12:00:00+08:00",
    )
    error = assert_error(clash, 409, "room_taken")
    assert "room" in error["fields"]
    later = new_event(
        client,
        staff,
        room=rooms["会议室"],
        starts_at="2030-05-01T11:00:00+08:00",
        ends_at="2030-05-01T12:00:00+08:00",
    )
    assert later.status_code == 201
    # PATCH: moving the later event onto the first one's time is refused; out of the room, fine.
    moved = client.patch(
        f"/api/v1/events/{later.json['id']}",
        json={"starts_at": "2030-05-01T10:30:00+08:00"},
        headers=bearer(staff),
    )
    assert_error(moved, 409, "room_taken")
    out = client.patch(
        f"/api/v1/events/{later.json['id']}", json={"room": None}, headers=bearer(staff)
    )
    assert out.status_code == 200 and out.json["room"] is None
    assert client.get("/api/v1/events?status=draft", headers=bearer(staff)).status_code == 200


def test_an_events_capacity_above_its_rooms_is_422(client, factory):
    rooms = rooms_of(client, factory)
    staff = token_for(client, factory.staff_email)
    error = assert_error(
        new_event(client, staff, room=rooms["会议室"], capacity=13), 422, "capacity_exceeds_room"
    )
    assert "capacity" in error["fields"]
    event = new_event(client, staff, room=rooms["会议室"], capacity=12).json
    bigger = client.patch(
        f"/api/v1/events/{event['id']}", json={"capacity": 30}, headers=bearer(staff)
    )
    assert_error(bigger, 422, "capacity_exceeds_room")
    both = client.patch(
        f"/api/v1/events/{event['id']}",
        json={"capacity": 30, "room": rooms["多功能厅"]},
        headers=bearer(staff),
    )
    assert both.status_code == 200 and both.json["room"]["name"] == "多功能厅"
    assert_error(new_event(client, staff, room=999999), 422, "unknown_room")
    assert_error(new_event(client, staff, room="会议室"), 422, "invalid")


def test_the_event_list_narrows_by_district(client, factory):
    staff = token_for(client, factory.staff_email)
    event = new_event(client, staff).json
    client.post(f"/api/v1/events/{event['id']}/publish", headers=bearer(staff))
    here = client.get("/api/v1/events?district=210102&from=2030-04-30").json["items"]
    there = client.get("/api/v1/events?district=210103&from=2030-04-30").json["items"]
    assert [e["id"] for e in here] == [event["id"]] and there == []

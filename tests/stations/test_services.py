"""Stations and rooms: the CSV import (all or nothing, line-numbered, idempotent), creating a
station, and the rules an event's room keeps (free at its time, big enough, nearby)."""

from datetime import timedelta

import pytest

from neighbors.core.db import utcnow
from neighbors.core.errors import Conflict, Invalid, NotAllowed, NotFound
from neighbors.core.tabular import ImportFailed
from neighbors.events import services as events
from neighbors.stations import services as stations
from tests.factories import (
    COMMUNITY,
    DEMO_STATIONS,
    NEIGHBOUR_COMMUNITY,
    OTHER_COMMUNITY,
    make_station,
    person,
)

HEADER = "station_code,station_name,address,opening_hours,communities,room_name,room_capacity\n"


def write(tmp_path, text, name="stations.csv"):
    path = tmp_path / name
    path.write_text(HEADER + text, encoding="utf-8")
    return path


def test_import_creates_stations_and_rooms_and_a_second_run_changes_nothing(ctx, make):
    first = stations.import_stations(DEMO_STATIONS)
    assert first.counts["stations"]["created"] == 2 and first.counts["rooms"]["created"] == 5
    [station] = stations.list_stations(community_code=NEIGHBOUR_COMMUNITY)
    assert station.name == "南湖街道党群服务站"
    assert [c.code for c in station.communities] == [COMMUNITY, NEIGHBOUR_COMMUNITY]
    assert {(r.name, r.capacity) for r in station.rooms} == {
        ("多功能厅", 60),
        ("会议室", 16),
        ("书画室", 20),
    }
    second = stations.import_stations(DEMO_STATIONS)
    assert not second.changed
    assert second.counts["stations"]["unchanged"] == 2 and second.counts["rooms"]["unchanged"] == 5


def test_an_import_updates_details_and_capacities_and_adds_rooms(ctx, make, tmp_path):
    stations.import_stations(DEMO_STATIONS)
    path = write(
        tmp_path,
        f"ST210102002,南湖街道党群服务站,文安路 30 号,全天,{COMMUNITY},多功能厅,80\n"
        f"ST210102002,南湖街道党群服务站,文安路 30 号,全天,{COMMUNITY},舞蹈室,25\n",
    )
    report = stations.import_stations(path)
    assert report.counts["stations"]["updated"] == 1
    assert report.counts["rooms"] == {"created": 1, "updated": 1, "unchanged": 0}
    station = stations.get_station("ST210102002")
    assert station.address == "文安路 30 号" and [c.code for c in station.communities] == [
        COMMUNITY
    ]
    assert {r.name: r.capacity for r in station.rooms}["多功能厅"] == 80
    assert len(station.rooms) == 4  # rooms are never removed by an import


def test_errors_name_their_lines_and_nothing_is_written(ctx, make, tmp_path):
    path = write(
        tmp_path,
        f"ST1,一号站,地址,,{COMMUNITY},活动室,30\n"
        "ST1,一号站,另一个地址,,,会议室,10\n"
        f"ST2,二号站,,,999999999999,活动室,10\n"
        f"ST3,三号站,,,{COMMUNITY},活动室,many\n"
        f"ST3,三号站,,,{COMMUNITY},活动室,0\n"
        f"ST4,四号站,,,{COMMUNITY},大厅,10\n"
        f"ST4,四号站,,,{COMMUNITY},大厅,12\n"
        ",五号站,,,,,\n",
    )
    with pytest.raises(ImportFailed) as failed:
        stations.import_stations(path)
    lines = {line: message for line, message in failed.value.errors}
    assert "another name, address or opening hours on line 2" in lines[3]
    assert "unknown community codes: 999999999999" in lines[4]
    assert "room_capacity" in lines[5] and "room_capacity" in lines[6]
    assert "already on line 7" in lines[8]
    assert "may not be blank" in lines[9]
    assert set(lines) == {3, 4, 5, 6, 8, 9}
    assert stations.list_stations() == []


def test_a_station_must_serve_a_community(ctx, make, tmp_path):
    with pytest.raises(ImportFailed) as failed:
        stations.import_stations(write(tmp_path, "ST1,一号站,,,,活动室,30\n"))
    assert failed.value.errors == [(2, "station ST1 serves no community")]


def test_an_import_never_shrinks_a_room_below_an_event_in_it(ctx, factory, tmp_path):
    stations.import_stations(DEMO_STATIONS)
    rooms = {room.name: room for room in stations.get_station("ST210102002").rooms}
    factory.event(capacity=18, room_id=rooms["书画室"].id)  # 20 places
    path = write(
        tmp_path,
        f"ST210102002,南湖街道党群服务站,沈阳市和平区文安路 28 号,周一至周日 8:30–20:00,"
        f"{COMMUNITY} {NEIGHBOUR_COMMUNITY},书画室,15\n",
    )
    with pytest.raises(ImportFailed) as failed:
        stations.import_stations(path)
    assert failed.value.errors == [
        (2, "room 书画室 has an event for 18 people; its capacity cannot be lower")
    ]
    assert rooms["书画室"].capacity == 20


def test_staff_create_stations_only_for_their_own_communities(ctx, factory):
    with pytest.raises(NotFound):  # 三好街社区 is not the staff member's
        make_station(factory.staff())
    rooms = make_station(factory.staff(), communities=[COMMUNITY])
    assert set(rooms) == {"多功能厅", "会议室"}
    volunteer = person(factory.make.user()[0])
    with pytest.raises(NotAllowed):
        make_station(volunteer, code="ST-T2", communities=[COMMUNITY])
    with pytest.raises(Conflict) as taken:
        make_station(person(factory.admin_id))
    assert taken.value.code == "station_exists"


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"code": ""}, "code"),
        ({"name": "x" * 101}, "name"),
        ({"communities": []}, "communities"),
        ({"rooms": [{"name": "厅", "capacity": 0}]}, "rooms"),
        ({"rooms": [{"name": "厅", "capacity": True}]}, "rooms"),
        ({"rooms": [{"name": "厅", "capacity": 5}, {"name": "厅", "capacity": 6}]}, "rooms"),
    ],
)
def test_a_bad_station_names_its_field(ctx, factory, fields, field):
    values = {"code": "ST9", "name": "九号站", "communities": [COMMUNITY], "rooms": []}
    values.update(fields)
    with pytest.raises(Invalid) as invalid:
        stations.create_station(person(factory.admin_id), **values)
    assert field in invalid.value.fields


def times(day_offset, start_hour, hours=2):
    """Start and end on the day `day_offset` days from now, at `start_hour` UTC."""
    base = (utcnow() + timedelta(days=day_offset)).replace(minute=0, second=0, microsecond=0)
    start = base.replace(hour=start_hour)
    return {"starts_at": start, "ends_at": start + timedelta(hours=hours)}


def test_two_events_never_hold_one_room_at_overlapping_times(ctx, factory):
    rooms = make_station(person(factory.admin_id))
    hall = rooms["多功能厅"]
    factory.event(room_id=hall, **times(3, 1))  # 01:00–03:00 UTC
    with pytest.raises(Conflict) as taken:
        factory.event(room_id=hall, **times(3, 2))
    assert taken.value.code == "room_taken"
    factory.event(room_id=hall, **times(3, 3))  # back to back: 03:00–05:00 is free
    factory.event(room_id=rooms["会议室"], **times(3, 2))  # another room at that time
    # A draft holds the room too; a cancelled event frees it.
    draft = factory.event(publish=False, room_id=hall, **times(4, 1))
    with pytest.raises(Conflict):
        factory.event(room_id=hall, **times(4, 1))
    events.cancel_event(factory.staff(), draft, "场地改期")
    factory.event(room_id=hall, **times(4, 1))


def test_moving_an_event_into_a_taken_room_or_time_is_refused(ctx, factory):
    rooms = make_station(person(factory.admin_id))
    hall = rooms["多功能厅"]
    factory.event(room_id=hall, **times(3, 1))
    other = factory.event(room_id=hall, **times(3, 5))
    with pytest.raises(Conflict) as taken:
        events.update_event(factory.staff(), other, **times(3, 2))
    assert taken.value.code == "room_taken"
    elsewhere = factory.event(**times(3, 1))
    with pytest.raises(Conflict):
        events.update_event(factory.staff(), elsewhere, room_id=hall)
    moved = events.update_event(factory.staff(), elsewhere, room_id=rooms["会议室"])
    assert moved.room.name == "会议室"
    assert events.update_event(factory.staff(), other, title="改名").room_id == hall
    assert events.update_event(factory.staff(), other, room_id=None).room_id is None


def test_an_events_capacity_never_exceeds_its_rooms(ctx, factory):
    rooms = make_station(person(factory.admin_id))
    with pytest.raises(Invalid) as too_many:
        factory.event(capacity=13, room_id=rooms["会议室"])
    assert too_many.value.code == "capacity_exceeds_room" and "capacity" in too_many.value.fields
    event_id = factory.event(capacity=12, room_id=rooms["会议室"])
    with pytest.raises(Invalid):
        events.update_event(factory.staff(), event_id, capacity=20)
    assert events.update_event(factory.staff(), event_id, capacity=20, room_id=rooms["多功能厅"])


def test_the_room_must_be_at_a_station_serving_the_community(ctx, factory):
    rooms = make_station(person(factory.admin_id), communities=[OTHER_COMMUNITY])
    with pytest.raises(Invalid) as elsewhere:
        factory.event(room_id=rooms["会议室"])
    assert elsewhere.value.code == "room_not_serving"
    with pytest.raises(Invalid) as unknown:
        factory.event(room_id=999999)
    assert unknown.value.code == "unknown_room"


def test_a_series_in_a_room_takes_it_every_week(ctx, factory):
    hall = make_station(person(factory.admin_id))["多功能厅"]
    made = events.create_series(
        factory.staff(),
        community_code=COMMUNITY,
        frequency="weekly",
        count=3,
        title="书法班",
        category="culture",
        venue="",
        capacity=20,
        room_id=hall,
        **times(3, 1),
    )
    assert all(event.room_id == hall for event in made)
    with pytest.raises(Conflict):  # the second week is taken
        factory.event(room_id=hall, **times(10, 2))


def test_the_station_week_lists_its_published_events_in_order(ctx, factory):
    rooms = make_station(person(factory.admin_id))
    late = factory.event(title="晚场", room_id=rooms["多功能厅"], **times(1, 9))
    early = factory.event(title="早场", room_id=rooms["会议室"], **times(1, 1))
    factory.event(publish=False, title="草稿", room_id=rooms["会议室"], **times(1, 5))
    factory.event(title="别处", **times(1, 5))
    factory.event(title="下周", room_id=rooms["会议室"], **times(9, 1))
    station, found = events.station_week("ST-T1", utcnow())
    assert station.name == "ST-T1 党群服务站"
    assert [e.id for e in found] == [early, late]
    with pytest.raises(NotFound):
        events.station_week("NO-SUCH", utcnow())


def test_a_walk_in_never_grows_an_event_beyond_its_room(ctx, factory):
    from neighbors.attendance import services as attendance

    rooms = make_station(
        person(factory.admin_id),
        rooms=[{"name": "谈心室", "capacity": 2}, {"name": "大厅", "capacity": 9}],
    )
    small = factory.event(capacity=2, room_id=rooms["谈心室"])
    larger = factory.event(capacity=2, room_id=rooms["大厅"], **times(5, 1))
    (first, _e1), (second, _e2) = factory.make.user(), factory.make.user()
    _third, email = factory.make.user()
    for event_id in (small, larger):
        events.sign_up(person(first), event_id)
        events.sign_up(person(second), event_id)
    with pytest.raises(Conflict) as full:
        attendance.walk_in(factory.staff(), small, email)
    assert full.value.code == "room_full"
    attendance.walk_in(factory.staff(), larger, email)  # the room has space: the event grows
    assert events.get_event(larger).capacity == 3

"""Rooms under real concurrency (threads, real commits) on SQLite and PostgreSQL: many staff
booking one room for overlapping times at once get it once; the others hear room_taken.

Each test ends by reading the event rows themselves: no two events that are not cancelled hold
the room at overlapping times."""

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from neighbors.core.db import is_postgresql, transaction, utcnow
from neighbors.core.errors import Conflict
from neighbors.events import lifecycle
from neighbors.events import services as events
from neighbors.events.models import Event, EventStatus
from neighbors.extensions import db
from tests.clients import at_once
from tests.factories import COMMUNITY, EventFactory, make_station, person


@pytest.fixture
def booked(app, live_make):
    """Staff of the community and a station with two rooms, all committed for real."""
    with app.app_context():
        factory = EventFactory(app, live_make)
        rooms = make_station(person(factory.admin_id))
    return app, factory, rooms


def overlapping(app, room_id):
    """Pairs of events that are not cancelled and hold this room at overlapping times."""
    with app.app_context():
        held = db.session.execute(
            select(Event.id, Event.starts_at, Event.ends_at).where(
                Event.room_id == room_id, Event.status != EventStatus.CANCELLED
            )
        ).all()
    return [
        (a.id, b.id)
        for a in held
        for b in held
        if a.id < b.id and a.starts_at < b.ends_at and b.starts_at < a.ends_at
    ]


def booker(app, staff_id, room_id, start):
    def book():
        with app.app_context():
            event = events.create_event(
                person(staff_id),
                community_code=COMMUNITY,
                title="抢场地",
                category="culture",
                venue="",
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                capacity=10,
                room_id=room_id,
            )
            return event.id

    return book


@pytest.mark.parametrize("checked", ["checked", "unchecked"])
def test_a_storm_of_bookings_for_one_room_gets_it_once(booked, checked, monkeypatch):
    """Unchecked: the service's own look at the room is switched off, so on PostgreSQL only the
    exclusion constraint stands between the bookings (SQLite has no such constraint)."""
    app, factory, rooms = booked
    if checked == "unchecked":
        if not is_postgresql_app(app):
            pytest.skip("PostgreSQL only: on SQLite the check is the guard")
        monkeypatch.setattr(lifecycle, "_clashing_event", lambda _event, _room_id: None)
    start = utcnow().replace(microsecond=0) + timedelta(days=3)
    hall = rooms["多功能厅"]
    # Twelve staff at once, each for two hours starting 0 to 55 minutes apart: all overlap.
    results = at_once(
        [booker(app, factory.staff_id, hall, start + timedelta(minutes=5 * i)) for i in range(12)]
    )
    won = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(won) == 1, results
    assert len(refused) == 11 and {r.code for r in refused} == {"room_taken"}, results
    assert overlapping(app, hall) == []


def test_moving_events_into_one_slot_at_once_lets_one_in(booked):
    app, factory, rooms = booked
    start = utcnow().replace(microsecond=0) + timedelta(days=3)
    hall = rooms["多功能厅"]
    # Eight events on eight different days, then all moved to the same morning at once.
    ids = [booker(app, factory.staff_id, hall, start + timedelta(days=1 + i))() for i in range(8)]

    def mover(event_id):
        def move():
            with app.app_context():
                return events.update_event(
                    person(factory.staff_id),
                    event_id,
                    starts_at=start,
                    ends_at=start + timedelta(hours=2),
                ).id

        return move

    results = at_once([mover(event_id) for event_id in ids])
    assert len([r for r in results if isinstance(r, int)]) == 1, results
    assert {r.code for r in results if isinstance(r, Conflict)} == {"room_taken"}, results
    assert overlapping(app, hall) == []


def test_on_postgresql_the_database_itself_refuses_a_double_booking(booked):
    """The exclusion constraint holds even for a write that skips the service's check."""
    app, factory, rooms = booked
    if not is_postgresql_app(app):
        pytest.skip("PostgreSQL only: SQLite has no exclusion constraints")
    start = utcnow() + timedelta(days=3)
    first = booker(app, factory.staff_id, rooms["会议室"], start)()
    with (
        app.app_context(),
        pytest.raises(IntegrityError, match="ex_events_room_time"),
        transaction(),
    ):
        original = db.session.get(Event, first)
        copy = Event(
            community_id=original.community_id,
            category=original.category,
            title="绕过检查",
            venue="",
            starts_at=start + timedelta(minutes=30),
            ends_at=start + timedelta(hours=3),
            capacity=5,
            room_id=original.room_id,
        )
        db.session.add(copy)
    assert overlapping(app, rooms["会议室"]) == []


def is_postgresql_app(app):
    with app.app_context():
        return is_postgresql()

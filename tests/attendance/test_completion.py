"""Completing an event (issue 12): not before its end, everyone checked in gets a record, and the
staff are told what completion did."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from neighbors.attendance import completion
from neighbors.attendance import services as attendance
from neighbors.core.db import utcnow
from neighbors.core.errors import Conflict
from neighbors.events import services as events
from neighbors.events.models import Event, EventStatus, Signup
from neighbors.extensions import db
from neighbors.hours.models import ServiceRecord
from tests.clients import assert_error, bearer, log_in, post_form, token_for
from tests.factories import person

EN = {"Accept-Language": "en"}


def running_event(factory, time_machine, people):
    """An event of two hours with these people signed up, and the clock half an hour into it."""
    start = utcnow().replace(second=0, microsecond=0) + timedelta(minutes=10)
    event_id = factory.event(starts_at=start, ends_at=start + timedelta(hours=2), capacity=5)
    with factory.make.context():
        for user_id in people:
            events.sign_up(person(user_id), event_id)
    time_machine.move_to(start + timedelta(minutes=30), tick=False)
    return event_id, start


def minutes_by_person(event_id):
    records = db.session.scalars(select(ServiceRecord).where(ServiceRecord.event_id == event_id))
    return {record.user_id: record.minutes for record in records}


def test_completing_before_the_end_is_refused_and_loses_nobody(ctx, factory, time_machine):
    a, b, c = factory.volunteers(3)
    event_id, start = running_event(factory, time_machine, [a, b, c])
    staff = factory.staff()
    attendance.tap(staff, event_id, a, "in")
    attendance.tap(staff, event_id, b, "in")  # in and out within the same minute
    attendance.tap(staff, event_id, b, "out")

    with pytest.raises(Conflict) as refused:
        completion.complete_event(staff, event_id)
    assert refused.value.code == "not_ended"
    assert db.session.get(Event, event_id).status == EventStatus.PUBLISHED
    assert minutes_by_person(event_id) == {}
    assert not any(s.no_show for s in db.session.scalars(select(Signup)))

    time_machine.move_to(start + timedelta(hours=2, minutes=5), tick=False)
    done = completion.complete_event(staff, event_id)
    assert (done.event.status, done.records, done.no_shows) == (EventStatus.COMPLETED, 2, 1)
    # a stayed to the end; b was there for less than a minute, and still has a record of it
    assert minutes_by_person(event_id) == {a: 90, b: 1}


def test_whoever_checked_in_at_the_very_end_gets_a_record(ctx, factory, time_machine):
    (a,) = factory.volunteers(1)
    event_id, start = running_event(factory, time_machine, [a])
    time_machine.move_to(start + timedelta(hours=2), tick=False)  # the last moment
    attendance.tap(factory.staff(), event_id, a, "in")
    time_machine.move_to(start + timedelta(hours=14, minutes=1), tick=False)
    assert completion.complete_past_events(utcnow(), timedelta(hours=12)) == 1  # the scheduler
    assert minutes_by_person(event_id) == {a: 1}


def test_the_page_refuses_early_and_then_says_what_completion_did(
    app, client, factory, time_machine
):
    a, b = factory.volunteers(2)
    event_id, start = running_event(factory, time_machine, [a, b])
    log_in(client, factory.staff_email)
    page = client.get(f"/events/{event_id}", headers=EN).text
    assert "Mark as completed" not in page and "once it has ended" in page
    post_form(client, f"/staff/events/{event_id}/attendance/{a}/in", {})

    back = {"Referer": f"http://localhost/events/{event_id}", **EN}
    response = post_form(client, f"/staff/events/{event_id}/complete", {}, headers=back)
    assert response.status_code == 302
    page = client.get(response.location, headers=EN).text
    assert "This event ends at" in page and "Complete it after that" in page

    time_machine.move_to(start + timedelta(hours=3), tick=False)
    assert "Mark as completed" in client.get(f"/events/{event_id}", headers=EN).text
    response = post_form(client, f"/staff/events/{event_id}/complete", {}, headers=back)
    page = client.get(response.location, headers=EN).text
    assert "The event is completed: 1 service record, 1 no-show." in page


def test_the_api_answers_409_not_ended_and_then_gives_the_counts(client, factory, time_machine):
    a, b, c = factory.volunteers(3)
    event_id, start = running_event(factory, time_machine, [a, b, c])
    staff = token_for(client, factory.staff_email)
    with factory.app.app_context():
        attendance.all_present(factory.staff(), event_id)
        attendance.tap(factory.staff(), event_id, c, "clear")
    assert_error(
        client.post(f"/api/v1/events/{event_id}/complete", headers=bearer(staff)), 409, "not_ended"
    )
    time_machine.move_to(start + timedelta(hours=2, minutes=1), tick=False)
    response = client.post(f"/api/v1/events/{event_id}/complete", headers=bearer(staff))
    assert response.status_code == 200
    assert response.json["status"] == "completed" and response.json["id"] == event_id
    assert (response.json["service_records"], response.json["no_shows"]) == (2, 1)

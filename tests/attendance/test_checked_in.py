"""Once checked in, a sign-up stays (issue 12): the volunteer cannot cancel it, staff cannot
remove it without clearing the check-in first, and the event page says when they checked in."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from neighbors.attendance import services as attendance
from neighbors.core.db import utcnow
from neighbors.core.errors import Conflict
from neighbors.core.timezone import to_local
from neighbors.events import services as events
from neighbors.events.models import Event, Signup, SignupStatus
from neighbors.extensions import db
from tests.clients import assert_error, bearer, log_in, post_form, token_for
from tests.factories import person

EN = {"Accept-Language": "en"}


def checked_in_early(factory, time_machine, waiting=0):
    """A full event starting in 40 minutes (the cancellation cut-off is its start); its one
    volunteer checks in with the code half an hour before the start, as the doors open."""
    start = utcnow().replace(second=0, microsecond=0) + timedelta(minutes=40)
    event_id = factory.event(starts_at=start, ends_at=start + timedelta(hours=2), capacity=1)
    volunteer, *others = factory.volunteers(1 + waiting)
    with factory.make.context():
        for user_id in (volunteer, *others):
            events.sign_up(person(user_id), event_id)
        time_machine.move_to(start - timedelta(minutes=30, seconds=-6), tick=False)
        event = db.session.get(Event, event_id)
        attendance.check_in_with_code(person(volunteer), event_id, attendance.checkin_code(event))
    return event_id, volunteer, others


def status_of(event_id, user_id):
    return db.session.scalar(
        select(Signup.status).where(
            Signup.event_id == event_id,
            Signup.user_id == user_id,
            Signup.status != SignupStatus.CANCELLED,
        )
    )


def test_a_volunteer_who_checked_in_cannot_cancel(ctx, factory, time_machine):
    event_id, volunteer, (waiting,) = checked_in_early(factory, time_machine, waiting=1)
    with pytest.raises(Conflict) as refused:
        events.cancel_signup(person(volunteer), event_id)
    assert refused.value.code == "checked_in"
    assert "checked in at" in refused.value.message
    assert status_of(event_id, volunteer) == SignupStatus.CONFIRMED
    assert status_of(event_id, waiting) == SignupStatus.WAITLISTED  # nobody took the seat
    _event, signups, _positions = events.roster(factory.staff(), event_id)
    assert volunteer in {s.user_id for s in signups if s.checked_in_at}


def test_staff_clear_a_check_in_before_removing_the_person(ctx, factory, time_machine):
    event_id, volunteer, _others = checked_in_early(factory, time_machine)
    staff = factory.staff()
    with pytest.raises(Conflict) as refused:
        attendance.cancel_for(staff, event_id, volunteer)
    assert refused.value.code == "checked_in"
    assert status_of(event_id, volunteer) == SignupStatus.CONFIRMED
    attendance.tap(staff, event_id, volunteer, "clear")  # checked in by mistake
    attendance.cancel_for(staff, event_id, volunteer)
    assert status_of(event_id, volunteer) is None


def test_the_api_answers_409_checked_in(client, factory, make, time_machine):
    event_id, volunteer, _others = checked_in_early(factory, time_machine)
    with factory.app.app_context():
        email = person(volunteer).email
    token = token_for(client, email)
    assert_error(
        client.delete(f"/api/v1/events/{event_id}/signups/me", headers=bearer(token)),
        409,
        "checked_in",
    )
    signups = client.get(
        f"/api/v1/events/{event_id}/signups", headers=bearer(token_for(client, factory.staff_email))
    ).json["items"]
    assert [(s["user"]["id"], s["status"]) for s in signups] == [(volunteer, "confirmed")]


def test_the_event_page_shows_the_check_in_time_instead_of_cancel(
    app, client, factory, time_machine
):
    event_id, volunteer, _others = checked_in_early(factory, time_machine)
    with app.app_context():
        email = person(volunteer).email
        at = db.session.scalar(select(Signup.checked_in_at).where(Signup.user_id == volunteer))
    log_in(client, email)
    page = client.get(f"/events/{event_id}", headers=EN).text
    local = to_local(at).strftime("%H:%M")
    assert f"Checked in at {local}" in page
    assert local != at.strftime("%H:%M")  # the community's clock, not UTC
    assert "Cancel my sign-up" not in page
    response = post_form(
        client,
        f"/events/{event_id}/cancel-signup",
        {},
        headers={"Referer": f"http://localhost/events/{event_id}", **EN},
    )
    page = client.get(response.location, headers=EN).text
    assert f"You checked in at {local}, so your sign-up stays." in page

    staff = app.test_client()
    log_in(staff, factory.staff_email)
    sheet = staff.get(f"/staff/events/{event_id}/attendance", headers=EN).text
    assert f"/attendance/{volunteer}/remove" not in sheet
    response = post_form(
        staff,
        f"/staff/events/{event_id}/attendance/{volunteer}/remove",
        {},
        headers={"Referer": f"http://localhost/staff/events/{event_id}/attendance", **EN},
    )
    assert "clear the check-in first" in staff.get(response.location, headers=EN).text

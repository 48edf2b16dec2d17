"""The reminder asks "still coming?": signed single-use links that answer without signing in;
a decline gives the place to the head of the waitlist at once; staff see the answers."""

import re
from datetime import timedelta

from sqlalchemy import select

from neighbors.core.db import transaction, utcnow
from neighbors.core.outbox import OutboxMessage
from neighbors.events import services as events
from neighbors.events.models import Event, Signup, SignupStatus
from neighbors.extensions import db
from tests.clients import csrf_token, log_in
from tests.factories import person

EN = {"Accept-Language": "en"}


def reminded(app, factory, capacity=1, people=2):
    """An event tomorrow, full, someone waiting; the 24-hour reminder sent. Returns the event,
    the people and the links of the first one's reminder."""
    with app.app_context():
        start = utcnow() + timedelta(hours=20)
        event_id = factory.event(
            capacity=capacity, starts_at=start, ends_at=start + timedelta(hours=2)
        )
        ids = factory.volunteers(people)
        for user_id in ids:
            events.sign_up(person(user_id), event_id)
        events.send_reminders(utcnow(), (24, 2))
        reminder = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).first()
        assert reminder.to_address == person(ids[0]).email
        links = re.findall(r"https?://\S+/reply/\S+", reminder.body)
    return event_id, ids, links, reminder


def path(link):
    return "/reply/" + link.rsplit("/reply/", 1)[1]


def post(client, link):
    return client.post(path(link), data={"csrf_token": csrf_token(client)}, headers=EN)


def test_the_reminder_links_confirm_once_without_signing_in(app, client, factory):
    event_id, (first, _second), (coming, declined), reminder = reminded(app, factory)
    assert "您还来参加吗" in reminder.body  # in the person's language (the default, Chinese)
    page = client.get(path(coming), headers=EN)
    assert page.status_code == 200 and "Yes, I'm coming" in page.text
    with app.app_context():  # opening the link changes nothing
        assert db.session.scalar(select(Signup.reply).where(Signup.user_id == first)) is None
    answer = post(client, coming)
    assert answer.status_code == 302 and answer.location.endswith(f"/events/{event_id}")
    assert post(client, coming).status_code == 409  # once
    assert post(client, declined).status_code == 409  # the other link is spent too
    with app.app_context():
        signup = db.session.scalar(select(Signup).where(Signup.user_id == first))
        assert (signup.reply, signup.status) == ("coming", SignupStatus.CONFIRMED)
    staff = app.test_client()
    log_in(staff, factory.staff_email)
    roster = staff.get(f"/staff/events/{event_id}/roster", headers=EN).text
    assert "Answer to the reminder" in roster and "Coming" in roster


def test_a_decline_gives_the_place_to_the_head_of_the_waitlist_at_once(app, client, factory):
    event_id, (first, second), (_coming, declined), _reminder = reminded(app, factory)
    assert post(client, declined).status_code == 302
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert (event.confirmed_count, event.waitlist_count) == (1, 0)
        status = dict(db.session.execute(select(Signup.user_id, Signup.status)).all())
        assert status == {first: SignupStatus.CANCELLED, second: SignupStatus.CONFIRMED}
        told = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert told[-1].to_address == person(second).email  # the promotion, at once
    staff = app.test_client()
    log_in(staff, factory.staff_email)
    assert "Cannot come" not in staff.get(f"/staff/events/{event_id}/roster", headers=EN).text


def test_a_tampered_link_is_refused_and_an_answer_after_the_start_too(app, client, factory):
    event_id, _ids, (coming, _declined), _reminder = reminded(app, factory)
    assert client.get(path(coming)[:-3] + "abc", headers=EN).status_code == 404
    with app.app_context(), transaction():
        event = db.session.get(Event, event_id)
        shift = event.starts_at - utcnow() + timedelta(minutes=5)
        event.starts_at, event.ends_at = event.starts_at - shift, event.ends_at - shift
    assert post(client, coming).status_code == 409


def test_the_links_are_in_the_reminder_only_until_answered(app, client, factory):
    event_id, (first, _second), (coming, _declined), _reminder = reminded(app, factory, 2, 2)
    with app.app_context():
        assert len(db.session.scalars(select(OutboxMessage)).all()) == 2
        post(client, coming)
        with transaction():  # the event moves: reminded again
            event = db.session.get(Event, event_id)
            event.starts_at += timedelta(minutes=30)
            event.ends_at += timedelta(minutes=30)
        events.send_reminders(utcnow(), (24, 2))
        again = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()[2:]
        bodies = {m.to_address: m.body for m in again}
        assert "/reply/" not in bodies[person(first).email]
        assert len([b for b in bodies.values() if "/reply/" in b]) == 1

"""My events (issue 12): upcoming and past apart, and each past event with how it went."""

from datetime import timedelta

from neighbors.attendance import completion
from neighbors.attendance import services as attendance
from neighbors.core.db import transaction
from neighbors.events import services as events
from neighbors.events.models import Event
from neighbors.extensions import db
from neighbors.hours import services as hours
from tests.clients import log_in
from tests.factories import HoursFactory, person

EN = {"Accept-Language": "en"}


def a_volunteers_year(app, make):
    """One volunteer's events: one to come, and past ones that went each way there is."""
    factory = HoursFactory(app, make)
    me, email = make.user()
    (full,) = factory.volunteers(1)
    with app.app_context():
        staff = factory.staff()
        ids = {"coming": factory.event(title="下周的活动")}
        events.sign_up(person(me), ids["coming"])
        ids["attended"] = factory.held_event([me], minutes=150, title="来了的活动")
        attendance.all_present(staff, ids["attended"])
        completion.complete_event(staff, ids["attended"])
        ids["confirmed"] = factory.held_event([me], minutes=60, title="确认了的活动")
        attendance.all_present(staff, ids["confirmed"])
        completion.complete_event(staff, ids["confirmed"])
        (record,) = [r for r in hours.records_to_confirm(staff) if r.event_id == ids["confirmed"]]
        hours.review(staff, [record.id], confirm=True)
        ids["no_show"] = factory.held_event([me], title="没来的活动")
        completion.complete_event(staff, ids["no_show"])
        ids["waiting"] = factory.event(title="没排上的活动", capacity=1)
        events.sign_up(person(full), ids["waiting"])
        events.sign_up(person(me), ids["waiting"])
        with transaction():  # and then it happened
            event = db.session.get(Event, ids["waiting"])
            event.starts_at -= timedelta(days=4)
            event.ends_at -= timedelta(days=4)
        ids["cancelled"] = factory.held_event([me], title="取消了的活动")
        events.cancel_event(staff, ids["cancelled"], "暴雨")
        # Completed in the middle, before the end (as staff could before issue 12): it is past.
        ids["early"] = factory.held_event([me], title="提前结束的活动")
        with transaction():
            event = db.session.get(Event, ids["early"])
            event.ends_at += timedelta(hours=5)
        attendance.tap(staff, ids["early"], me, "in")
        with transaction():
            completion._complete(staff, db.session.get(Event, ids["early"]))
    return me, email, ids


def test_upcoming_and_past_are_apart_and_past_events_say_how_they_went(app, client, make):
    me, email, ids = a_volunteers_year(app, make)
    log_in(client, email)
    page = client.get("/my/events", headers=EN).text
    upcoming_part, past_part = page.split('id="past"', 1)
    assert "下周的活动" in upcoming_part and "提前结束的活动" not in upcoming_part
    for title, outcome in (
        ("来了的活动", "Attended: 2.5 hours, waiting for confirmation"),
        ("确认了的活动", "Attended: 1 hour, confirmed"),
        ("没来的活动", "Did not come (no-show)"),
        ("没排上的活动", "Did not get a place"),
        ("取消了的活动", "Cancelled by the organiser</span> · 暴雨"),
    ):
        article = past_part.split(title, 1)[1].split("</article>", 1)[0]
        assert outcome in article, (title, article)

    with app.app_context():
        upcoming = [signup.event_id for signup, _position in events.my_events(person(me))]
        past = {item.event.id: item for item in completion.my_past_events(person(me))}
    assert upcoming == [ids["coming"]]
    assert set(past) == {ids[name] for name in ids if name != "coming"}
    outcomes = {name: str(past[ids[name]].outcome) for name in ids if name != "coming"}
    assert outcomes == {
        "attended": "attended",
        "confirmed": "attended",
        "no_show": "no_show",
        "waiting": "no_place",
        "cancelled": "cancelled",
        "early": "attended",
    }

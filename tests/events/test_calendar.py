"""Calendars: an .ics per event and a private, revocable feed, read back with icalendar."""

import re

from icalendar import Calendar

from neighbors.events import services as events
from tests.clients import log_in, post_form
from tests.factories import person


def parse(response):
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    return [c for c in Calendar.from_ical(response.data).walk("VEVENT")]


def test_event_ics(client, factory):
    event_id = factory.event(title="助老理发")
    (entry,) = parse(client.get(f"/events/{event_id}.ics"))
    assert str(entry["summary"]) == "助老理发"
    assert str(entry["uid"]) == f"event-{event_id}@127.0.0.1"
    assert entry.decoded("dtstart").utcoffset().total_seconds() == 0
    assert client.get(f"/events/{factory.event(publish=False)}.ics").status_code == 404


def test_private_feed_lists_confirmed_events_keeps_uids_and_can_be_revoked(app, client, factory):
    first, second, full = (factory.event(title=t, capacity=1) for t in ("一", "二", "满"))
    volunteer_id, email = factory.make.user()
    other_id, _ = factory.make.user()
    with app.test_request_context():
        events.sign_up(person(other_id), full)
        for event_id in (first, second, full):
            events.sign_up(person(volunteer_id), event_id)  # waitlisted for the full one
    log_in(client, email)
    page = client.get("/my/calendar").text
    feed = re.search(r'value="http://localhost(/calendar/[^"]+\.ics)"', page).group(1)
    entries = parse(client.get(feed))
    assert sorted(str(e["summary"]) for e in entries) == ["一", "二"]
    uids = {str(e["uid"]) for e in entries}

    with app.test_request_context():
        events.update_event(factory.staff(), first, title="一（改）")
    again = parse(client.get(feed))
    assert {str(e["uid"]) for e in again} == uids  # updated in place, not duplicated
    changed = next(e for e in again if str(e["uid"]) == f"event-{first}@127.0.0.1")
    assert str(changed["summary"]) == "一（改）"

    post_form(client, "/my/calendar", {})
    assert client.get(feed).status_code == 404
    new_feed = re.search(r'(/calendar/[^"]+\.ics)', client.get("/my/calendar").text).group(1)
    assert new_feed != feed and len(parse(client.get(new_feed))) == 2

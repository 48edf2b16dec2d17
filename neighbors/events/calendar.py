"""iCalendar (.ics) for one event and for a person's private feed."""

from flask import current_app
from icalendar import Calendar
from icalendar import Event as CalendarEvent

from neighbors.core.links import absolute_url, site_host
from neighbors.events.models import EventStatus


def uid(event):
    """Stable per event, so calendar apps update the entry instead of adding another: named by
    the configured site, never by whichever address a request came to."""
    return f"event-{event.id}@{site_host()}"


def to_ical(events, name):
    calendar = Calendar()
    calendar.add("prodid", "-//Neighbors//Community volunteer service//ZH")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", current_app.config["DISPLAY_TIMEZONE"])
    for event in events:
        entry = CalendarEvent()
        entry.add("uid", uid(event))
        entry.add("dtstamp", event.changed_at)
        entry.add("last-modified", event.changed_at)
        entry.add("sequence", event.revision)  # grows with every change, as RFC 5545 asks
        entry.add("dtstart", event.starts_at)
        entry.add("dtend", event.ends_at)
        entry.add("summary", event.title)
        entry.add("location", ", ".join(filter(None, [event.venue, event.community.name])))
        if event.description:
            entry.add("description", event.description)
        entry.add("url", absolute_url("events.show_event", event_id=event.id))
        entry.add("status", "CANCELLED" if event.status == EventStatus.CANCELLED else "CONFIRMED")
        calendar.add_component(entry)
    return calendar.to_ical()

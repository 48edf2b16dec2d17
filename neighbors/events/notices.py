"""E-mails about events, one template each: templates/events/mail/<notice>.txt, whose first
line is the subject and the rest the body."""

import logging

from flask import render_template

from neighbors.core import outbox
from neighbors.core.links import absolute_url
from neighbors.core.timezone import to_local

logger = logging.getLogger(__name__)

NOTICES = ("promoted", "reminder", "cancelled")


def notify(person, event, notice):
    """Queue one e-mail in the person's language (people without e-mail are not written to)."""
    if notice not in NOTICES:
        raise ValueError(f"unknown notice {notice!r}")
    if not person.email:
        return
    link = absolute_url("events.show_event", event_id=event.id)
    when = to_local(event.starts_at).strftime("%Y-%m-%d %H:%M")
    with outbox.language_of(person):
        text = render_template(
            f"events/mail/{notice}.txt", person=person, event=event, when=when, link=link
        )
    subject, body = text.split("\n", 1)
    outbox.queue(person.email, subject, body)

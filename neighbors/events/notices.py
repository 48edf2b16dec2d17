"""Notices about events (promoted from the waitlist, reminders, cancellations), sent by each
person's channel through accounts' notify: templates/events/mail/<notice>.txt (first line the
subject, the rest the body) and templates/events/sms/<notice>.txt (one short text)."""

import logging

from neighbors.accounts import services as accounts
from neighbors.core.links import absolute_url
from neighbors.core.timezone import to_local

logger = logging.getLogger(__name__)

NOTICES = ("promoted", "reminder", "cancelled", "message")


def notify(person, event, notice, **extra):
    """Queue one notice in the person's language by their channel(s); returns the channels
    (none for a person with neither e-mail nor phone). extra: more values (a reminder's links,
    a message's text)."""
    if notice not in NOTICES:
        raise ValueError(f"unknown notice {notice!r}")
    return accounts.notify(
        person,
        f"events/{notice}",
        title=event.title,
        when=to_local(event.starts_at).strftime("%Y-%m-%d %H:%M"),
        venue=event.venue or "",
        link=absolute_url("events.show_event", event_id=event.id),
        reason=event.cancel_reason or "",
        **extra,
    )

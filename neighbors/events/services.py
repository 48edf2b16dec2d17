"""Events' public face: what other features, the pages, the API and the jobs call. The work is
done in queries.py (reading), lifecycle.py (staff create, change, publish, cancel; reminders),
signups.py (seats and the waitlist), notices.py (e-mails) and feeds.py (calendar feeds)."""

from neighbors.events.feeds import calendar_feed, feed_events
from neighbors.events.lifecycle import (
    MAX_CAPACITY,
    MAX_SERIES,
    cancel_event,
    create_event,
    create_series,
    publish_event,
    send_reminders,
    update_event,
)
from neighbors.events.messages import event_messages, messages_for, send_message
from neighbors.events.queries import (
    PUBLIC_STATUSES,
    EventFilter,
    ended_event_ids,
    get_event,
    list_events,
    locked_event,
    managed_communities,
    manages,
    my_events,
    my_signup,
    roster,
    staff_event,
    staff_events,
    waitlist_position,
)
from neighbors.events.replies import answer_reminder, read_reply, reply_links, reply_token
from neighbors.events.signups import (
    SignupResult,
    cancel_signup,
    check_in_time,
    release,
    sign_up,
)

__all__ = [
    "event_messages",
    "messages_for",
    "send_message",
    "answer_reminder",
    "read_reply",
    "reply_links",
    "reply_token",
    "MAX_CAPACITY",
    "MAX_SERIES",
    "PUBLIC_STATUSES",
    "EventFilter",
    "SignupResult",
    "calendar_feed",
    "cancel_event",
    "cancel_signup",
    "check_in_time",
    "create_event",
    "create_series",
    "ended_event_ids",
    "feed_events",
    "get_event",
    "list_events",
    "locked_event",
    "managed_communities",
    "manages",
    "my_events",
    "my_signup",
    "publish_event",
    "release",
    "roster",
    "send_reminders",
    "sign_up",
    "staff_event",
    "staff_events",
    "update_event",
    "waitlist_position",
]

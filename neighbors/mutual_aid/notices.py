"""The one way mutual aid tells people things: a message in their language, through the outbox.

Only e-mail for now; when people choose their channel (e-mail, SMS or both) this is the one
function to change."""

import logging

from neighbors.core import outbox

logger = logging.getLogger(__name__)


def notify(person, subject, body):
    """Queue a message to the person in the current unit of work; `subject` and `body` are
    callables, rendered in the person's language. Nothing is sent to a person without e-mail."""
    if person is None or not person.email or not person.active:
        return None
    with outbox.language_of(person):
        return outbox.queue(person.email, subject(), body())

"""Messages to a roster: staff of the event's community, or the coordinators of the organisation
that runs it, send a short message to everyone confirmed for it, by each person's channel; it is
shown on the event's page to them. Limited per event (ROSTER_MESSAGE_LIMIT) and audit-logged."""

import logging

from flask_babel import gettext as _
from sqlalchemy import select

from neighbors.accounts.models import User
from neighbors.core import audit, ratelimit
from neighbors.core.db import transaction
from neighbors.core.errors import Conflict, Invalid, TooManyAttempts
from neighbors.events.models import EventMessage, EventStatus, Signup, SignupStatus
from neighbors.events.notices import notify
from neighbors.events.queries import organiser_event
from neighbors.extensions import db

logger = logging.getLogger(__name__)

MESSAGE_MAX = 300


def send_message(actor, event_id, text):
    """Send a message to everyone confirmed for a published event the actor organises: staff of
    its community, or a coordinator of the organisation that runs it.

    Raises NotAuthenticated, NotAllowed, NotFound (another community's event), Invalid (empty
    or longer than 300 characters), Conflict (the event is not published), TooManyAttempts (too
    many messages for this event lately).
    """
    text = " ".join(str(text or "").split())
    if not 1 <= len(text) <= MESSAGE_MAX:
        message = _("Write a message of at most %(n)s characters.", n=MESSAGE_MAX)
        raise Invalid.from_fields({"text": message})
    organiser_event(actor, event_id)  # role and scope before anything else
    sent = ratelimit.Failures("ROSTER_MESSAGE_LIMIT", "event-message", event_id)
    wait = sent.retry_after()
    if wait:
        raise TooManyAttempts(
            _("Too many messages for this event: try again in %(seconds)s seconds.", seconds=wait),
            retry_after=wait,
        )
    with transaction():
        event = organiser_event(actor, event_id, lock=True)
        if event.status != EventStatus.PUBLISHED:
            raise Conflict(
                _("Only a published event's people can be written to."), code="event_closed"
            )
        people = db.session.scalars(
            select(User)
            .join(Signup, Signup.user_id == User.id)
            .where(
                Signup.event_id == event.id,
                Signup.status == SignupStatus.CONFIRMED,
                User.active.is_(True),
            )
            .order_by(Signup.id)
        ).all()
        told = sum(1 for person in people if notify(person, event, "message", text=text))
        message = EventMessage(event_id=event.id, author_id=actor.id, text=text, recipients=told)
        db.session.add(message)
        db.session.flush()
        audit.record(actor, "event.message", event, recipients=told, length=len(text))
    sent.failed()
    return message


def messages_for(user, event):
    """The messages of an event shown to this person: to someone confirmed for it (or who was
    when it was sent), newest first; none for anyone else."""
    if not getattr(user, "is_authenticated", False):
        return []
    confirmed = db.session.scalar(
        select(Signup.id).where(
            Signup.event_id == event.id,
            Signup.user_id == user.id,
            Signup.status == SignupStatus.CONFIRMED,
        )
    )
    if confirmed is None:
        return []
    return event_messages(event.id)


def event_messages(event_id):
    """An event's messages, newest first."""
    return db.session.scalars(
        select(EventMessage)
        .where(EventMessage.event_id == event_id)
        .order_by(EventMessage.id.desc())
    ).all()

"""Private calendar feeds: a token per person, and the events its address shows."""

import logging
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from neighbors.core import audit
from neighbors.core.db import transaction, utcnow
from neighbors.core.errors import NotFound
from neighbors.core.permissions import require_user
from neighbors.events.models import CalendarFeed, Event, EventStatus, Signup, SignupStatus
from neighbors.extensions import db

logger = logging.getLogger(__name__)


def calendar_feed(actor, *, renew=False):
    """The actor's private feed token; renew=True replaces it, so the old address stops working.

    Raises NotAuthenticated.
    """
    require_user(actor)
    with transaction():
        feed = db.session.get(CalendarFeed, actor.id)
        if feed is None or renew:
            if feed is None:
                feed = CalendarFeed(user_id=actor.id)
                db.session.add(feed)
            feed.token, feed.created_at = secrets.token_urlsafe(32), utcnow()
            audit.record(actor, "calendar.renew")
    return feed.token


def feed_events(token):
    """The owner and the events of a private feed: confirmed, from 90 days ago on.

    Raises NotFound for an unknown or replaced token.
    """
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.token == token))
    if feed is None or not token:
        raise NotFound(_("Not found."))
    events = db.session.scalars(
        select(Event)
        .join(Signup, Signup.event_id == Event.id)
        .options(joinedload(Event.community))
        .where(
            Signup.user_id == feed.user_id,
            Signup.status == SignupStatus.CONFIRMED,
            Event.status != EventStatus.DRAFT,
            Event.ends_at >= utcnow() - timedelta(days=90),
        )
        .order_by(Event.starts_at)
        .limit(1000)
    ).all()
    return events

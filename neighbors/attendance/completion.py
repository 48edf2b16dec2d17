"""Completing events: whoever never came is a no-show, and everyone present gets a service
record in hours for the minutes they were there; also the scheduler's auto-completion and the
outcome of each past event on "My events"."""

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from flask_babel import gettext as _
from sqlalchemy import select, update

from neighbors.core import audit
from neighbors.core.db import transaction, utcnow
from neighbors.core.errors import Conflict
from neighbors.core.timezone import to_local
from neighbors.events import services as events
from neighbors.events.models import Event, EventStatus, Signup, SignupStatus
from neighbors.extensions import db
from neighbors.hours import services as hours

logger = logging.getLogger(__name__)


# -- presence -> minutes -----------------------------------------------------------------------


def attended_minutes(starts_at, ends_at, checked_in_at, checked_out_at):
    """Whole minutes checked in, capped to the event's time; no check-out counts to the end."""
    if checked_in_at is None:
        return 0
    begin = max(checked_in_at, starts_at)
    end = min(checked_out_at or ends_at, ends_at)
    return max(int((end - begin).total_seconds() // 60), 0)


def records_for_event(actor, event):
    """Pending records for everyone who checked in (in the caller's unit of work).

    A person already recorded for the event is left alone, so this can run again safely (after
    a late check-in, say). A missing check-out counts until the event's end or now, whichever
    is sooner. Whoever checked in gets a record, of at least one minute (in and out within the
    same minute, or checked in at the very end): their presence stays on record and the staff
    who confirm it see it and can correct or reject it, where dropping it would lose it unseen.
    Returns the number of records made.
    """
    until = min(event.ends_at, utcnow())
    recorded = hours.recorded_people(event.id)
    signups = db.session.scalars(
        select(Signup)
        .where(
            Signup.event_id == event.id,
            Signup.status == SignupStatus.CONFIRMED,
            Signup.checked_in_at.is_not(None),
        )
        .order_by(Signup.id)
    ).all()
    made = 0
    for signup in signups:
        if signup.user_id in recorded:
            continue
        minutes = attended_minutes(
            event.starts_at, event.ends_at, signup.checked_in_at, signup.checked_out_at or until
        )
        hours.record_service(
            actor,
            organisation_id=event.organisation_id,
            user_id=signup.user_id,
            event_id=event.id,
            community_id=event.community_id,
            category=event.category,
            activity=event.title,
            place=event.venue,
            organiser=(event.organisation or event.community).name,
            served_on=to_local(event.starts_at).date(),
            minutes=max(minutes, 1),
        )
        made += 1
    db.session.flush()
    return made


# -- completing --------------------------------------------------------------------------------


class Completion(NamedTuple):
    """What completing an event did: the event, service records made, people marked no-show."""

    event: Event
    records: int
    no_shows: int


def complete_event(actor, event_id):
    """Mark a published event that has ended as completed: whoever never checked in is a
    no-show, and everyone who did gets a pending service record for the time they were there.

    Returns a Completion with the counts. Raises NotAllowed, NotFound, Conflict (not published,
    or not ended yet: completing earlier would cut the hours of people still there).
    """
    with transaction():
        event = events.organiser_event(actor, event_id, lock=True)
        if event.status != EventStatus.PUBLISHED:
            raise Conflict(_("Only a published event can be completed."), code="not_published")
        if event.ends_at > utcnow():
            when = to_local(event.ends_at).strftime("%Y-%m-%d %H:%M")
            raise Conflict(
                _(
                    "This event ends at %(when)s. Complete it after that, so that everyone "
                    "who is there gets their hours.",
                    when=when,
                ),
                code="not_ended",
            )
        records, no_shows = _complete(actor, event)
    return Completion(event, records, no_shows)


def complete_past_events(now, after, limit=500):
    """The scheduler's part: complete published events that ended `after` ago or longer, each in
    its own unit of work (actor: the system). Returns how many."""
    done = 0
    for event_id in events.ended_event_ids(now - after, limit):
        try:
            with transaction():
                event = events.locked_event(event_id)
                if event.status == EventStatus.PUBLISHED:  # staff may have completed it
                    _complete(None, event)
                    done += 1
        except Exception:  # one event's trouble must not stop the others, run after run
            logger.exception("event %s could not be completed", event_id)
    return done


def _complete(actor, event):
    """Complete a locked, published event in the caller's unit of work.

    Returns (service records made, no-shows marked)."""
    event.status = EventStatus.COMPLETED
    no_shows = db.session.execute(
        update(Signup)
        .where(
            Signup.event_id == event.id,
            Signup.status == SignupStatus.CONFIRMED,
            Signup.checked_in_at.is_(None),
        )
        .values(no_show=True)
        .execution_options(synchronize_session=False)
    ).rowcount
    records = records_for_event(actor, event)
    audit.record(actor, "event.complete", event, no_shows=no_shows, records=records)
    return records, no_shows


# -- how past events went ----------------------------------------------------------------------


class Outcome(StrEnum):
    """How a past event went for one person, as "My events" says it."""

    ATTENDED = "attended"  # with a service record: its hours and status
    CHECKED_IN = "checked_in"  # came; the hours are made when the event is completed
    NO_SHOW = "no_show"
    NOT_RECORDED = "not_recorded"  # not completed yet and no check-in: attendance to come
    NO_PLACE = "no_place"  # still on the waitlist when it happened
    CANCELLED = "cancelled"  # the organiser cancelled the event


@dataclass
class PastEvent:
    signup: Signup
    event: Event
    outcome: Outcome
    record: object = None  # the service record that counts (or the one waiting), if any


def my_past_events(actor, limit=50):
    """The actor's past events, latest first, each with its outcome and service record, in a
    fixed number of queries. Raises NotAuthenticated."""
    rows = events.my_events(actor, upcoming=False, limit=limit)
    records = hours.event_records(actor.id, [signup.event_id for signup, _position in rows])
    return [_past(signup, records.get(signup.event_id)) for signup, _position in rows]


def _past(signup, record):
    event = signup.event
    if event.status == EventStatus.CANCELLED:
        outcome = Outcome.CANCELLED
    elif record is not None:
        outcome = Outcome.ATTENDED
    elif signup.status == SignupStatus.WAITLISTED:
        outcome = Outcome.NO_PLACE
    elif signup.no_show:
        outcome = Outcome.NO_SHOW
    elif signup.checked_in_at is not None:
        outcome = Outcome.CHECKED_IN
    else:
        outcome = Outcome.NOT_RECORDED
    return PastEvent(signup, event, outcome, record)

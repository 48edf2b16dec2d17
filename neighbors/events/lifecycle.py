"""An event's life as staff lead it: creating (one or a series), changing, publishing and
cancelling; and the scheduler's reminders."""

import logging
from datetime import timedelta

from dateutil.relativedelta import relativedelta
from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from neighbors.accounts.models import User
from neighbors.areas import services as areas
from neighbors.core import audit
from neighbors.core.db import transaction, utcnow
from neighbors.core.errors import Conflict, Invalid
from neighbors.core.permissions import (
    Role,
    organised_ids,
    require_community_staff,
    require_role,
    require_user,
)
from neighbors.core.timezone import plausible, to_local
from neighbors.events.models import (
    ACTIVE,
    Category,
    Event,
    EventStatus,
    Reminder,
    Series,
    Signup,
    SignupStatus,
)
from neighbors.events.notices import notify
from neighbors.events.queries import locked_event, staff_event
from neighbors.events.replies import reply_links
from neighbors.events.signups import fill_seats
from neighbors.extensions import db
from neighbors.stations import services as stations

logger = logging.getLogger(__name__)

MAX_CAPACITY = 100_000
MAX_SERIES = 24
EDITABLE = (EventStatus.DRAFT, EventStatus.PUBLISHED)
FIELDS = (
    "title",
    "category",
    "venue",
    "description",
    "starts_at",
    "ends_at",
    "capacity",
    "signup_opens_at",
    "signup_closes_at",
    "cancel_cutoff_at",
    "dedication_day",
)


def _checked(values):
    """The event fields, checked together. Raises Invalid naming every bad field."""
    problems = {}
    for name, limit in (("title", 200), ("venue", 200), ("description", 5000)):
        value = (values.get(name) or "").strip()
        if (name == "title" and not value) or len(value) > limit:
            problems[name] = _("Enter 1 to %(n)s characters.", n=limit)
        values[name] = value
    try:
        values["category"] = Category(values.get("category"))
    except ValueError:
        problems["category"] = _("Choose one of the six lines of work.")
    capacity = values.get("capacity")
    if (
        not isinstance(capacity, int)
        or isinstance(capacity, bool)
        or not (1 <= capacity <= MAX_CAPACITY)
    ):
        problems["capacity"] = _("Enter a whole number from 1 to %(n)s.", n=MAX_CAPACITY)
    for name in ("starts_at", "ends_at", "signup_opens_at", "signup_closes_at", "cancel_cutoff_at"):
        if not plausible(values.get(name)):
            problems[name] = _("Enter a time between the years 2000 and 2100.")
            values[name] = None
    if any(ch < " " for ch in values["title"] + values["venue"]):
        problems["title"] = _("The title and venue must be one line.")
    starts, ends = values.get("starts_at"), values.get("ends_at")
    if starts is None and "starts_at" not in problems:
        problems["starts_at"] = _("Enter the start.")
    if ends is None and "ends_at" not in problems:
        problems["ends_at"] = _("Enter the end.")
    if starts and ends:
        if ends <= starts:
            problems["ends_at"] = _("The end must be after the start.")
        elif ends - starts > timedelta(days=7):
            problems["ends_at"] = _("An event lasts at most 7 days.")
        opens, closes = values.get("signup_opens_at"), values.get("signup_closes_at")
        if closes and closes > ends:
            problems["signup_closes_at"] = _("Sign-up must close before the event ends.")
        if opens and (opens >= (closes or starts)):
            problems["signup_opens_at"] = _("Sign-up must open before it closes.")
        cutoff = values.get("cancel_cutoff_at")
        if cutoff and cutoff > starts:
            problems["cancel_cutoff_at"] = _("The cancellation cut-off must be before the start.")
    values["dedication_day"] = bool(values.get("dedication_day"))
    if problems:
        raise Invalid.from_fields(problems)
    return {name: values.get(name) for name in FIELDS}


def create_event(actor, *, community_code, organisation_id=None, room_id=None, **fields):
    """Create a draft event in a community the actor manages, or in the name of an organisation
    of that community that the actor coordinates (staff of the community then publish it); in a
    room of a station that serves the community if `room_id` is given.

    Raises NotAllowed, NotFound (community out of scope or unknown), Invalid (also a room
    unknown, elsewhere, or smaller than the capacity), Conflict (room_taken).
    """
    if organisation_id is None:
        require_role(actor, Role.STAFF)
    require_user(actor)
    values = _checked(fields)
    with transaction():
        community = areas.community_by_code(community_code)
        if organisation_id is None or organisation_id not in organised_ids(actor):
            require_community_staff(actor, community.id)
        event = Event(
            community_id=community.id,
            organisation_id=organisation_id,
            created_by_id=actor.id,
            **values,
        )
        _place(event, room_id)
        db.session.add(event)
        _flush_room()
        if organisation_id is not None:
            _require_organisation_of(event, community)
        audit.record(actor, "event.create", event)
    return event


def _require_organisation_of(event, community):
    """An event runs in the name of an active organisation of its own community."""
    organisation = event.organisation
    if organisation is None or organisation.community_id != community.id:
        message = _("Choose an organisation of this community.")
        raise Invalid.from_fields({"organisation": message})
    if organisation.status != "active":
        raise Invalid.from_fields({"organisation": _("The organisation is not approved yet.")})


def _place(event, room_id):
    """Put the event in this room (None: in none), after checking that the room serves the
    event's community, holds its capacity and is free at its time. Raises Invalid, Conflict.

    The check of the time reads committed events: on SQLite the write transaction began
    IMMEDIATE, so no other writer can take the room before this one commits; on PostgreSQL
    two writers may both pass it, and the exclusion constraint refuses the second (_flush_room).
    """
    if room_id is None:
        event.room = None
        return
    room = stations.room_for_event(room_id, event.community_id)
    if event.capacity > room.capacity:
        message = _(
            "The room holds %(n)s people; the event cannot have more places.", n=room.capacity
        )
        raise Invalid.from_fields({"capacity": message}, code="capacity_exceeds_room")
    clash = _clashing_event(event, room.id)
    if clash is not None:
        raise _room_taken()
    event.room = room


def _clashing_event(event, room_id):
    """The id of an event (not cancelled) that holds the room at an overlapping time, or None."""
    with db.session.no_autoflush:
        return db.session.scalar(
            select(Event.id)
            .where(
                Event.room_id == room_id,
                Event.status != EventStatus.CANCELLED,
                Event.id != (event.id or 0),
                Event.starts_at < event.ends_at,
                Event.ends_at > event.starts_at,
            )
            .limit(1)
        )


def _room_taken():
    message = _("Another event holds this room at that time.")
    return Conflict.from_fields({"room": message}, code="room_taken")


def _flush_room():
    """Flush, turning PostgreSQL's refusal of a double-booked room into room_taken."""
    try:
        db.session.flush()
    except IntegrityError as error:
        if stations.is_room_clash(error):
            raise _room_taken() from None
        raise


def create_series(actor, *, community_code, frequency, count, room_id=None, **fields):
    """Create `count` draft events, weekly or monthly from the first; each is then its own event.

    Monthly keeps the day of the month (the 31st becomes the month's last day) and the local
    clock time. Raises NotAllowed, NotFound, Invalid, Conflict (room_taken for any of them).
    """
    require_role(actor, Role.STAFF)
    if frequency not in ("weekly", "monthly"):
        raise Invalid(_("Choose weekly or monthly."), fields={"frequency": _("Choose one.")})
    if not isinstance(count, int) or not 2 <= count <= MAX_SERIES:
        message = _("A series has 2 to %(n)s events.", n=MAX_SERIES)
        raise Invalid.from_fields({"count": message})
    first = _checked(dict(fields))
    step = relativedelta(weeks=1) if frequency == "weekly" else relativedelta(months=1)
    with transaction():
        community = areas.community_by_code(community_code)
        require_community_staff(actor, community.id)
        series = Series(
            community_id=community.id,
            title=first["title"],
            created_by_id=actor.id,
            rule=f"{frequency} x{count}",
        )
        db.session.add(series)
        events = []
        for number in range(count):
            values = dict(first)
            for name in (
                "starts_at",
                "ends_at",
                "signup_opens_at",
                "signup_closes_at",
                "cancel_cutoff_at",
            ):
                if first[name]:
                    # Step in local time, so that 09:00 stays 09:00 whatever the offset does.
                    local = to_local(first[name]) + step * number
                    values[name] = local.astimezone(first[name].tzinfo)
            event = Event(
                community_id=community.id, created_by_id=actor.id, series=series, **values
            )
            _place(event, room_id)
            db.session.add(event)
            _flush_room()
            events.append(event)
        audit.record(actor, "event.create_series", None, series=series.id, count=count)
    return events


def update_event(actor, event_id, **changes):
    """Change a draft or published event. A raised capacity promotes from the waitlist.
    `room_id` moves it to another room (None: out of its room); its room, kept or new, must be
    free at its time and hold its capacity.

    Raises NotAllowed, NotFound, Invalid, Conflict (capacity below the confirmed count, an
    event that is cancelled or completed, room_taken).
    """
    with transaction():
        event = staff_event(actor, event_id, lock=True)
        if event.status not in EDITABLE:
            raise Conflict(
                _("A cancelled or completed event cannot be changed."), code="event_closed"
            )
        values = {name: getattr(event, name) for name in FIELDS}
        values.update({k: v for k, v in changes.items() if k in FIELDS})
        values = _checked(values)
        if values["capacity"] < event.confirmed_count:
            message = _(
                "%(n)s people are already confirmed; the capacity cannot be lower.",
                n=event.confirmed_count,
            )
            raise Conflict.from_fields({"capacity": message}, code="capacity_below_confirmed")
        room_id = changes.get("room_id", event.room_id)
        with db.session.no_autoflush:
            for name, value in values.items():
                setattr(event, name, value)
            _place(event, room_id)
        _changed(event)
        _flush_room()
        promoted = fill_seats(event)
        audit.record(actor, "event.update", event, promoted=len(promoted))
    return event


def _changed(event):
    event.revision, event.changed_at = event.revision + 1, utcnow()


def publish_event(actor, event_id):
    """Publish a draft. Raises NotAllowed, NotFound, Conflict (not a draft)."""
    with transaction():
        event = staff_event(actor, event_id, lock=True)
        if event.status != EventStatus.DRAFT:
            raise Conflict(_("Only a draft can be published."), code="not_a_draft")
        event.status, event.published_at = EventStatus.PUBLISHED, utcnow()
        _changed(event)
        audit.record(actor, "event.publish", event)
    return event


def cancel_event(actor, event_id, reason):
    """Cancel an event; everyone signed up or waiting is told once, with the reason.

    Raises NotAllowed, NotFound, Invalid (no reason), Conflict (already cancelled or completed).
    """
    reason = (reason or "").strip()
    if not 1 <= len(reason) <= 500:
        message = _("Give the reason, in at most 500 characters.")
        raise Invalid.from_fields({"reason": message})
    with transaction():
        event = staff_event(actor, event_id, lock=True)
        if event.status not in EDITABLE:
            raise Conflict(_("This event is already cancelled or completed."), code="event_closed")
        event.status, event.cancel_reason = EventStatus.CANCELLED, reason
        _changed(event)
        people = db.session.scalars(
            select(User)
            .join(Signup, Signup.user_id == User.id)
            .where(Signup.event_id == event.id, Signup.status.in_(ACTIVE))
        ).all()
        for person in people:
            notify(person, event, "cancelled")
        audit.record(actor, "event.cancel", event, notified=len(people))
    return event


def send_reminders(now, lead_hours):
    """Remind everyone confirmed for an event that starts within each lead time (hours), once
    per lead time, each event in its own unit of work. An event that is already inside a
    shorter lead time gets only that reminder. Returns the number of people told."""
    queued = 0
    leads = sorted(lead_hours)
    for shorter, hours_before in zip([0, *leads], leads, strict=False):
        window = (now + timedelta(hours=shorter), now + timedelta(hours=hours_before))
        due = db.session.scalars(
            select(Event.id).where(
                Event.status == EventStatus.PUBLISHED,
                Event.starts_at > window[0],
                Event.starts_at <= window[1],
                ~exists().where(
                    Reminder.event_id == Event.id,
                    Reminder.hours_before == hours_before,
                    Reminder.starts_at == Event.starts_at,
                ),
            )
        ).all()
        for event_id in due:
            queued += _remind(event_id, hours_before, window)
    return queued


def _remind(event_id, hours_before, window):
    with transaction():
        event = locked_event(event_id)
        sent = db.session.scalar(
            select(Reminder.id).where(
                Reminder.event_id == event.id,
                Reminder.hours_before == hours_before,
                Reminder.starts_at == event.starts_at,
            )
        )
        if sent or event.status != EventStatus.PUBLISHED:
            return 0
        if not window[0] < event.starts_at <= window[1]:  # moved meanwhile
            return 0
        signups = db.session.scalars(
            select(Signup)
            .join(User, Signup.user_id == User.id)
            .where(
                Signup.event_id == event.id,
                Signup.status == SignupStatus.CONFIRMED,
                User.active.is_(True),
            )
            .order_by(Signup.id)
            .options(joinedload(Signup.user))
        ).all()
        people = [signup.user for signup in signups]
        # The reminder asks "still coming?" with links that answer without signing in, until
        # the person has answered.
        told = sum(
            1
            for signup in signups
            if notify(
                signup.user,
                event,
                "reminder",
                **(reply_links(signup) if signup.reply is None else {}),
            )
        )
        db.session.add(
            Reminder(
                event_id=event.id,
                hours_before=hours_before,
                starts_at=event.starts_at,
                recipients=len(people),
            )
        )
    return told

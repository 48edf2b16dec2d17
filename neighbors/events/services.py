"""Events: publishing, the public list, sign-ups and the waitlist, staff rosters.

Seats are counted on the event row and taken by one conditional UPDATE, so the database decides
who gets a seat: on PostgreSQL the row lock orders concurrent sign-ups, on SQLite the IMMEDIATE
write transaction does; a CHECK constraint refuses any write that would overbook.
"""

import base64
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import NamedTuple

from dateutil.relativedelta import relativedelta
from flask_babel import gettext as _
from sqlalchemy import (
    String,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, contains_eager, joinedload, make_transient_to_detached

from neighbors.accounts.models import User
from neighbors.areas import services as areas
from neighbors.areas.models import Community, Street
from neighbors.core import audit, outbox
from neighbors.core.audit import AuditEntry
from neighbors.core.db import UTCDateTime, is_postgresql, transaction, utcnow
from neighbors.core.errors import Conflict, Invalid, NotFound
from neighbors.core.links import absolute_url
from neighbors.core.permissions import (
    Role,
    has_role,
    managed_community_ids,
    require_community_staff,
    require_role,
    require_user,
)
from neighbors.core.timezone import parse_iso, plausible, to_local
from neighbors.events.models import (
    ACTIVE,
    CalendarFeed,
    Category,
    Event,
    EventStatus,
    Reminder,
    Series,
    Signup,
    SignupStatus,
)
from neighbors.extensions import db

logger = logging.getLogger(__name__)

MAX_CAPACITY = 100_000
MAX_SERIES = 24
PUBLIC_STATUSES = (EventStatus.PUBLISHED, EventStatus.COMPLETED, EventStatus.CANCELLED)
EDITABLE = (EventStatus.DRAFT, EventStatus.PUBLISHED)


# -- reading -----------------------------------------------------------------------------------


def get_event(event_id, actor=None):
    """An event anyone may see; a draft only for staff of its community. Raises NotFound."""
    event = db.session.scalar(
        select(Event).options(joinedload(Event.community)).where(Event.id == event_id)
    )
    unpublished = event is not None and event.published_at is None
    if event is None or (unpublished and not manages(actor, event)):
        raise NotFound(_("This event does not exist or is not published."))
    return event


def manages(actor, event):
    """True when the actor is staff of the event's community (or an admin)."""
    if not has_role(actor, Role.STAFF):
        return False
    scope = managed_community_ids(actor)
    return scope is None or event.community_id in scope


@dataclass
class EventFilter:
    """What the public list can be narrowed by; times are aware (UTC) bounds."""

    community: str | None = None
    street: str | None = None
    category: str | None = None
    starts_from: object = None
    starts_before: object = None
    text: str | None = None
    status: str = EventStatus.PUBLISHED


def list_events(filters, *, actor=None, cursor=None, limit=20):
    """One page of events in start order, and the cursor of the next page (None at the end).

    Keyset pagination on (starts_at, id): every page costs the same at 200,000 events.
    Raises Invalid for a bad filter or cursor; drafts are listed only for their staff.
    """
    limit = max(1, min(int(limit), 100))
    query = (
        select(Event)
        .join(Event.community)
        .options(contains_eager(Event.community))
        .order_by(Event.starts_at, Event.id)
    )
    query = _apply_filters(query, filters, actor)
    if cursor:
        starts_at, event_id = _decode_cursor(cursor)
        query = query.where(tuple_(Event.starts_at, Event.id) > tuple_(starts_at, event_id))
    events = db.session.scalars(query.limit(limit + 1)).all()
    next_cursor = _encode_cursor(events[limit - 1]) if len(events) > limit else None
    return events[:limit], next_cursor


def _apply_filters(query, filters, actor):
    try:
        status = EventStatus(filters.status or EventStatus.PUBLISHED)
    except ValueError:
        raise Invalid(_("Unknown status."), fields={"status": _("Unknown status.")}) from None
    query = query.where(Event.status == status)
    if status != EventStatus.DRAFT:
        query = query.where(Event.published_at.is_not(None))  # a cancelled draft stays private
    else:
        require_role(actor, Role.STAFF)
        scope = managed_community_ids(actor)
        if scope is not None:
            query = query.where(Event.community_id.in_(scope))
    if filters.category:
        try:
            query = query.where(Event.category == Category(filters.category))
        except ValueError:
            message = _("Unknown category.")
            raise Invalid(message, fields={"category": message}) from None
    if filters.community:
        query = query.where(Community.code == filters.community)
    if filters.street:
        query = query.where(
            Event.community_id.in_(
                select(Community.id).join(Community.street).where(Street.code == filters.street)
            )
        )
    if filters.starts_from:
        query = query.where(Event.starts_at >= filters.starts_from)
    if filters.starts_before:
        query = query.where(Event.starts_at < filters.starts_before)
    if filters.text:
        pattern = "%" + filters.text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
        query = query.where(Event.title.ilike(f"%{pattern}%", escape="\\"))
    return query


def _encode_cursor(event):
    raw = f"{event.starts_at.isoformat()}|{event.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor):
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        starts_at, event_id = raw.split("|")
        starts_at, event_id = parse_iso(starts_at), int(event_id)
        if not (plausible(starts_at) and 0 < event_id < 2**31):
            raise ValueError("cursor out of range")
        return starts_at, event_id
    except (ValueError, UnicodeDecodeError):
        raise Invalid(
            _("The page cursor is not valid."), fields={"cursor": _("Not valid.")}
        ) from None


def my_signup(actor, event):
    """The actor's active sign-up for this event with its waitlist position, or (None, None)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None, None
    signup = db.session.scalar(
        select(Signup).where(
            Signup.event_id == event.id, Signup.user_id == actor.id, Signup.status.in_(ACTIVE)
        )
    )
    return signup, (_position(signup) if signup else None)


def waitlist_position(signup):
    """1 for the head of the waitlist; None for a confirmed or cancelled sign-up."""
    return _position(signup)


def _position(signup):
    if signup.status != SignupStatus.WAITLISTED:
        return None
    return db.session.scalar(
        select(func.count()).where(
            Signup.event_id == signup.event_id,
            Signup.status == SignupStatus.WAITLISTED,
            Signup.waitlist_seq <= signup.waitlist_seq,
        )
    )


def my_events(actor, *, upcoming=True, limit=100):
    """The actor's active sign-ups with their events and waitlist positions: upcoming ones in
    start order, or past ones (ended, or completed) latest first.

    Raises NotAuthenticated.
    """
    require_user(actor)
    ahead = aliased(Signup)
    position = (
        select(func.count())
        .where(
            ahead.event_id == Signup.event_id,
            ahead.status == SignupStatus.WAITLISTED,
            ahead.waitlist_seq <= Signup.waitlist_seq,
        )
        .correlate(Signup)
        .scalar_subquery()
    )
    now = utcnow()
    query = (
        select(Signup, case((Signup.status == SignupStatus.WAITLISTED, position)))
        .join(Signup.event)
        .options(contains_eager(Signup.event).joinedload(Event.community))
        .where(Signup.user_id == actor.id, Signup.status.in_(ACTIVE))
    )
    over = or_(Event.ends_at < now, Event.status == EventStatus.COMPLETED)
    if upcoming:
        query = query.where(~over).order_by(Event.starts_at, Event.id)
    else:
        query = query.where(over).order_by(Event.starts_at.desc(), Event.id.desc())
    return db.session.execute(query.limit(limit)).all()


def roster(actor, event_id):
    """An event and its active sign-ups (confirmed first, then the waitlist in order) with names.

    Raises NotAllowed (not staff), NotFound (another community's event).
    """
    event = staff_event(actor, event_id)
    signups = db.session.scalars(
        select(Signup)
        .options(joinedload(Signup.user))
        .where(Signup.event_id == event.id, Signup.status.in_(ACTIVE))
        .order_by(
            case((Signup.status == SignupStatus.CONFIRMED, 0), else_=1),
            case((Signup.status == SignupStatus.WAITLISTED, Signup.waitlist_seq), else_=0),
            Signup.confirmed_at,
            Signup.id,
        )
    ).all()
    positions, waiting = {}, 0
    for signup in signups:
        if signup.status == SignupStatus.WAITLISTED:
            waiting += 1
            positions[signup.id] = waiting
    return event, signups, positions


def staff_events(actor, *, limit=200):
    """Events of the communities the actor manages, newest start first. Raises NotAllowed."""
    require_role(actor, Role.STAFF)
    query = (
        select(Event)
        .options(joinedload(Event.community))
        .order_by(Event.starts_at.desc(), Event.id.desc())
    )
    scope = managed_community_ids(actor)
    if scope is not None:
        query = query.where(Event.community_id.in_(scope))
    return db.session.scalars(query.limit(limit)).all()


def managed_communities(actor):
    """The communities the actor may create events for, for a select box. Raises NotAllowed."""
    require_role(actor, Role.STAFF)
    scope = managed_community_ids(actor)
    query = select(Community).order_by(Community.code)
    if scope is not None:
        query = query.where(Community.id.in_(scope))
    return db.session.scalars(query).all()


def locked_event(event_id, lock=True):
    """The event, freshly read, its row locked until commit (unless lock=False), or None.

    The one way to lock an event: seats, waitlists and completion all decide under this lock."""
    query = select(Event).where(Event.id == event_id).execution_options(populate_existing=True)
    return db.session.scalar(query.with_for_update() if lock else query)


def ended_event_ids(ended_by, limit=500):
    """Ids of published events that ended by this time, the earliest first."""
    return db.session.scalars(
        select(Event.id)
        .where(Event.status == EventStatus.PUBLISHED, Event.ends_at <= ended_by)
        .order_by(Event.ends_at)
        .limit(limit)
    ).all()


def staff_event(actor, event_id, lock=False):
    """An event of a community the actor manages, its row locked until commit when asked.

    Raises NotAllowed, NotFound."""
    event = locked_event(event_id, lock)
    if event is None:
        require_role(actor, Role.STAFF)
        raise NotFound(_("Not found."))
    require_community_staff(actor, event.community_id)
    return event


# -- staff: creating and changing events -------------------------------------------------------

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
        raise Invalid(next(iter(problems.values())), fields=problems)
    return {name: values.get(name) for name in FIELDS}


def create_event(actor, *, community_code, **fields):
    """Create a draft event in a community the actor manages.

    Raises NotAllowed, NotFound (community out of scope or unknown), Invalid.
    """
    require_role(actor, Role.STAFF)
    values = _checked(fields)
    with transaction():
        community = areas.community_by_code(community_code)
        require_community_staff(actor, community.id)
        event = Event(community_id=community.id, created_by_id=actor.id, **values)
        db.session.add(event)
        db.session.flush()
        audit.record(actor, "event.create", event)
    return event


def create_series(actor, *, community_code, frequency, count, **fields):
    """Create `count` draft events, weekly or monthly from the first; each is then its own event.

    Monthly keeps the day of the month (the 31st becomes the month's last day) and the local
    clock time. Raises NotAllowed, NotFound, Invalid.
    """
    require_role(actor, Role.STAFF)
    if frequency not in ("weekly", "monthly"):
        raise Invalid(_("Choose weekly or monthly."), fields={"frequency": _("Choose one.")})
    if not isinstance(count, int) or not 2 <= count <= MAX_SERIES:
        message = _("A series has 2 to %(n)s events.", n=MAX_SERIES)
        raise Invalid(message, fields={"count": message})
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
            db.session.add(event)
            events.append(event)
        db.session.flush()
        audit.record(actor, "event.create_series", None, series=series.id, count=count)
    return events


def update_event(actor, event_id, **changes):
    """Change a draft or published event. A raised capacity promotes from the waitlist.

    Raises NotAllowed, NotFound, Invalid, Conflict (capacity below the confirmed count, or an
    event that is cancelled or completed).
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
            raise Conflict(message, code="capacity_below_confirmed", fields={"capacity": message})
        for name, value in values.items():
            setattr(event, name, value)
        _changed(event)
        db.session.flush()
        promoted = _fill_seats(event)
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
        raise Invalid(message, fields={"reason": message})
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
            _notify(person, event, "cancelled")
        audit.record(actor, "event.cancel", event, notified=len(people))
    return event


def send_reminders(now, lead_hours):
    """Remind everyone confirmed for an event that starts within each lead time (hours), once
    per lead time, each event in its own unit of work. An event that is already inside a
    shorter lead time gets only that reminder. Returns the number of e-mails queued."""
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
        for person in people:
            _notify(person, event, "reminder")
        db.session.add(
            Reminder(
                event_id=event.id,
                hours_before=hours_before,
                starts_at=event.starts_at,
                recipients=len(people),
            )
        )
    return sum(1 for person in people if person.email)


# -- volunteers: sign-up and cancel ------------------------------------------------------------


def _open_for_signup(now):
    return (
        Event.status == EventStatus.PUBLISHED,
        Event.starts_at > now,
        or_(Event.signup_opens_at.is_(None), Event.signup_opens_at <= now),
        or_(Event.signup_closes_at.is_(None), Event.signup_closes_at > now),
    )


class SignupResult(NamedTuple):
    signup: Signup
    created: bool  # False: the person was signed up already, and this is that sign-up
    position: int | None  # place on the waitlist; None with a seat


def sign_up(actor, event_id):
    """Take a seat, or a place on the waitlist when the event is full.

    Returns a SignupResult; a repeated request returns the existing sign-up (created=False).
    Raises NotAuthenticated, NotFound, Conflict (event closed, cancelled, past or not open yet).
    """
    require_user(actor)
    try:
        with transaction():
            existing = _active_signup(actor.id, event_id)
            now = utcnow()
            if existing and existing.event.status == EventStatus.PUBLISHED:
                return SignupResult(existing, False, _position(existing))
            if existing:
                raise _why_closed(actor, event_id, now)
            take = _take_place_postgresql if is_postgresql() else _take_place
            taken = take(actor, event_id, now)
            if taken is None:
                raise _why_closed(actor, event_id, now)
    except IntegrityError:
        # The same person's other click won the race: theirs is the sign-up.
        existing = _active_signup(actor.id, event_id)
        if existing is None:
            raise
        return SignupResult(existing, False, _position(existing))
    return SignupResult(*taken)


def _seat_update(event_id, now):
    """The one UPDATE that decides: a seat while seats are free and nobody waits, else the next
    waitlist ticket. It takes the event row's lock, which orders concurrent sign-ups, and
    returns (waitlist_count, waitlist_seq): a seat leaves waitlist_count at 0, a waitlist place
    always makes it 1 or more. No row: the event is not open for sign-up."""
    seat_free = and_(Event.confirmed_count < Event.capacity, Event.waitlist_count == 0)
    gets_seat, waits = case((seat_free, 1), else_=0), case((seat_free, 0), else_=1)
    return (
        update(Event)
        .where(Event.id == event_id, *_open_for_signup(now))
        .values(
            confirmed_count=Event.confirmed_count + gets_seat,
            waitlist_count=Event.waitlist_count + waits,
            waitlist_seq=Event.waitlist_seq + waits,
        )
        .returning(Event.id, Event.waitlist_count, Event.waitlist_seq)
    )


def _take_place(actor, event_id, now):
    """Take a place with the ORM: (sign-up, True, waitlist position), or None when closed."""
    row = db.session.execute(
        _seat_update(event_id, now).execution_options(synchronize_session=False)
    ).first()
    if row is None:
        return None
    _id, waitlist_count, ticket = row
    signup = Signup(event_id=event_id, user_id=actor.id, created_at=now)
    if waitlist_count == 0:
        signup.status, signup.confirmed_at = SignupStatus.CONFIRMED, now
    else:
        signup.status, signup.waitlist_seq = SignupStatus.WAITLISTED, ticket
    db.session.add(signup)
    db.session.flush()
    audit.record(actor, "signup.create", signup, status=str(signup.status))
    # A new waitlist place is the last: its position is the length of the queue.
    return signup, True, waitlist_count or None


def _take_place_postgresql(actor, event_id, now):
    """The same as _take_place in one statement (UPDATE, then INSERTs fed by its RETURNING),
    so the event row is locked for one round trip and the commit, not for four."""
    seat = _seat_update(event_id, now).cte("seat")
    got_seat = seat.c.waitlist_count == 0
    signups, entries = Signup.__table__, AuditEntry.__table__
    at = literal(now, UTCDateTime())
    new = (
        insert(signups)
        .from_select(
            [
                "event_id",
                "user_id",
                "status",
                "waitlist_seq",
                "created_at",
                "confirmed_at",
                "walk_in",
                "no_show",
            ],
            select(
                seat.c.id,
                literal(actor.id),
                case((got_seat, SignupStatus.CONFIRMED.value), else_=SignupStatus.WAITLISTED.value),
                case((got_seat, None), else_=seat.c.waitlist_seq),
                at,
                case((got_seat, at)),
                false(),
                false(),
            ),
        )
        .returning(signups.c.id, signups.c.status, signups.c.waitlist_seq)
        .cte("new")
    )
    position = case((got_seat, None), else_=seat.c.waitlist_count)
    record = insert(entries).from_select(
        ["at", "actor_id", "action", "object_type", "object_id", "detail"],
        select(
            at,
            literal(actor.id),
            literal("signup.create"),
            literal(signups.name),
            cast(new.c.id, String),
            func.json_build_object("status", new.c.status),
        ),
    )
    row = db.session.execute(
        select(new.c.id, new.c.status, new.c.waitlist_seq, position)
        .select_from(new.join(seat, literal(True)))
        .add_cte(record.cte("record"))
    ).first()
    if row is None:
        return None
    signup_id, status, ticket, joined_at_position = row
    status = SignupStatus(status)
    signup = Signup(
        id=signup_id,
        event_id=event_id,
        user_id=actor.id,
        status=status,
        waitlist_seq=ticket,
        created_at=now,
        confirmed_at=now if status == SignupStatus.CONFIRMED else None,
        cancelled_at=None,
        checked_in_at=None,
        checked_out_at=None,
        walk_in=False,
        no_show=False,
    )
    # Attach it as the row it is, without reading it back.
    make_transient_to_detached(signup)
    db.session.add(signup)
    return signup, True, joined_at_position


def _active_signup(user_id, event_id):
    return db.session.scalar(
        select(Signup).where(
            Signup.event_id == event_id, Signup.user_id == user_id, Signup.status.in_(ACTIVE)
        )
    )


def _why_closed(actor, event_id, now):
    event = get_event(event_id, actor)
    if event.status == EventStatus.CANCELLED:
        return Conflict(_("This event has been cancelled."), code="event_cancelled")
    if event.status == EventStatus.DRAFT:
        return Conflict(_("This event is not published yet."), code="not_published")
    if event.status != EventStatus.PUBLISHED or event.starts_at <= now:
        return Conflict(_("This event is over; sign-up is closed."), code="event_closed")
    if event.signup_opens_at and event.signup_opens_at > now:
        when = to_local(event.signup_opens_at).strftime("%Y-%m-%d %H:%M")
        return Conflict(_("Sign-up opens at %(when)s.", when=when), code="signup_not_open")
    return Conflict(_("Sign-up for this event has closed."), code="signup_closed")


def cancel_signup(actor, event_id):
    """Cancel one's sign-up; a freed seat goes to the head of the waitlist in the same transaction.

    Raises NotAuthenticated, NotFound (not signed up), Conflict (past the cancellation cut-off,
    or checked in already: cancelling would take them off the attendance sheet).
    """
    require_user(actor)
    with transaction():
        event = locked_event(event_id)
        signup = _active_signup(actor.id, event_id) if event else None
        if signup is None:
            raise NotFound(_("You are not signed up for this event."), code="not_signed_up")
        now = utcnow()
        if event.status == EventStatus.COMPLETED:
            raise Conflict(
                _("This event is over; sign-ups can no longer change."), code="event_closed"
            )
        if signup.checked_in_at is not None:
            raise Conflict(
                _(
                    "You checked in at %(when)s, so your sign-up stays. If you cannot stay, "
                    "tell the staff.",
                    when=check_in_time(signup),
                ),
                code="checked_in",
            )
        if signup.status == SignupStatus.CONFIRMED and event.status == EventStatus.PUBLISHED:
            cutoff = event.cancel_cutoff_at or event.starts_at
            if now >= cutoff:
                when = to_local(cutoff).strftime("%Y-%m-%d %H:%M")
                raise Conflict(
                    _("Cancelling closed at %(when)s; please tell the staff.", when=when),
                    code="cancel_closed",
                )
        was = release(event, signup)
        audit.record(actor, "signup.cancel", signup, was=str(was))
    return signup


def check_in_time(signup):
    """The local time of a check-in, as the pages show it: 09:06."""
    return to_local(signup.checked_in_at).strftime("%H:%M")


def release(event, signup):
    """Cancel a sign-up and give its place to the head of the waitlist (the caller holds the
    event row's lock). Returns the status it had."""
    was = signup.status
    signup.status, signup.cancelled_at = SignupStatus.CANCELLED, utcnow()
    if was == SignupStatus.CONFIRMED:
        event.confirmed_count -= 1
    else:
        event.waitlist_count -= 1
    db.session.flush()
    _fill_seats(event)
    return was


def _fill_seats(event):
    """Promote the head of the waitlist into every free seat; each promoted person is told once.

    The caller holds the event row's lock, so no sign-up can slip past the queue meanwhile.
    """
    promoted = []
    now = utcnow()
    while (
        event.status == EventStatus.PUBLISHED
        and event.starts_at > now
        and event.waitlist_count > 0
        and event.confirmed_count < event.capacity
    ):
        head = db.session.scalar(
            select(Signup)
            .where(Signup.event_id == event.id, Signup.status == SignupStatus.WAITLISTED)
            .order_by(Signup.waitlist_seq)
            .limit(1)
        )
        if head is None:  # pragma: no cover - the counters say someone waits
            logger.error(
                "event %s: waitlist_count %s but nobody waits", event.id, event.waitlist_count
            )
            break
        head.status, head.confirmed_at = SignupStatus.CONFIRMED, now
        event.confirmed_count += 1
        event.waitlist_count -= 1
        db.session.flush()
        _notify(head.user, event, "promoted")
        audit.record(None, "signup.promote", head)
        promoted.append(head)
    return promoted


def _notify(person, event, what):
    """Queue one e-mail in the person's language (people without e-mail are not written to)."""
    if not person.email:
        return
    link = absolute_url("events.show_event", event_id=event.id)
    when = to_local(event.starts_at).strftime("%Y-%m-%d %H:%M")
    with outbox.language_of(person):
        if what == "promoted":
            subject = _("You have a place: %(title)s", title=event.title)
            body = _(
                "Hello %(name)s,\n\na place has become free and it is yours: %(title)s, "
                "%(when)s, %(venue)s.\n\nIf you cannot come, please cancel so that the "
                "next person can go:\n%(link)s\n",
                name=person.name,
                title=event.title,
                when=when,
                venue=event.venue,
                link=link,
            )
        elif what == "reminder":
            subject = _("Reminder: %(title)s, %(when)s", title=event.title, when=when)
            body = _(
                "Hello %(name)s,\n\nyou are signed up for %(title)s on %(when)s at "
                "%(venue)s.\n\nIf you cannot come, please cancel so that someone on the "
                "waitlist can go:\n%(link)s\n",
                name=person.name,
                title=event.title,
                when=when,
                venue=event.venue,
                link=link,
            )
        else:
            subject = _("Cancelled: %(title)s", title=event.title)
            body = _(
                "Hello %(name)s,\n\n%(title)s on %(when)s has been cancelled.\n\n%(link)s\n",
                name=person.name,
                title=event.title,
                when=when,
                link=link,
            )
            if event.cancel_reason:
                body += "\n" + _("Reason: %(reason)s", reason=event.cancel_reason) + "\n"
    outbox.queue(person.email, subject, body)


# -- calendars ---------------------------------------------------------------------------------


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

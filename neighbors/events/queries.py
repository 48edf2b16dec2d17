"""Reading events: one event, the public list (keyset pages), one's sign-ups and events, staff
rosters and lists, and the one way to read an event row locked."""

import base64
import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from flask_babel import gettext as _
from sqlalchemy import bindparam, case, func, or_, select, tuple_
from sqlalchemy.orm import aliased, contains_eager, joinedload

from neighbors.areas.models import Community, District, Street
from neighbors.core.db import UTCDateTime, utcnow
from neighbors.core.errors import Invalid, NotFound
from neighbors.core.permissions import (
    Role,
    has_role,
    managed_community_ids,
    organised_ids,
    require_community_staff,
    require_role,
    require_user,
)
from neighbors.core.timezone import parse_iso, plausible
from neighbors.events.models import ACTIVE, Category, Event, EventStatus, Signup, SignupStatus
from neighbors.extensions import db
from neighbors.stations import services as stations
from neighbors.stations.models import Room

logger = logging.getLogger(__name__)

PUBLIC_STATUSES = (EventStatus.PUBLISHED, EventStatus.COMPLETED, EventStatus.CANCELLED)


def get_event(event_id, actor=None):
    """An event anyone may see; a draft only for staff of its community and the coordinators
    of the organisation that drafted it. Raises NotFound."""
    event = db.session.scalar(_event_query(), {"event_id": event_id})
    unpublished = event is not None and event.published_at is None
    organised = event is not None and event.organisation_id in organised_ids(actor)
    if event is None or (unpublished and not (organised or manages(actor, event))):
        raise NotFound(_("This event does not exist or is not published."))
    return event


@cache  # every event page asks it: a statement built once costs a third of one built each time
def _event_query():
    return (
        select(Event)
        .options(joinedload(Event.community), _with_room())
        .where(Event.id == bindparam("event_id"))
    )


def _with_room():
    """Load an event's room and its station in the same query."""
    return joinedload(Event.room).joinedload(Room.station)


def station_week(code, week_start):
    """A station (with its communities and rooms) and the published events in its rooms in the
    seven days from `week_start` (aware), in start order. Raises NotFound."""
    station = stations.get_station(code)
    room_ids = [room.id for room in station.rooms]
    found = (
        db.session.scalars(
            select(Event)
            .options(joinedload(Event.community), _with_room())
            .where(
                Event.room_id.in_(room_ids),
                Event.status.in_(PUBLIC_STATUSES),
                Event.published_at.is_not(None),
                Event.starts_at < week_start + timedelta(days=7),
                Event.ends_at > week_start,
            )
            .order_by(Event.starts_at, Event.id)
        ).all()
        if room_ids
        else []
    )
    return station, found


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
    organisation: int | None = None
    district: str | None = None
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
        .options(contains_eager(Event.community), _with_room(), joinedload(Event.organisation))
        .order_by(Event.starts_at, Event.id)
    )
    query = _apply_filters(query, filters, actor)
    if cursor:
        starts_at, event_id = _decode_cursor(cursor)
        query = query.where(tuple_(Event.starts_at, Event.id) > tuple_(starts_at, event_id))
    # The limit written into the statement, not sent as a parameter: PostgreSQL then finds one
    # plan good for every page and keeps it (with LIMIT $1 it plans each page anew, 1.8 ms).
    events = db.session.scalars(query.limit(bindparam("limit", limit + 1, literal_execute=True)))
    events = events.all()
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
            raise Invalid.from_fields({"category": message}) from None
    if filters.community:
        query = query.where(Community.code == filters.community)
    if filters.organisation:
        query = query.where(Event.organisation_id == filters.organisation)
    if filters.street:
        query = query.where(
            Event.community_id.in_(
                select(Community.id).join(Community.street).where(Street.code == filters.street)
            )
        )
    if filters.district:
        query = query.where(
            Event.community_id.in_(
                select(Community.id)
                .join(Community.street)
                .join(Street.district)
                .where(District.code == filters.district)
            )
        )
    if filters.starts_from:
        query = query.where(Event.starts_at >= filters.starts_from)
    if filters.starts_before:
        query = query.where(Event.starts_at < filters.starts_before)
    if filters.text:
        pattern = "%" + filters.text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
        # Written into the statement: a plan for one word is not good for another (a rare
        # word wants the trigram index), so each search is planned for its own.
        words = bindparam("words", f"%{pattern}%", literal_execute=True)
        query = query.where(Event.title.ilike(words, escape="\\"))
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


@cache  # an expression, the same every time: building it afresh cost ~0.4 ms a page
def _waitlist_position():
    """SQL: a waitlisted sign-up's place in its event's queue (1 = next to move up)."""
    ahead = aliased(Signup)
    return (
        select(func.count())
        .where(
            ahead.event_id == Signup.event_id,
            ahead.status == SignupStatus.WAITLISTED,
            ahead.waitlist_seq <= Signup.waitlist_seq,
        )
        .correlate(Signup)
        .scalar_subquery()
    )


def my_events(actor, *, upcoming=True, limit=100):
    """The actor's active sign-ups with their events and waitlist positions: upcoming ones in
    start order, or past ones (ended, or completed) latest first.

    Raises NotAuthenticated.
    """
    require_user(actor)
    params = {"user_id": actor.id, "now": utcnow(), "limit": limit}
    return db.session.execute(_my_events_query(upcoming), params).all()


@cache  # built once per kind with its parameters: building it for every page cost ~1 ms of CPU
def _my_events_query(upcoming):
    waitlisted = Signup.status == SignupStatus.WAITLISTED
    query = (
        select(Signup, case((waitlisted, _waitlist_position())))
        .join(Signup.event)
        .options(contains_eager(Signup.event).joinedload(Event.community))
        .where(Signup.user_id == bindparam("user_id"), Signup.status.in_(ACTIVE))
    )
    now = bindparam("now", type_=UTCDateTime())
    over = or_(Event.ends_at < now, Event.status == EventStatus.COMPLETED)
    if upcoming:
        query = query.where(~over).order_by(Event.starts_at, Event.id)
    else:
        query = query.where(over).order_by(Event.starts_at.desc(), Event.id.desc())
    return query.limit(bindparam("limit"))


def roster(actor, event_id):
    """An event and its active sign-ups (confirmed first, then the waitlist in order) with names.

    Raises NotAllowed (not staff), NotFound (another community's event). The coordinators of
    the organisation that runs it may read it too.
    """
    event = organiser_event(actor, event_id)
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
    """Events of the communities the actor manages: those not yet over, soonest first, then
    the past ones, latest first (what staff act on next comes first). Raises NotAllowed."""
    require_role(actor, Role.STAFF)
    query = select(Event).options(joinedload(Event.community))
    scope = managed_community_ids(actor)
    if scope is not None:
        query = query.where(Event.community_id.in_(scope))
    now = utcnow()
    coming = db.session.scalars(
        query.where(Event.ends_at >= now).order_by(Event.starts_at, Event.id).limit(limit)
    ).all()
    past = db.session.scalars(
        query.where(Event.ends_at < now)
        .order_by(Event.starts_at.desc(), Event.id.desc())
        .limit(limit)
    ).all()
    return coming, past


def organisation_events(actor, organisation_id, *, limit=100):
    """Every event of an organisation, drafts included, soonest last, for those who run it:
    its coordinators and the staff of its community. Raises NotAuthenticated, NotAllowed."""
    require_user(actor)
    query = (
        select(Event)
        .where(Event.organisation_id == organisation_id)
        .order_by(Event.starts_at.desc(), Event.id.desc())
    )
    if organisation_id not in organised_ids(actor):
        require_role(actor, Role.STAFF)
        scope = managed_community_ids(actor)
        if scope is not None:
            query = query.where(Event.community_id.in_(scope))
    return db.session.scalars(query.limit(limit)).all()


def drafts_waiting(actor, *, limit=100):
    """Drafts organisations wrote for the actor's communities, waiting to be published, oldest
    first. Raises NotAllowed."""
    require_role(actor, Role.STAFF)
    query = (
        select(Event)
        .where(Event.status == EventStatus.DRAFT, Event.organisation_id.is_not(None))
        .options(joinedload(Event.community), joinedload(Event.organisation))
        .order_by(Event.created_at, Event.id)
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


def organiser_event(actor, event_id, lock=False):
    """An event the actor organises: staff of its community, or a coordinator of the
    organisation that runs it (谁组织谁记录). Its row locked until commit when asked.

    Raises NotAuthenticated, NotAllowed, NotFound."""
    require_user(actor)
    event = locked_event(event_id, lock)
    if event is not None and event.organisation_id in organised_ids(actor):
        return event
    if event is None:
        require_role(actor, Role.STAFF)
        raise NotFound(_("Not found."))
    require_community_staff(actor, event.community_id)
    return event


def staff_event(actor, event_id, lock=False):
    """An event of a community the actor manages, its row locked until commit when asked.

    Raises NotAllowed, NotFound."""
    event = locked_event(event_id, lock)
    if event is None:
        require_role(actor, Role.STAFF)
        raise NotFound(_("Not found."))
    require_community_staff(actor, event.community_id)
    return event

"""Sign-ups: seats and the waitlist.

Seats are counted on the event row and taken by one conditional UPDATE, so the database decides
who gets a seat: on PostgreSQL the row lock orders concurrent sign-ups, on SQLite the IMMEDIATE
write transaction does; a CHECK constraint refuses any write that would overbook.
"""

import logging
from functools import cache
from typing import NamedTuple

from flask_babel import gettext as _
from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached

from neighbors.core import audit
from neighbors.core.audit import AuditEntry
from neighbors.core.db import UTCDateTime, is_postgresql, transaction, utcnow
from neighbors.core.errors import Conflict, NotFound
from neighbors.core.permissions import require_user
from neighbors.core.timezone import to_local
from neighbors.events.models import ACTIVE, Event, EventStatus, Signup, SignupStatus
from neighbors.events.notices import notify
from neighbors.events.queries import get_event, locked_event, waitlist_position
from neighbors.extensions import db

logger = logging.getLogger(__name__)


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
            now = utcnow()
            # On PostgreSQL the place is taken without asking first: an active sign-up already
            # there breaks the unique index (below). One round trip less for every sign-up.
            existing = None if is_postgresql() else _active_signup(actor.id, event_id)
            take = _take_place_postgresql if is_postgresql() else _take_place
            taken = None if existing else take(actor, event_id, now)
            if taken is None:  # signed up already, or the event is not open for sign-up
                existing = existing or _active_signup(actor.id, event_id)
                if existing and existing.event.status == EventStatus.PUBLISHED:
                    return SignupResult(existing, False, waitlist_position(existing))
                raise _why_closed(actor, event_id, now)
    except IntegrityError:
        # The same person's other click won the race: theirs is the sign-up.
        existing = _active_signup(actor.id, event_id)
        if existing is None:
            raise
        return SignupResult(existing, False, waitlist_position(existing))
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
    row = db.session.execute(
        _take_place_statement(), {"event_id": event_id, "user_id": actor.id, "now": now}
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


@cache  # built once with its parameters: building it for every sign-up cost ~1 ms of CPU
def _take_place_statement():
    """_take_place_postgresql's statement, for the parameters event_id, user_id and now."""
    at = bindparam("now", type_=UTCDateTime())
    seat = _seat_update(bindparam("event_id", type_=Integer()), at).cte("seat")
    user_id = bindparam("user_id", type_=Integer())
    got_seat = seat.c.waitlist_count == 0
    signups, entries = Signup.__table__, AuditEntry.__table__
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
                user_id,
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
            user_id,
            literal("signup.create"),
            literal(signups.name),
            cast(new.c.id, String),
            func.json_build_object("status", new.c.status),
        ),
    )
    return (
        select(new.c.id, new.c.status, new.c.waitlist_seq, position)
        .select_from(new.join(seat, literal(True)))
        .add_cte(record.cte("record"))
    )


def _active_signup(user_id, event_id):
    return db.session.scalar(_active_signup_query(), {"user_id": user_id, "event_id": event_id})


@cache
def _active_signup_query():
    return select(Signup).where(
        Signup.event_id == bindparam("event_id"),
        Signup.user_id == bindparam("user_id"),
        Signup.status.in_(ACTIVE),
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
    fill_seats(event)
    return was


def fill_seats(event):
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
        notify(head.user, event, "promoted")
        audit.record(None, "signup.promote", head)
        promoted.append(head)
    return promoted

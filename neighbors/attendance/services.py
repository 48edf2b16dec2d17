"""Attendance: staff check people in and out from the roster (walk-ins too), or volunteers
enter the event's rotating check-in code; presence after completion becomes hours at once."""

import hashlib
import hmac
import logging
import math
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from neighbors.accounts.models import User
from neighbors.accounts.services import find_by_login
from neighbors.attendance.completion import records_for_event
from neighbors.core import audit
from neighbors.core.db import transaction, utcnow
from neighbors.core.errors import Conflict, Invalid, NotFound, TooManyAttempts
from neighbors.core.permissions import require_user
from neighbors.core.ratelimit import Failures
from neighbors.events.models import Event, EventStatus, Signup, SignupStatus
from neighbors.events.services import check_in_time, organiser_event, release
from neighbors.extensions import db
from neighbors.hours import services as hours

logger = logging.getLogger(__name__)

CODE_PERIOD = timedelta(minutes=5)
# A second code entry sooner than this is taken for a repeat, not for leaving.
MIN_STAY = timedelta(minutes=15)
# Codes work from an hour before the start to an hour after the end.
CODE_MARGIN = timedelta(hours=1)


def checkin_code(event, at=None):
    """The 6-digit code shown on the staff's screen; it changes every five minutes."""
    at = at or utcnow()
    window = int(at.timestamp() // CODE_PERIOD.total_seconds())
    key = hmac.new(current_app.config["SECRET_KEY"].encode(), b"checkin", hashlib.sha256)
    digest = hmac.new(key.digest(), f"{event.id}:{window}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:4], 'big') % 1_000_000:06d}"


def next_code_at(at=None):
    """When the code shown now gives way to the next one (every event changes together)."""
    at = at or utcnow()
    period = CODE_PERIOD.total_seconds()
    return at + timedelta(seconds=period - at.timestamp() % period)


def staff_checkin_code(actor, event_id):
    """The current code for staff of the event's community, or None outside the event's time.

    Raises NotAllowed, NotFound.
    """
    event = organiser_event(actor, event_id)
    now = utcnow()
    try:
        _require_code_time(event, now)
    except Conflict:
        return None
    return checkin_code(event, now)


def _require_code_time(event, now):
    if event.status != EventStatus.PUBLISHED:
        raise Conflict(_("Check-in is only for a published event."), code="event_closed")
    if not event.starts_at - CODE_MARGIN <= now <= event.ends_at + CODE_MARGIN:
        raise Conflict(_("Check-in opens an hour before the event starts."), code="checkin_closed")


def check_in_with_code(actor, event_id, code):
    """A volunteer checks in (or, the second time, out) with the code on the staff's screen.

    Accepts the current and the previous code. After CHECKIN_WRONG_CODE_LIMIT wrong codes for
    one event the person waits, from whatever address they try. Raises NotAuthenticated,
    NotFound (not signed up), Conflict (outside the event's time, already checked out), Invalid
    (wrong code), TooManyAttempts (too many wrong codes).
    """
    require_user(actor)
    wrong_codes = Failures("CHECKIN_WRONG_CODE_LIMIT", actor.id, event_id)
    wait = wrong_codes.retry_after()
    if wait:
        raise TooManyAttempts(
            _(
                "Too many wrong codes for this event. Please try again in %(minutes)s minutes, "
                "or ask the staff to check you in.",
                minutes=math.ceil(wait / 60),
            ),
            retry_after=wait,
        )
    with transaction():
        event = db.session.get(Event, event_id)
        signup = _confirmed_signup(event_id, actor.id) if event else None
        if signup is None:
            raise NotFound(_("You are not signed up for this event."), code="not_signed_up")
        now = utcnow()
        _require_code_time(event, now)
        valid = {checkin_code(event, now), checkin_code(event, now - CODE_PERIOD)}
        if str(code or "").strip() not in valid:
            wrong_codes.failed()
            message = _("That code is not right, or it has changed. Try the one on the screen.")
            raise Invalid.from_fields({"code": message}, code="wrong_code")
        if signup.checked_out_at:
            raise Conflict(_("You have already checked out."), code="already_checked_out")
        if signup.checked_in_at is None:
            signup.checked_in_at = now
            action = "attendance.check_in"
        elif now - signup.checked_in_at < MIN_STAY:
            raise Conflict(
                _(
                    "You checked in at %(when)s. Enter the code again when you leave.",
                    when=check_in_time(signup),
                ),
                code="already_checked_in",
            )
        else:
            signup.checked_out_at = now
            action = "attendance.check_out"
        audit.record(actor, action, signup, by="code")
    return signup


def record_attendance(actor, event_id, user_id, checked_in_at, checked_out_at=None):
    """Staff set a person's check-in and check-out times (a walk-in is added first).

    Times must fall within a day of the event and check-out after check-in. Raises NotAllowed,
    NotFound (person or event out of scope), Invalid, Conflict (cancelled event).
    """
    with transaction():
        event = organiser_event(actor, event_id, lock=True)
        if event.status == EventStatus.CANCELLED or event.status == EventStatus.DRAFT:
            raise Conflict(
                _("Attendance is for a published or completed event."), code="event_closed"
            )
        _check_times(event, checked_in_at, checked_out_at)
        _not_recorded(event, user_id)
        signup = _confirmed_signup(event.id, user_id) or _walk_in(actor, event, user_id)
        signup.checked_in_at, signup.checked_out_at = checked_in_at, checked_out_at
        signup.no_show = checked_in_at is None
        _record_late(actor, event)
        audit.record(actor, "attendance.record", signup)
    return signup


def all_present(actor, event_id):
    """Check in everyone confirmed who has not been, at the event's start and end.

    Raises NotAllowed, NotFound, Conflict. Returns how many were checked in.
    """
    with transaction():
        event = organiser_event(actor, event_id, lock=True)
        if event.status not in (EventStatus.PUBLISHED, EventStatus.COMPLETED):
            raise Conflict(
                _("Attendance is for a published or completed event."), code="event_closed"
            )
        if utcnow() < event.starts_at:
            raise Conflict(_("The event has not started yet."), code="not_started")
        result = db.session.execute(
            update(Signup)
            .where(
                Signup.event_id == event.id,
                Signup.status == SignupStatus.CONFIRMED,
                Signup.checked_in_at.is_(None),
            )
            .values(checked_in_at=event.starts_at, checked_out_at=event.ends_at, no_show=False)
            .execution_options(synchronize_session=False)
        )
        _record_late(actor, event)
        audit.record(actor, "attendance.all_present", event, count=result.rowcount)
    return result.rowcount


def _arrival(event):
    """Now during the event; its start when tapped before it, or recorded after it."""
    now = utcnow()
    return now if event.starts_at <= now <= event.ends_at else event.starts_at


def _departure(event):
    """Now during the event; its end otherwise."""
    now = utcnow()
    return now if event.starts_at <= now <= event.ends_at else event.ends_at


def _not_recorded(event, user_id):
    """Once a person's hours are recorded, attendance no longer changes them: correct the record."""
    if event.status == EventStatus.COMPLETED and hours.has_record(event.id, user_id):
        raise Conflict(
            _("This person's hours are recorded already; correct the record instead."),
            code="hours_recorded",
        )


def _record_late(actor, event):
    """Attendance added after completion becomes hours like the rest."""
    if event.status == EventStatus.COMPLETED:
        db.session.flush()
        records_for_event(actor, event)


def _check_times(event, checked_in_at, checked_out_at):
    window = (event.starts_at - timedelta(days=1), event.ends_at + timedelta(days=1))
    problems = {}
    for name, value in (("checked_in_at", checked_in_at), ("checked_out_at", checked_out_at)):
        if value is not None and not window[0] <= value <= window[1]:
            problems[name] = _("Must be within a day of the event.")
    if checked_out_at and (checked_in_at is None or checked_out_at <= checked_in_at):
        problems["checked_out_at"] = _("Check-out must come after check-in.")
    if problems:
        raise Invalid.from_fields(problems)


def _confirmed_signup(event_id, user_id):
    return db.session.scalar(
        select(Signup).where(
            Signup.event_id == event_id,
            Signup.user_id == user_id,
            Signup.status == SignupStatus.CONFIRMED,
        )
    )


def _walk_in(actor, event, user_id):
    """A person who came without signing up: confirmed on the spot; a full event grows a place.
    The caller holds the event row's lock."""
    person = db.session.get(User, user_id)
    if person is None or not person.active:
        raise NotFound(_("No such volunteer."), code="no_such_user")
    waiting = db.session.scalar(
        select(Signup).where(
            Signup.event_id == event.id,
            Signup.user_id == user_id,
            Signup.status == SignupStatus.WAITLISTED,
        )
    )
    if waiting:  # they were queueing and came anyway
        waiting.status, waiting.confirmed_at, waiting.walk_in = (
            SignupStatus.CONFIRMED,
            utcnow(),
            True,
        )
        event.waitlist_count -= 1
        signup = waiting
    else:
        signup = Signup(
            event_id=event.id,
            user_id=user_id,
            status=SignupStatus.CONFIRMED,
            confirmed_at=utcnow(),
            walk_in=True,
        )
        db.session.add(signup)
    if event.confirmed_count >= event.capacity:
        if event.room is not None and event.capacity >= event.room.capacity:
            # A room holds so many: the event never has more places than its room.
            message = _("The room holds %(n)s people; nobody more can come in.", n=event.capacity)
            raise Conflict(message, code="room_full")
        event.capacity += 1
    event.confirmed_count += 1
    db.session.flush()
    audit.record(actor, "attendance.walk_in", signup)
    return signup


def tap(actor, event_id, user_id, action):
    """One tap on the roster: check a person in or out now (or at the event's start or end, for
    an event recorded afterwards), or clear their times.

    Raises NotAllowed, NotFound, Conflict, Invalid (unknown action).
    """
    with transaction():
        event = organiser_event(actor, event_id, lock=True)
        signup = _confirmed_signup(event.id, user_id)
        if signup is None:
            raise NotFound(_("This person is not on the roster."), code="not_signed_up")
        if event.status not in (EventStatus.PUBLISHED, EventStatus.COMPLETED):
            raise Conflict(
                _("Attendance is for a published or completed event."), code="event_closed"
            )
        _not_recorded(event, user_id)
        if action == "in":
            signup.checked_in_at, signup.checked_out_at = _arrival(event), None
        elif action == "out":
            signup.checked_in_at = signup.checked_in_at or event.starts_at
            signup.checked_out_at = max(_departure(event), signup.checked_in_at)
        elif action == "clear":
            signup.checked_in_at = signup.checked_out_at = None
        else:
            raise Invalid(_("Unknown action."))
        signup.no_show = False
        _record_late(actor, event)
        audit.record(actor, f"attendance.{action}", signup)
    return signup


def walk_in(actor, event_id, login):
    """Add someone who came without signing up, found by e-mail or mobile, and check them in.

    Raises NotAllowed, NotFound (event out of scope, or no such person), Conflict.
    """
    with transaction():
        event = organiser_event(actor, event_id, lock=True)
        if not login:
            message = _("Enter the volunteer's e-mail address or mobile number.")
            raise Invalid(message, code="invalid_input", fields={"login": message})
        if event.status not in (EventStatus.PUBLISHED, EventStatus.COMPLETED):
            raise Conflict(
                _("Attendance is for a published or completed event."), code="event_closed"
            )
        person = find_by_login(login)
        if person is None:
            raise NotFound(
                _("No volunteer has that e-mail address or mobile number."),
                code="no_such_user",
                fields={"login": _("Not found.")},
            )
        _not_recorded(event, person.id)
        signup = _confirmed_signup(event.id, person.id) or _walk_in(actor, event, person.id)
        if signup.checked_in_at is None:
            signup.checked_in_at = _arrival(event)
            if utcnow() > event.ends_at:  # recorded afterwards: they were there throughout
                signup.checked_out_at = event.ends_at
        _record_late(actor, event)
    return signup


def cancel_for(actor, event_id, user_id):
    """Staff take someone off the roster (any time before completion); the waitlist moves up.

    Someone who has checked in is not taken off: their attendance would go with them. Staff who
    checked in the wrong person clear the check-in first, a step of its own in the audit log.
    Raises NotAllowed, NotFound, Conflict (completed event, or checked in).
    """
    with transaction():
        event = organiser_event(actor, event_id, lock=True)
        if event.status == EventStatus.COMPLETED:
            raise Conflict(
                _("This event is over; sign-ups can no longer change."), code="event_closed"
            )
        signup = db.session.scalar(
            select(Signup).where(
                Signup.event_id == event.id,
                Signup.user_id == user_id,
                Signup.status.in_((SignupStatus.CONFIRMED, SignupStatus.WAITLISTED)),
            )
        )
        if signup is None:
            raise NotFound(_("This person is not on the roster."), code="not_signed_up")
        if signup.checked_in_at is not None:
            raise Conflict(
                _(
                    "%(name)s checked in at %(when)s and stays on the roster. If that was a "
                    "mistake, clear the check-in first.",
                    name=signup.user.name,
                    when=check_in_time(signup),
                ),
                code="checked_in",
            )
        was = release(event, signup)
        audit.record(actor, "signup.cancel_by_staff", signup, was=str(was))
    return signup

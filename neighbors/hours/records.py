"""Service records: made for events (from attendance's plain values) and by volunteers,
corrected, and what counts: totals and star levels."""

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload

from neighbors.core import audit
from neighbors.core.db import transaction, utcnow
from neighbors.core.errors import Conflict, Invalid, NotAllowed, NotFound
from neighbors.core.permissions import (
    Role,
    has_role,
    require_community_staff,
    require_role,
    require_user,
)
from neighbors.core.timezone import local_today
from neighbors.extensions import db
from neighbors.hours.models import MAX_MINUTES, RecordStatus, ServiceRecord

logger = logging.getLogger(__name__)


@cache  # an expression, the same every time: building it afresh cost ~0.7 ms a page
def is_effective():
    """Confirmed records that no confirmed correction has replaced: the ones that count."""
    correction = aliased(ServiceRecord)
    return and_(
        ServiceRecord.status == RecordStatus.CONFIRMED,
        ~exists().where(
            correction.supersedes_id == ServiceRecord.id,
            correction.status == RecordStatus.CONFIRMED,
        ),
    )


def has_record(event_id, user_id):
    """True when the event has given this person a record already."""
    return (
        db.session.scalar(
            select(ServiceRecord.id).where(
                ServiceRecord.event_id == event_id, ServiceRecord.user_id == user_id
            )
        )
        is not None
    )


def event_records(user_id, event_ids):
    """A person's record for each of these events, in one query: the one that counts (a
    confirmed correction over what it corrects), else the one the event made (pending or
    rejected). Returns {event_id: record}; events without a record are left out."""
    if not event_ids:
        return {}
    records = db.session.scalars(
        select(ServiceRecord)
        .where(ServiceRecord.user_id == user_id, ServiceRecord.event_id.in_(set(event_ids)))
        .order_by(ServiceRecord.id)
    ).all()
    replaced = {
        r.supersedes_id for r in records if r.supersedes_id and r.status == RecordStatus.CONFIRMED
    }
    chosen = {}
    for record in records:
        counts = record.status == RecordStatus.CONFIRMED and record.id not in replaced
        if counts or (record.supersedes_id is None and record.event_id not in chosen):
            chosen[record.event_id] = record
    return chosen


def recorded_people(event_id):
    """The ids of the people the event has given a record already (corrections aside)."""
    return set(
        db.session.scalars(
            select(ServiceRecord.user_id).where(
                ServiceRecord.event_id == event_id, ServiceRecord.supersedes_id.is_(None)
            )
        )
    )


def record_service(
    actor,
    *,
    user_id,
    event_id,
    community_id,
    category,
    activity,
    place,
    organiser,
    served_on,
    minutes,
    organisation_id=None,
):
    """A pending record of service at an event, in the caller's unit of work (attendance makes
    one for each person present; it flushes once for them all). Minutes beyond a record's
    limit are capped to it."""
    record = ServiceRecord(
        user_id=user_id,
        event_id=event_id,
        community_id=community_id,
        organisation_id=organisation_id,
        category=category,
        activity=activity,
        place=place,
        organiser=organiser,
        served_on=served_on,
        minutes=min(minutes, MAX_MINUTES),
        recorded_by_id=getattr(actor, "id", None),
    )
    db.session.add(record)
    return record


def _check_service(activity, place, organiser, served_on, minutes):
    problems = {}
    for name, value in (("activity", activity), ("place", place), ("organiser", organiser)):
        if not 1 <= len((value or "").strip()) <= 200:
            problems[name] = _("Enter 1 to 200 characters.")
    today = local_today()
    if not isinstance(served_on, date) or not today - timedelta(days=366 * 5) <= served_on <= today:
        problems["served_on"] = _("Enter the day of the service; it cannot be in the future.")
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= MAX_MINUTES:
        problems["minutes"] = _("Enter the minutes served, from 1 to %(n)s.", n=MAX_MINUTES)
    if problems:
        raise Invalid.from_fields(problems)


def submit_service(actor, *, activity, place, organiser, served_on, minutes):
    """A volunteer reports service done off the platform; their community's staff confirm it.

    Raises NotAuthenticated, Invalid (bad fields, or no home community).
    """
    require_user(actor)
    _check_service(activity, place, organiser, served_on, minutes)
    if actor.home_community_id is None:
        message = _("Choose your home community in your profile first.")
        raise Invalid.from_fields({"activity": message})
    with transaction():
        record = ServiceRecord(
            user_id=actor.id,
            community_id=actor.home_community_id,
            activity=activity.strip(),
            place=place.strip(),
            organiser=organiser.strip(),
            served_on=served_on,
            minutes=minutes,
            recorded_by_id=actor.id,
        )
        db.session.add(record)
        db.session.flush()
        audit.record(actor, "hours.submit", record, minutes=minutes)
    return record


def request_correction(actor, record_id, *, minutes, reason):
    """Ask for a confirmed record of one's own to be corrected; staff confirm the correction.

    Raises NotAuthenticated, NotFound (not one's own), Conflict (not confirmed, or already
    corrected), Invalid.
    """
    require_user(actor)
    with transaction(), _one_correction():
        original = db.session.get(ServiceRecord, record_id, with_for_update=True)
        if original is None or original.user_id != actor.id:
            raise NotFound(_("Not found."))
        correction = _correction(actor, original, minutes, reason)
        audit.record(actor, "hours.request_correction", correction, supersedes=original.id)
    return correction


def correct_record(actor, record_id, *, minutes, reason):
    """Staff correct a confirmed record: a new confirmed record replaces it; both stay.

    Raises NotAllowed, NotFound (out of scope), Conflict, Invalid.
    """
    require_role(actor, Role.STAFF)
    with transaction(), _one_correction():
        original = db.session.get(ServiceRecord, record_id, with_for_update=True)
        if original is None:
            raise NotFound(_("Not found."))
        require_community_staff(actor, original.community_id)
        _not_own(actor, original)
        correction = _correction(actor, original, minutes, reason)
        correction.status = RecordStatus.CONFIRMED
        correction.reviewed_by_id, correction.reviewed_at = actor.id, utcnow()
        audit.record(actor, "hours.correct", correction, supersedes=original.id)
    return correction


@contextmanager
def _one_correction():
    """Two corrections of one record at once: the unique index decides, the loser hears why."""
    try:
        yield
    except IntegrityError as exc:
        raise Conflict(
            _("This record has a correction already."), code="already_corrected"
        ) from exc


def _not_own(actor, record):
    """Nobody confirms or corrects their own hours, unless they are an admin."""
    if record.user_id == actor.id and not has_role(actor, Role.ADMIN):
        raise NotAllowed(_("Another staff member must confirm your own hours."))


def record_for_staff(actor, record_id):
    """A record of the actor's communities. Raises NotAllowed, NotFound."""
    require_role(actor, Role.STAFF)
    record = db.session.get(ServiceRecord, record_id)
    if record is None:
        raise NotFound(_("Not found."))
    require_community_staff(actor, record.community_id)
    return record


def own_record(actor, record_id):
    """One of the actor's own records. Raises NotAuthenticated, NotFound."""
    require_user(actor)
    record = db.session.get(ServiceRecord, record_id)
    if record is None or record.user_id != actor.id:
        raise NotFound(_("Not found."))
    return record


def _correction(actor, original, minutes, reason):
    if original.status != RecordStatus.CONFIRMED:
        raise Conflict(_("Only a confirmed record can be corrected."), code="not_confirmed")
    if db.session.scalar(
        select(ServiceRecord.id).where(
            ServiceRecord.supersedes_id == original.id,
            ServiceRecord.status != RecordStatus.REJECTED,
        )
    ):
        raise Conflict(_("This record has a correction already."), code="already_corrected")
    reason = (reason or "").strip()
    if not 1 <= len(reason) <= 500:
        message = _("Say why, in at most 500 characters.")
        raise Invalid.from_fields({"reason": message})
    _check_service(
        original.activity,
        original.place or "-",
        original.organiser or "-",
        original.served_on,
        minutes,
    )
    correction = ServiceRecord(
        user_id=original.user_id,
        event_id=original.event_id,
        community_id=original.community_id,
        category=original.category,
        activity=original.activity,
        place=original.place,
        organiser=original.organiser,
        served_on=original.served_on,
        minutes=minutes,
        supersedes_id=original.id,
        reason=reason,
        recorded_by_id=actor.id,
    )
    db.session.add(correction)
    db.session.flush()
    return correction


@dataclass
class Totals:
    this_year: int
    all_time: int
    star: int  # 0 to 5
    next_star_minutes: int | None


def totals(user_id):
    """Confirmed minutes this year and in all, and the star level they reach."""
    year_start = date(local_today().year, 1, 1)
    this_year, all_time = db.session.execute(
        select(
            func.coalesce(
                func.sum(ServiceRecord.minutes).filter(ServiceRecord.served_on >= year_start), 0
            ),
            func.coalesce(func.sum(ServiceRecord.minutes), 0),
        ).where(ServiceRecord.user_id == user_id, is_effective())
    ).one()
    star, next_minutes = star_level(all_time)
    return Totals(int(this_year), int(all_time), star, next_minutes)


def organisation_minutes(organisation_id):
    """Confirmed minutes served at the events an organisation ran, in all."""
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(ServiceRecord.minutes), 0)).where(
                ServiceRecord.organisation_id == organisation_id, is_effective()
            )
        )
    )


def star_level(minutes):
    """(stars, minutes needed for the next star or None); thresholds are hours, a setting."""
    thresholds = [int(h) * 60 for h in current_app.config["STAR_HOURS"]]
    star = sum(1 for threshold in thresholds if minutes >= threshold)
    return star, (thresholds[star] if star < len(thresholds) else None)


def served_in_year(user_ids, year):
    """Confirmed service of these people in a year: {user_id: (activities, minutes)}; people
    without any are left out."""
    if not user_ids:
        return {}
    rows = db.session.execute(
        select(ServiceRecord.user_id, func.count(), func.sum(ServiceRecord.minutes))
        .where(
            is_effective(),
            ServiceRecord.served_on.between(date(year, 1, 1), date(year, 12, 31)),
            ServiceRecord.user_id.in_(set(user_ids)),
        )
        .group_by(ServiceRecord.user_id)
    )
    return {user_id: (int(count), int(minutes or 0)) for user_id, count, minutes in rows}


def my_records(actor, limit=500):
    """One's records, newest service first, each with whether it still counts.

    Raises NotAuthenticated.
    """
    require_user(actor)
    counts = select(ServiceRecord.id).where(ServiceRecord.user_id == actor.id, is_effective())
    records = db.session.scalars(
        select(ServiceRecord)
        .options(joinedload(ServiceRecord.supersedes))
        .where(ServiceRecord.user_id == actor.id)
        .order_by(ServiceRecord.served_on.desc(), ServiceRecord.id.desc())
        .limit(limit)
    ).all()
    counting = set(db.session.scalars(counts))
    corrected = set(
        db.session.scalars(
            select(ServiceRecord.supersedes_id).where(
                ServiceRecord.user_id == actor.id,
                ServiceRecord.supersedes_id.is_not(None),
                ServiceRecord.status != RecordStatus.REJECTED,
            )
        )
    )
    return [(record, record.id in counting, record.id in corrected) for record in records]

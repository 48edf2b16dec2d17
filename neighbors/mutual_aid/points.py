"""Volunteer points (爱心积分): an append-only ledger earned from confirmed service.

Points follow the hours, which never call this feature: `settle` reads a person's records and
posts, for each chain of corrections (a record and the corrections that replaced it), the
difference between what the record that counts now earns and what the chain has earned so far.
Confirming earns, a correction posts the difference, a record that stops counting gives its
points back. Settling runs before every read of a balance, inside every redemption and from the
scheduler, so it is idempotent: a second run finds nothing to post.

The balance never goes below zero: each person's account row is locked while it changes and a
conditional UPDATE (and a CHECK) refuses to go lower. When a correction takes back points that
were spent already, the balance stops at zero and the rest is taken from the next points earned.
"""

import logging

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from neighbors.core import paging
from neighbors.core.db import transaction
from neighbors.core.errors import Conflict
from neighbors.core.permissions import require_user
from neighbors.extensions import db
from neighbors.hours import services as hours
from neighbors.hours.models import ServiceRecord
from neighbors.mutual_aid.models import EntryKind, PointsAccount, PointsEntry

logger = logging.getLogger(__name__)

EARNING = (EntryKind.EARNED, EntryKind.CORRECTED)
REASON_LABELS = {
    EntryKind.EARNED: _l("Confirmed service"),
    EntryKind.CORRECTED: _l("Service record corrected"),
    EntryKind.REDEEMED: _l("Love supermarket"),
    EntryKind.REVERSED: _l("Redemption reversed"),
}
HISTORY = 50


def rate():
    """Points per hour of confirmed service (POINTS_PER_HOUR)."""
    return int(current_app.config["POINTS_PER_HOUR"])


def points_for(minutes):
    """What so many minutes of confirmed service earn: prorated, rounded down."""
    return int(minutes) * rate() // 60


def balance(user_id):
    return (
        db.session.scalar(select(PointsAccount.balance).where(PointsAccount.user_id == user_id))
        or 0
    )


def lock_account(user_id):
    """Make sure the person has an account row and lock it until the unit of work ends (SQLite:
    the IMMEDIATE transaction already serialises writers)."""
    insert = (postgresql if db.engine.dialect.name == "postgresql" else sqlite).insert
    db.session.execute(
        insert(PointsAccount).values(user_id=user_id, balance=0).on_conflict_do_nothing()
    )
    return db.session.scalars(
        select(PointsAccount)
        .where(PointsAccount.user_id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def post(user_id, points, kind, *, actor=None, service_record_id=None, redemption_id=None, note=""):
    """Append an entry and move the balance by `points`, in the caller's unit of work (the
    account locked first). Raises Conflict (insufficient_points) rather than go below zero."""
    changed = db.session.execute(
        update(PointsAccount)
        .where(PointsAccount.user_id == user_id, PointsAccount.balance + points >= 0)
        .values(balance=PointsAccount.balance + points)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise Conflict(_("Not enough points."), code="insufficient_points")
    entry = PointsEntry(
        user_id=user_id,
        points=points,
        kind=kind,
        service_record_id=service_record_id,
        redemption_id=redemption_id,
        note=(note or "")[:200],
        actor_id=getattr(actor, "id", None),
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def _owed(user_id):
    """{chain's first record id: (points still to post, activity)} for one person."""
    records = db.session.execute(
        select(ServiceRecord.id, ServiceRecord.supersedes_id, ServiceRecord.minutes,
               ServiceRecord.activity)
        .where(ServiceRecord.user_id == user_id)
    ).all()  # fmt: skip
    counting = set(
        db.session.scalars(
            select(ServiceRecord.id).where(ServiceRecord.user_id == user_id, hours.is_effective())
        )
    )
    parent = {r.id: r.supersedes_id for r in records}

    def root(record_id):
        while parent.get(record_id):
            record_id = parent[record_id]
        return record_id

    due, activity = {}, {}
    for r in records:
        chain = root(r.id)
        due.setdefault(chain, 0)
        if r.id in counting:
            due[chain] += points_for(r.minutes)
            activity[chain] = r.activity
        activity.setdefault(chain, r.activity)
    posted = db.session.execute(
        select(PointsEntry.service_record_id, func.sum(PointsEntry.points))
        .where(PointsEntry.user_id == user_id, PointsEntry.kind.in_(EARNING))
        .group_by(PointsEntry.service_record_id)
    ).all()
    for chain, points in posted:
        due[chain] = due.get(chain, 0) - int(points)
    return {chain: (points, activity.get(chain, "")) for chain, points in due.items() if points}


def settle(user_id):
    """Post what the person's confirmed service owes them (or they owe back), in the caller's
    unit of work. Gains first; a loss is taken only down to zero, the rest waits for later
    gains. Returns the points posted."""
    account = lock_account(user_id)
    owed = _owed(user_id)
    if not owed:
        return 0
    posted_chains = set(
        db.session.scalars(
            select(PointsEntry.service_record_id).where(
                PointsEntry.user_id == user_id,
                PointsEntry.service_record_id.in_(list(owed)),
                PointsEntry.kind.in_(EARNING),
            )
        )
    )
    total = 0
    available = account.balance
    for chain, (points, activity) in sorted(owed.items(), key=lambda i: (-i[1][0], i[0])):
        if points < 0:
            points = -min(-points, available)
            if not points:
                continue
        kind = EntryKind.CORRECTED if chain in posted_chains else EntryKind.EARNED
        post(user_id, points, kind, service_record_id=chain, note=activity)
        available += points
        total += points
    if total:
        logger.info("points settled for user %s: %+d", user_id, total)
    return total


def settle_person(user_id):
    """Settle one person in a unit of work of its own, writing only when something is owed."""
    if not _owed(user_id):
        return 0
    with transaction():
        return settle(user_id)


def people_to_settle():
    """Ids of the people whose earned points differ from what their confirmed service earns
    (one grouped query over the records and one over the ledger)."""
    earned = dict(
        db.session.execute(
            select(ServiceRecord.user_id, func.sum(ServiceRecord.minutes * rate() // 60))
            .where(hours.is_effective())
            .group_by(ServiceRecord.user_id)
        ).all()
    )
    posted = dict(
        db.session.execute(
            select(PointsEntry.user_id, func.sum(PointsEntry.points))
            .where(PointsEntry.kind.in_(EARNING))
            .group_by(PointsEntry.user_id)
        ).all()
    )
    people = set(earned) | set(posted)
    return sorted(u for u in people if int(earned.get(u) or 0) != int(posted.get(u) or 0))


def people_changed_since(since):
    """Ids of the people with a service record recorded or reviewed (confirmed, rejected, or
    corrected: the correction is a new record) at or after `since`; two indexed range reads."""
    changed = select(ServiceRecord.user_id).where(
        or_(ServiceRecord.recorded_at >= since, ServiceRecord.reviewed_at >= since)
    )
    return sorted(set(db.session.scalars(changed.distinct())))


def settle_everyone(since=None):
    """The scheduler's catch-up: settle each person whose records changed since `since` (with
    None: everyone who is owed, or owes, points); returns how many people were settled. Safe to
    run again."""
    settled = 0
    people = people_to_settle() if since is None else people_changed_since(since)
    for user_id in people:
        try:
            if settle_person(user_id):
                settled += 1
        except Exception:  # one person's trouble must not stop the others
            logger.exception("points of user %s could not be settled", user_id)
    return settled


def my_points(actor, *, cursor=None, limit=HISTORY):
    """(balance, a page of entries newest first, from `cursor` on) of the actor, settled
    first. Raises NotAuthenticated."""
    require_user(actor)
    settle_person(actor.id)
    query = select(PointsEntry).where(PointsEntry.user_id == actor.id)
    return balance(actor.id), paging.by_id(query, PointsEntry.id, cursor=cursor, limit=limit)

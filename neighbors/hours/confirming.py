"""Staff confirm or reject pending records; the overdue queue and its weekly digest."""

import logging
from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import distinct, func, or_, select
from sqlalchemy.orm import joinedload

from neighbors.accounts.models import RoleGrant, User
from neighbors.areas.models import Community, Street
from neighbors.core import audit, outbox
from neighbors.core.db import transaction, utcnow
from neighbors.core.errors import Conflict, Invalid, NotFound
from neighbors.core.links import absolute_url
from neighbors.core.permissions import (
    Role,
    has_role,
    managed_community_ids,
    organised_ids,
    require_community_staff,
    require_role,
)
from neighbors.core.timezone import local_today, to_local
from neighbors.extensions import db
from neighbors.hours.models import RecordStatus, ServiceRecord
from neighbors.hours.records import _not_own

logger = logging.getLogger(__name__)

CONFIRM_WITHIN_WORKING_DAYS = 10
MAX_BULK = 500


def review(actor, record_ids, *, confirm, reason=None):
    """Confirm or reject pending records of the actor's communities, or of the events of an
    organisation the actor coordinates (谁组织谁记录), one or many at once.

    All or nothing; `reason` is kept as the review note the volunteer sees. Raises NotAllowed
    (also for one's own hours), NotFound (a record out of scope), Conflict (one is not pending),
    Invalid (none or too many at once).
    """
    organised = organised_ids(actor)
    if not organised:
        require_role(actor, Role.STAFF)
    ids = sorted({int(i) for i in record_ids if 0 < int(i) < 2**31})
    if not 1 <= len(ids) <= MAX_BULK:
        raise Invalid(_("Choose 1 to %(n)s records.", n=MAX_BULK))
    reason = (reason or "").strip()[:500] or None
    with transaction():
        records = db.session.scalars(
            select(ServiceRecord).where(ServiceRecord.id.in_(ids)).with_for_update()
        ).all()
        if len(records) != len(ids):
            raise NotFound(_("Not found."))
        for record in records:
            if record.organisation_id not in organised:  # 谁组织谁记录, else the community
                require_community_staff(actor, record.community_id)
            _not_own(actor, record)
            if record.status != RecordStatus.PENDING:
                raise Conflict(_("A record has been reviewed already."), code="not_pending")
            record.status = RecordStatus.CONFIRMED if confirm else RecordStatus.REJECTED
            record.reviewed_by_id, record.reviewed_at = actor.id, utcnow()
            record.review_note = reason
            audit.record(
                actor, "hours.confirm" if confirm else "hours.reject", record, note=bool(reason)
            )
    return records


def records_to_confirm(actor, *, overdue_only=False, organisation_id=None, limit=200):
    """Pending records of the actor's communities, and of the events of the organisations the
    actor coordinates, oldest service first, with their people.

    overdue_only: only those not confirmed within 10 working days of the service.
    Raises NotAllowed.
    """
    organised = organised_ids(actor)
    if not organised:
        require_role(actor, Role.STAFF)
    query = (
        select(ServiceRecord)
        .options(joinedload(ServiceRecord.user), joinedload(ServiceRecord.supersedes))
        .where(ServiceRecord.status == RecordStatus.PENDING)
        .order_by(ServiceRecord.served_on, ServiceRecord.id)
    )
    scope = managed_community_ids(actor) if has_role(actor, Role.STAFF) else set()
    if scope is not None:
        query = query.where(
            or_(
                ServiceRecord.community_id.in_(scope),
                ServiceRecord.organisation_id.in_(organised),
            )
        )
    if organisation_id is not None:
        query = query.where(ServiceRecord.organisation_id == organisation_id)
    if overdue_only:
        query = query.where(ServiceRecord.served_on < overdue_before(local_today()))
    return db.session.scalars(query.limit(limit)).all()


def overdue_before(today):
    """Service on a day before this one is overdue today: 10 working days (Mon–Fri) have passed."""
    day, left = today, CONFIRM_WITHIN_WORKING_DAYS
    while left:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return day


def is_overdue(record, today=None):
    today = today or local_today()
    return record.status == RecordStatus.PENDING and record.served_on < overdue_before(today)


def queue_overdue_digests(now):
    """The weekly digest: one e-mail to each staff member whose communities (granted one by one,
    or by their street or district) have records waiting longer than 10 working days, in their
    language. Returns the number queued."""
    cutoff = overdue_before(to_local(now).date())
    in_scope = or_(
        RoleGrant.community_id == ServiceRecord.community_id,
        RoleGrant.street_id == Community.street_id,
        RoleGrant.district_id == Street.district_id,
    )
    waiting = db.session.execute(
        select(User, func.count(distinct(ServiceRecord.id)), func.min(ServiceRecord.served_on))
        .select_from(ServiceRecord)
        .join(Community, Community.id == ServiceRecord.community_id)
        .join(Street, Street.id == Community.street_id)
        .join(RoleGrant, in_scope)
        .join(User, User.id == RoleGrant.user_id)
        .where(
            RoleGrant.role == Role.STAFF,
            User.active.is_(True),
            User.email.is_not(None),
            ServiceRecord.status == RecordStatus.PENDING,
            ServiceRecord.served_on < cutoff,
        )
        .group_by(User.id)
        .order_by(User.id)
    ).all()
    link = absolute_url("hours.queue", overdue=1)
    with transaction():
        for person, count, oldest in waiting:
            with outbox.language_of(person):
                outbox.queue(
                    person.email,
                    ngettext(
                        "%(num)s service record waits for confirmation",
                        "%(num)s service records wait for confirmation",
                        count,
                    ),
                    _(
                        "Hello %(name)s,\n\nin your communities %(count)s service records have "
                        "waited more than %(days)s working days for confirmation; the oldest is "
                        "from %(oldest)s. Volunteers see their hours only once you confirm them."
                        "\n\n%(link)s\n",
                        name=person.name,
                        count=count,
                        days=CONFIRM_WITHIN_WORKING_DAYS,
                        oldest=oldest.isoformat(),
                        link=link,
                    ),
                )
    return len(waiting)

"""The mutual aid dashboard: wishes posted, claimed and fulfilled by community and month, and
points earned and spent by month, in the staff member's communities."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from neighbors.areas.models import Community
from neighbors.core.permissions import Role, managed_community_ids, require_role
from neighbors.core.timezone import local_zone, to_local
from neighbors.extensions import db
from neighbors.hours.models import ServiceRecord
from neighbors.mutual_aid.models import EntryKind, PointsEntry, Redemption, Wish


@dataclass
class Dashboard:
    # (community name, month 1-12, posted, claimed, fulfilled), by community then month
    wishes: list
    # (month 1-12, points earned, points spent), months with any
    points: list


def dashboard(actor, year):
    """Raises NotAllowed."""
    require_role(actor, Role.STAFF)
    scope = managed_community_ids(actor)
    zone = local_zone()
    start = datetime(year, 1, 1, tzinfo=zone)
    end = datetime(year + 1, 1, 1, tzinfo=zone)

    def within(column):
        return (column >= start) & (column < end)

    query = (
        select(Community.name, Wish.created_at, Wish.claimed_at, Wish.fulfilled_at)
        .join(Wish.community)
        .where(or_(within(Wish.created_at), within(Wish.claimed_at), within(Wish.fulfilled_at)))
    )
    if scope is not None:
        query = query.where(Wish.community_id.in_(scope))
    counts = defaultdict(lambda: [0, 0, 0])
    for name, *moments in db.session.execute(query):
        for i, moment in enumerate(moments):
            local = to_local(moment)
            if local is not None and local.year == year:
                counts[(name, local.month)][i] += 1
    wishes = [(name, month, *values) for (name, month), values in sorted(counts.items())]

    earned = (
        select(PointsEntry.at, PointsEntry.points)
        .join(ServiceRecord, ServiceRecord.id == PointsEntry.service_record_id)
        .where(
            PointsEntry.kind.in_((EntryKind.EARNED, EntryKind.CORRECTED)),
            within(PointsEntry.at),
        )
    )
    spent = select(Redemption.at, Redemption.points).where(
        within(Redemption.at), Redemption.reversed_at.is_(None)
    )
    if scope is not None:
        earned = earned.where(ServiceRecord.community_id.in_(scope))
        spent = spent.where(Redemption.community_id.in_(scope))
    months = defaultdict(lambda: [0, 0])
    for at, points in db.session.execute(earned):
        months[to_local(at).month][0] += points
    for at, points in db.session.execute(spent):
        months[to_local(at).month][1] += points
    return Dashboard(wishes, [(month, *values) for month, values in sorted(months.items())])

"""The hours dashboards: aggregates, each in a fixed number of queries; also by organisation."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import distinct, func, select

from neighbors.accounts.models import User
from neighbors.areas.models import Community, District, Street
from neighbors.core.permissions import Role, has_role, managed_community_ids, require_role
from neighbors.core.timezone import local_today
from neighbors.events.models import Category
from neighbors.extensions import db
from neighbors.hours.models import ServiceRecord
from neighbors.hours.services import is_effective


@dataclass
class Dashboard:
    months: list  # [(first day of month, minutes, people)]
    categories: list  # [(category, minutes)]
    top: list  # [(name, minutes)]
    areas: list  # admins: [(district, street, minutes, people)]


def dashboard(actor, year=None):
    """Confirmed service in the actor's communities (admins: everywhere, also by street and
    district) for a year: per month, per line of work, and the most active volunteers.

    Raises NotAllowed.
    """
    require_role(actor, Role.STAFF)
    year = year or local_today().year
    period = ServiceRecord.served_on.between(date(year, 1, 1), date(year, 12, 31))
    scope = managed_community_ids(actor)
    in_scope = [is_effective(), period]
    if scope is not None:
        in_scope.append(ServiceRecord.community_id.in_(scope))
    month = func.extract("month", ServiceRecord.served_on)
    months = {
        int(m): (int(minutes), people)
        for m, minutes, people in db.session.execute(
            select(
                month, func.sum(ServiceRecord.minutes), func.count(distinct(ServiceRecord.user_id))
            )
            .where(*in_scope)
            .group_by(month)
        )
    }
    categories = dict(
        db.session.execute(
            select(ServiceRecord.category, func.sum(ServiceRecord.minutes))
            .where(*in_scope)
            .group_by(ServiceRecord.category)
        ).all()
    )
    # The ten are summed by person first and only they are joined to their names: joining
    # users before summing looked up every record's person (a city's community: 14 → 1 ms).
    minutes = func.sum(ServiceRecord.minutes).label("minutes")
    ten = (
        select(ServiceRecord.user_id, minutes)
        .where(*in_scope)
        .group_by(ServiceRecord.user_id)
        .order_by(minutes.desc(), ServiceRecord.user_id)
        .limit(10)
        .subquery()
    )
    top = db.session.execute(
        select(User.name, ten.c.minutes)
        .join(ten, ten.c.user_id == User.id)
        .order_by(ten.c.minutes.desc(), ten.c.user_id)
    ).all()
    areas = []
    if has_role(actor, Role.ADMIN):
        areas = db.session.execute(
            select(
                District.name,
                Street.name,
                func.sum(ServiceRecord.minutes),
                func.count(distinct(ServiceRecord.user_id)),
            )
            .join(Community, Community.id == ServiceRecord.community_id)
            .join(Street, Street.id == Community.street_id)
            .join(District, District.id == Street.district_id)
            .where(*in_scope)
            .group_by(District.name, Street.name)
            .order_by(District.name, Street.name)
        ).all()
    return Dashboard(
        months=[(date(year, m, 1), *months.get(m, (0, 0))) for m in range(1, 13)],
        categories=[(c, int(categories.get(c) or 0)) for c in (*Category, None)],
        top=[(name, int(minutes)) for name, minutes in top],
        areas=[tuple(row) for row in areas],
    )


def organisation_totals(year, *, community_ids=None, organisation_ids=None):
    """Confirmed service at the events organisations ran in a year, in one query:
    {organisation_id: (activities, minutes, people)}, for the communities or organisations
    given (None: all)."""
    query = (
        select(
            ServiceRecord.organisation_id,
            func.count(distinct(ServiceRecord.event_id)),
            func.sum(ServiceRecord.minutes),
            func.count(distinct(ServiceRecord.user_id)),
        )
        .where(
            is_effective(),
            ServiceRecord.organisation_id.is_not(None),
            ServiceRecord.served_on.between(date(year, 1, 1), date(year, 12, 31)),
        )
        .group_by(ServiceRecord.organisation_id)
    )
    if community_ids is not None:
        query = query.where(ServiceRecord.community_id.in_(community_ids))
    if organisation_ids is not None:
        query = query.where(ServiceRecord.organisation_id.in_(organisation_ids))
    return {
        organisation_id: (int(activities), int(minutes or 0), int(people))
        for organisation_id, activities, minutes, people in db.session.execute(query)
    }


def organisation_people(organisation_id, year):
    """Who served at an organisation's events in a year, most hours first, in one query:
    [(name, activities, minutes)]."""
    minutes = func.sum(ServiceRecord.minutes)
    return [
        (name, int(activities), int(total))
        for name, activities, total in db.session.execute(
            select(User.name, func.count(distinct(ServiceRecord.event_id)), minutes)
            .join(User, User.id == ServiceRecord.user_id)
            .where(
                is_effective(),
                ServiceRecord.organisation_id == organisation_id,
                ServiceRecord.served_on.between(date(year, 1, 1), date(year, 12, 31)),
            )
            .group_by(User.id, User.name)
            .order_by(minutes.desc(), User.name)
        )
    ]


def decimal_hours(minutes):
    """Minutes as hours with two decimals, for a spreadsheet's number cells."""
    return (Decimal(minutes) / 60).quantize(Decimal("0.01"))

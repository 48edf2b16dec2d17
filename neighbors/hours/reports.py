"""Party member reports and the hours dashboards: aggregates, each in a fixed number of queries."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import distinct, func, select

from neighbors.accounts.models import PartyMember, ReportStatus, User
from neighbors.areas.models import Community, District, Street
from neighbors.core import audit
from neighbors.core.permissions import Role, has_role, managed_community_ids, require_role
from neighbors.core.timezone import local_today
from neighbors.events.models import Category
from neighbors.extensions import db
from neighbors.hours.models import ServiceRecord
from neighbors.hours.services import effective


@dataclass
class PartyRow:
    name: str
    work_unit: str
    branch: str
    community: str
    reported_on: date
    confirmed: bool
    activities: int
    minutes: int
    meets_targets: bool


def party_report(actor, year, work_unit=None, export=None):
    """Every Party member reporting to the actor's communities (a rejected report-in excepted),
    with their confirmed service in the year against the targets, sorted by work unit and
    branch: the feedback table, for all units or one. With an export format, the download is
    written to the audit log.

    Raises NotAllowed.
    """
    require_role(actor, Role.STAFF)
    if export:
        audit.record_export(actor, "party_report", format=export, year=year, unit=bool(work_unit))
    members = select(PartyMember.user_id).where(PartyMember.status != ReportStatus.REJECTED)
    scope = managed_community_ids(actor)
    if scope is not None:
        members = members.where(PartyMember.community_id.in_(scope))
    if work_unit:
        members = members.where(PartyMember.work_unit == work_unit)
    served = (
        select(
            ServiceRecord.user_id,
            func.count().label("activities"),
            func.sum(ServiceRecord.minutes).label("minutes"),
        )
        .where(
            effective(),
            ServiceRecord.served_on.between(date(year, 1, 1), date(year, 12, 31)),
            ServiceRecord.user_id.in_(members),
        )
        .group_by(ServiceRecord.user_id)
        .subquery()
    )
    query = (
        select(
            User.name,
            PartyMember.work_unit,
            PartyMember.branch,
            Community.name,
            PartyMember.reported_on,
            PartyMember.status,
            func.coalesce(served.c.activities, 0),
            func.coalesce(served.c.minutes, 0),
        )
        .join(PartyMember, PartyMember.user_id == User.id)
        .join(Community, Community.id == PartyMember.community_id)
        .outerjoin(served, served.c.user_id == User.id)
        .where(User.id.in_(members))
        .order_by(PartyMember.work_unit, PartyMember.branch, User.name)
    )
    config = current_app.config
    rows = []
    for (
        name,
        unit,
        branch,
        community,
        reported_on,
        status,
        activities,
        minutes,
    ) in db.session.execute(query):
        rows.append(
            PartyRow(
                name,
                unit,
                branch,
                community,
                reported_on,
                status == ReportStatus.CONFIRMED,
                int(activities),
                int(minutes),
                activities >= config["PARTY_TARGET_ACTIVITIES"]
                and minutes >= config["PARTY_TARGET_HOURS"] * 60,
            )
        )
    return rows


def party_table(rows):
    """The feedback table's header and rows, for CSV and XLSX."""
    header = [
        _("Name"),
        _("Work unit"),
        _("Party branch"),
        _("Community"),
        _("Report-in date"),
        _("Report-in confirmed"),
        _("Activities"),
        _("Hours"),
        _("Evaluation"),
    ]
    body = [
        [
            r.name,
            r.work_unit,
            r.branch,
            r.community,
            r.reported_on,
            _("Yes") if r.confirmed else _("No"),
            r.activities,
            (Decimal(r.minutes) / 60).quantize(Decimal("0.01")),
            _("Meets the targets") if r.meets_targets else _("Below the targets"),
        ]
        for r in rows
    ]
    return header, body


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
    in_scope = [effective(), period]
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
    top = db.session.execute(
        select(User.name, func.sum(ServiceRecord.minutes).label("minutes"))
        .join(User, User.id == ServiceRecord.user_id)
        .where(*in_scope)
        .group_by(User.id, User.name)
        .order_by(func.sum(ServiceRecord.minutes).desc())
        .limit(10)
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

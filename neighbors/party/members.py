"""Party member report-in: members declare themselves to a community; its staff confirm."""

import logging
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from neighbors.accounts.models import User
from neighbors.accounts.profiles import grid_in
from neighbors.areas import services as areas
from neighbors.areas.models import Community
from neighbors.core import audit
from neighbors.core.db import transaction, utcnow
from neighbors.core.errors import Conflict, Invalid, NotAllowed, NotFound
from neighbors.core.permissions import (
    Role,
    managed_community_ids,
    require_community_staff,
    require_role,
    require_user,
)
from neighbors.core.timezone import local_today
from neighbors.extensions import db
from neighbors.party.models import PartyMember, ReportStatus

logger = logging.getLogger(__name__)

PARTY_FOUNDED = date(1921, 7, 1)


def declare_party_membership(actor, *, branch, work_unit, community_code, grid_code, reported_on):
    """Declare (or re-declare) one's Party details and report-in; staff then confirm it.

    Raises NotAuthenticated, Invalid, NotFound (community).
    """
    require_user(actor)
    today = local_today()
    if not isinstance(reported_on, date) or not PARTY_FOUNDED <= reported_on <= today:
        message = _("Enter the date you reported in; it cannot be in the future.")
        raise Invalid.from_fields({"reported_on": message})
    fields = {}
    for key, value in (("branch", branch), ("work_unit", work_unit)):
        if not 1 <= len((value or "").strip()) <= 200:
            fields[key] = _("Enter 1 to 200 characters.")
    if fields:
        raise Invalid.from_fields(fields)
    with transaction():
        community = areas.community_by_code(community_code)
        # Lock the person's row, so two submissions at once update one report-in in turn.
        db.session.get(User, actor.id, with_for_update=True)
        member = db.session.get(PartyMember, actor.id) or PartyMember(user_id=actor.id)
        member.branch, member.work_unit = branch.strip(), work_unit.strip()
        member.community = community
        member.grid = grid_in(community, grid_code)
        member.reported_on = reported_on
        member.status = ReportStatus.DECLARED
        member.declared_at = utcnow()
        member.reviewed_by, member.reviewed_at = None, None
        db.session.add(member)
        db.session.flush()
        audit.record(actor, "party.declare", member.user, community=community.code)
    return member


def party_reports(actor, status=None):
    """Party member report-ins of the communities the actor manages, newest first.

    Raises NotAuthenticated, NotAllowed.
    """
    require_role(actor, Role.STAFF)
    query = select(PartyMember).join(PartyMember.user).order_by(PartyMember.declared_at.desc())
    scope = managed_community_ids(actor)
    if scope is not None:
        query = query.where(PartyMember.community_id.in_(scope))
    if status:
        query = query.where(PartyMember.status == ReportStatus(status))
    query = query.options(
        joinedload(PartyMember.user),
        joinedload(PartyMember.community),
        joinedload(PartyMember.grid),
    )
    return db.session.scalars(query.limit(500)).all()


def reporting_members(actor, work_unit=None):
    """Every Party member reporting to the actor's communities, a rejected report-in excepted,
    for the Party report: (user_id, name, work_unit, branch, community, reported_on, confirmed)
    sorted by work unit, branch and name, for all units or one.

    Raises NotAllowed.
    """
    require_role(actor, Role.STAFF)
    query = (
        select(
            User.id,
            User.name,
            PartyMember.work_unit,
            PartyMember.branch,
            Community.name,
            PartyMember.reported_on,
            PartyMember.status == ReportStatus.CONFIRMED,
        )
        .join(PartyMember, PartyMember.user_id == User.id)
        .join(Community, Community.id == PartyMember.community_id)
        .where(PartyMember.status != ReportStatus.REJECTED)
        .order_by(PartyMember.work_unit, PartyMember.branch, User.name)
    )
    scope = managed_community_ids(actor)
    if scope is not None:
        query = query.where(PartyMember.community_id.in_(scope))
    if work_unit:
        query = query.where(PartyMember.work_unit == work_unit)
    return db.session.execute(query).all()


def review_party_report(actor, user_id, *, confirm):
    """Confirm or reject a member's report-in to one of the actor's communities.

    Raises NotAllowed (not staff, or one's own report-in), NotFound (no such report, or
    another community's), Conflict (already reviewed).
    """
    require_role(actor, Role.STAFF)
    with transaction():
        member = db.session.get(PartyMember, user_id, with_for_update=True)
        if member is None:
            raise NotFound(_("Not found."))
        require_community_staff(actor, member.community_id)
        if member.user_id == actor.id:
            raise NotAllowed(_("Another staff member must review your own report-in."))
        if member.status != ReportStatus.DECLARED:
            raise Conflict(_("This report-in has already been reviewed."))
        member.status = ReportStatus.CONFIRMED if confirm else ReportStatus.REJECTED
        member.reviewed_by_id, member.reviewed_at = actor.id, utcnow()
        audit.record(actor, "party.confirm" if confirm else "party.reject", member.user)
    return member

"""双报到, the organisation's half: a Party organisation reports in to a community for an
agreement period, with a contact and the posts it takes on from the list the community keeps;
the community's staff confirm it. Its members who reported in themselves are listed under it."""

import logging
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from neighbors.accounts.models import User
from neighbors.areas import services as areas
from neighbors.areas.models import Community
from neighbors.core import audit
from neighbors.core.db import flush_unique, transaction, utcnow
from neighbors.core.errors import Conflict, Invalid, NotFound
from neighbors.core.permissions import (
    Role,
    has_role,
    managed_community_ids,
    organised_ids,
    require_community_staff,
    require_role,
)
from neighbors.extensions import db
from neighbors.organisations import services as organisations
from neighbors.organisations.models import (
    Membership,
    MembershipStatus,
    Organisation,
    OrganisationKind,
)
from neighbors.party.models import (
    OrganisationReport,
    PartyMember,
    PartyPost,
    PostClaim,
    ReportStatus,
)

logger = logging.getLogger(__name__)


def add_post(actor, *, community_code, name, people_needed, description=""):
    """Staff add a project or post to the list their community offers (认领项目).

    Raises NotAllowed, NotFound (community), Invalid, Conflict (`post_exists`)."""
    require_role(actor, Role.STAFF)
    name, description = (name or "").strip(), (description or "").strip()
    problems = {}
    if not 1 <= len(name) <= 200:
        problems["name"] = _("Enter the name: 1 to 200 characters.")
    if not isinstance(people_needed, int) or not 1 <= people_needed <= 1000:
        problems["people_needed"] = _("Enter how many people it needs: 1 to 1000.")
    if len(description) > 2000:
        problems["description"] = _("Enter at most 2000 characters.")
    if problems:
        raise Invalid.from_fields(problems)
    with transaction():
        community = areas.community_by_code(community_code)
        require_community_staff(actor, community.id)
        post = PartyPost(
            community_id=community.id,
            name=name,
            description=description,
            people_needed=people_needed,
        )
        db.session.add(post)
        flush_unique(_("The community already offers a post with this name."), "post_exists")
        audit.record(actor, "party.add_post", post, community=community.code)
    return post


def close_post(actor, post_id):
    """Staff take a post off the list; claims made already stay. Raises NotAllowed, NotFound."""
    require_role(actor, Role.STAFF)
    with transaction():
        post = db.session.get(PartyPost, post_id, with_for_update=True)
        if post is None:
            raise NotFound(_("Not found."))
        require_community_staff(actor, post.community_id)
        post.open = False
        audit.record(actor, "party.close_post", post)
    return post


def posts_in_scope(actor):
    """The posts of the actor's communities, open first: [(post, community name)].
    Raises NotAllowed."""
    require_role(actor, Role.STAFF)
    query = (
        select(PartyPost, Community.name)
        .join(Community, Community.id == PartyPost.community_id)
        .order_by(PartyPost.open.desc(), Community.name, PartyPost.name)
        .limit(500)
    )
    scope = managed_community_ids(actor)
    if scope is not None:
        query = query.where(PartyPost.community_id.in_(scope))
    return db.session.execute(query).all()


def open_posts(community_code):
    """The posts a community offers now, by name. Raises NotFound (community)."""
    community = areas.community_by_code(community_code)
    return db.session.scalars(
        select(PartyPost)
        .where(PartyPost.community_id == community.id, PartyPost.open.is_(True))
        .order_by(PartyPost.name)
    ).all()


def report_in(
    actor,
    organisation_id,
    *,
    community_code,
    starts_on,
    ends_on,
    contact_name,
    contact_email,
    contact_phone="",
    claims=None,
):
    """A Party organisation's leader or coordinator (or staff for it) reports it in to a
    community with the posts it takes on ({post_id: people}); staff of the community confirm.

    Raises NotFound (organisation, community), Invalid, Conflict (`not_party_org`,
    `already_reported`)."""
    values = _contact(starts_on, ends_on, contact_name, contact_email, contact_phone)
    with transaction():
        organisation = organisations.run_organisation(actor, organisation_id, lock=True)
        if organisation.kind != OrganisationKind.PARTY_ORG:
            message = _("Only a Party organisation reports in to a community.")
            raise Conflict(message, code="not_party_org")
        community = areas.community_by_code(community_code)
        report = OrganisationReport(
            organisation_id=organisation.id,
            community_id=community.id,
            declared_by_id=actor.id,
            **values,
        )
        report.claims = _claims(community.id, claims or {})
        db.session.add(report)
        message = _("This organisation has reported in to this community already.")
        flush_unique(message, "already_reported")
        audit.record(actor, "party.org_report", report, community=community.code)
    return report


def _contact(starts_on, ends_on, contact_name, contact_email, contact_phone):
    problems = {}
    if not isinstance(starts_on, date):
        problems["starts_on"] = _("Enter the first day of the agreement.")
    if not isinstance(ends_on, date) or (isinstance(starts_on, date) and ends_on < starts_on):
        problems["ends_on"] = _("Enter the last day of the agreement, on or after the first.")
    name, email = (contact_name or "").strip(), (contact_email or "").strip()
    phone = (contact_phone or "").strip()
    if not 1 <= len(name) <= 100:
        problems["contact_name"] = _("Enter the contact's name.")
    local, at, domain = email.partition("@")
    if len(email) > 254 or not (local and at and "." in domain) or any(c.isspace() for c in email):
        problems["contact_email"] = _(
            "Enter the contact's e-mail address: the feedback goes there."
        )
    if len(phone) > 30 or not all(ch.isdigit() or ch in "-+ " for ch in phone):
        problems["contact_phone"] = _("Enter a telephone number (digits, spaces and dashes).")
    if problems:
        raise Invalid.from_fields(problems)
    return {
        "starts_on": starts_on,
        "ends_on": ends_on,
        "contact_name": name,
        "contact_email": email,
        "contact_phone": phone,
    }


def _claims(community_id, wanted):
    """The claims on the community's open posts; people between 1 and what a post needs."""
    chosen = {post_id: people for post_id, people in wanted.items() if people}
    posts = {
        post.id: post
        for post in db.session.scalars(
            select(PartyPost).where(
                PartyPost.id.in_(list(chosen)),
                PartyPost.community_id == community_id,
                PartyPost.open.is_(True),
            )
        )
    }
    problems = {}
    for post_id, people in chosen.items():
        post = posts.get(post_id)
        if post is None:
            problems[f"post-{post_id}"] = _("This post is not on the community's list.")
        elif not isinstance(people, int) or not 1 <= people <= post.people_needed:
            problems[f"post-{post_id}"] = _(
                "Enter 1 to %(num)s people for %(post)s.", num=post.people_needed, post=post.name
            )
    if problems:
        raise Invalid.from_fields(problems)
    return [PostClaim(post_id=post_id, people=people) for post_id, people in chosen.items()]


def review(actor, report_id, *, confirm):
    """Staff of the community confirm or reject a Party organisation's report-in.

    Raises NotAllowed, NotFound (another community's), Conflict (`not_declared`)."""
    require_role(actor, Role.STAFF)
    with transaction():
        report = db.session.get(OrganisationReport, report_id, with_for_update=True)
        if report is None:
            raise NotFound(_("Not found."))
        require_community_staff(actor, report.community_id)
        if report.status != ReportStatus.DECLARED:
            raise Conflict(_("This report-in has already been reviewed."), code="not_declared")
        report.status = ReportStatus.CONFIRMED if confirm else ReportStatus.REJECTED
        report.reviewed_by_id, report.reviewed_at = actor.id, utcnow()
        audit.record(actor, "party.org_confirm" if confirm else "party.org_reject", report)
    return report


def reports_in_scope(actor, status=None):
    """Party organisations' report-ins to the actor's communities, newest first.
    Raises NotAllowed."""
    require_role(actor, Role.STAFF)
    query = _with_details(select(OrganisationReport)).order_by(
        OrganisationReport.declared_at.desc(), OrganisationReport.id.desc()
    )
    scope = managed_community_ids(actor)
    if scope is not None:
        query = query.where(OrganisationReport.community_id.in_(scope))
    if status:
        query = query.where(OrganisationReport.status == ReportStatus(status))
    return db.session.scalars(query.limit(500)).all()


def organisation_reports(actor, organisation_id):
    """An organisation's report-ins, for those who run it: (organisation, reports).
    Raises NotAuthenticated, NotFound."""
    organisation = organisations.run_organisation(actor, organisation_id)
    reports = db.session.scalars(
        _with_details(select(OrganisationReport))
        .where(OrganisationReport.organisation_id == organisation.id)
        .order_by(OrganisationReport.declared_at.desc())
    ).all()
    return organisation, reports


def report_for(actor, report_id):
    """One report-in, for staff of its community and those who run the organisation.
    Raises NotAuthenticated, NotFound (anyone else)."""
    report = db.session.scalar(
        _with_details(select(OrganisationReport)).where(OrganisationReport.id == report_id)
    )
    if report is None or not may_see(actor, report):
        raise NotFound(_("Not found."))
    return report


def may_see(actor, report):
    """Staff of the report's community, or those who run the organisation."""
    return report.organisation_id in organised_ids(actor) or may_review(actor, report)


def may_review(actor, report):
    """True for staff of the report's community (they confirm it and send its feedback)."""
    if not has_role(actor, Role.STAFF):
        return False
    scope = managed_community_ids(actor)
    return scope is None or report.community_id in scope


def reported_members(organisation_id):
    """Active members of the organisation who reported in themselves (a rejected report-in
    excepted), by name: [(user_id, name, branch, community name, reported_on, confirmed)]."""
    rows = db.session.execute(
        select(
            User.id,
            User.name,
            PartyMember.branch,
            Community.name,
            PartyMember.reported_on,
            PartyMember.status == ReportStatus.CONFIRMED,
        )
        .join(Membership, Membership.user_id == User.id)
        .join(PartyMember, PartyMember.user_id == User.id)
        .join(Community, Community.id == PartyMember.community_id)
        .where(
            Membership.organisation_id == organisation_id,
            Membership.status == MembershipStatus.ACTIVE,
            PartyMember.status != ReportStatus.REJECTED,
        )
        .order_by(User.name, User.id)
    ).all()
    return [tuple(row[:5]) + (bool(row[5]),) for row in rows]


def _with_details(query):
    return query.options(
        joinedload(OrganisationReport.organisation).joinedload(Organisation.community),
        joinedload(OrganisationReport.community),
        selectinload(OrganisationReport.claims).joinedload(PostClaim.post),
    )

"""Organisations: registered by their community's staff or applied for by a resident; members
join by request (a coordinator decides) or are added; leaders and coordinators run them."""

import logging

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from neighbors.accounts import services as accounts
from neighbors.accounts.models import User
from neighbors.areas import services as areas
from neighbors.core import audit
from neighbors.core.db import flush_unique, transaction, utcnow
from neighbors.core.errors import Conflict, Invalid, NotFound
from neighbors.core.links import absolute_url
from neighbors.core.permissions import (
    Role,
    has_role,
    managed_community_ids,
    organised_ids,
    require_community_staff,
    require_role,
    require_user,
)
from neighbors.extensions import db
from neighbors.organisations.models import (
    MemberRole,
    Membership,
    MembershipStatus,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
)

logger = logging.getLogger(__name__)

# GB 32100-2015: 18 characters from this alphabet (no I, O, S, V or Z); the last one checks the
# first 17 with the weights 3^i mod 31.
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = [pow(3, i, 31) for i in range(17)]
OPEN = (MembershipStatus.REQUESTED, MembershipStatus.ACTIVE)


def credit_code_valid(code):
    """True for a unified social credit code whose check character is right."""
    if not isinstance(code, str) or len(code) != 18:
        return False
    if any(ch not in CREDIT_ALPHABET for ch in code):
        return False
    total = sum(CREDIT_ALPHABET.index(ch) * w for ch, w in zip(code, CREDIT_WEIGHTS, strict=False))
    return CREDIT_ALPHABET[(31 - total % 31) % 31] == code[17]


def _fields(name, kind, credit_code, contact_name, contact_phone, description):
    """The organisation's fields, checked together. Raises Invalid naming every bad one."""
    problems, values = {}, {}
    values["name"] = (name or "").strip()
    if not 1 <= len(values["name"]) <= 200 or any(ch < " " for ch in values["name"]):
        problems["name"] = _("Enter the name: 1 to 200 characters on one line.")
    try:
        values["kind"] = OrganisationKind(kind)
    except ValueError:
        problems["kind"] = _("Choose what kind of organisation it is.")
    code = (credit_code or "").strip().upper() or None
    if code is not None and not credit_code_valid(code):
        problems["credit_code"] = _(
            "This is not a unified social credit code: 18 characters, the last one a check "
            "character. Copy it from the registration certificate, or leave it empty."
        )
    values["credit_code"] = code
    values["contact_name"] = (contact_name or "").strip()
    values["contact_phone"] = (contact_phone or "").strip()
    if len(values["contact_name"]) > 100:
        problems["contact_name"] = _("Enter at most 100 characters.")
    phone = values["contact_phone"]
    if len(phone) > 30 or not all(ch.isdigit() or ch in "-+ " for ch in phone):
        problems["contact_phone"] = _("Enter a telephone number (digits, spaces and dashes).")
    values["description"] = (description or "").strip()
    if len(values["description"]) > 2000:
        problems["description"] = _("Enter at most 2000 characters.")
    if problems:
        raise Invalid.from_fields(problems)
    return values


def register(
    actor,
    *,
    name,
    kind,
    community_code,
    credit_code=None,
    contact_name="",
    contact_phone="",
    description="",
):
    """Staff of the community register an organisation (active at once); anyone else signed in
    applies for one, becomes its leader, and staff of the community decide.

    Raises NotAuthenticated, Invalid, NotFound (community), Conflict (`organisation_exists`).
    """
    require_user(actor)
    values = _fields(name, kind, credit_code, contact_name, contact_phone, description)
    with transaction():
        community = areas.community_by_code(community_code)
        scope = managed_community_ids(actor) if has_role(actor, Role.STAFF) else set()
        by_staff = scope is None or community.id in scope
        organisation = Organisation(
            community_id=community.id,
            created_by_id=actor.id,
            status=OrganisationStatus.ACTIVE if by_staff else OrganisationStatus.APPLIED,
            **values,
        )
        db.session.add(organisation)
        message = _("An organisation with this name or credit code is already registered.")
        flush_unique(message, "organisation_exists")
        if not by_staff:  # the applicant leads what they asked for
            db.session.add(
                Membership(organisation=organisation, user_id=actor.id, role=MemberRole.LEADER)
            )
        audit.record(
            actor, "organisation.register" if by_staff else "organisation.apply", organisation
        )
    return organisation


def review_application(actor, organisation_id, *, approve):
    """Staff of the community approve or reject an application. Raises NotAllowed, NotFound,
    Conflict (`not_applied`)."""
    require_role(actor, Role.STAFF)
    with transaction():
        organisation = _locked(organisation_id)
        if organisation is None:
            raise NotFound(_("Not found."))
        require_community_staff(actor, organisation.community_id)
        if organisation.status != OrganisationStatus.APPLIED:
            raise Conflict(_("This application has already been decided."), code="not_applied")
        organisation.status = OrganisationStatus.ACTIVE if approve else OrganisationStatus.REJECTED
        organisation.reviewed_by_id, organisation.reviewed_at = actor.id, utcnow()
        if not approve:
            for membership in organisation.memberships:
                membership.status = MembershipStatus.DECLINED
        audit.record(
            actor, "organisation.approve" if approve else "organisation.reject", organisation
        )
    return organisation


def applications(actor):
    """Applications waiting in the communities the actor manages, oldest first."""
    query = _in_scope(actor, select(Organisation)).where(
        Organisation.status == OrganisationStatus.APPLIED
    )
    return db.session.scalars(
        query.options(joinedload(Organisation.community)).order_by(Organisation.created_at)
    ).all()


def directory(*, community_code=None, kind=None, limit=200):
    """Active organisations with their member counts: [(organisation, members)], by name.
    Raises Invalid for an unknown kind, NotFound for an unknown community."""
    members = (
        select(func.count(Membership.id))
        .where(
            Membership.organisation_id == Organisation.id,
            Membership.status == MembershipStatus.ACTIVE,
        )
        .scalar_subquery()
    )
    query = (
        select(Organisation, members)
        .where(Organisation.status == OrganisationStatus.ACTIVE)
        .options(joinedload(Organisation.community))
        .order_by(Organisation.name, Organisation.id)
    )
    if community_code:
        query = query.where(Organisation.community_id == areas.community_by_code(community_code).id)
    if kind:
        try:
            query = query.where(Organisation.kind == OrganisationKind(kind))
        except ValueError:
            raise Invalid.from_fields(
                {"kind": _("Choose what kind of organisation it is.")}
            ) from None
    return db.session.execute(query.limit(limit)).all()


def public_organisation(organisation_id):
    """An active organisation for its public page. Raises NotFound."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or organisation.status != OrganisationStatus.ACTIVE:
        raise NotFound(_("Not found."))
    return organisation


def may_run(actor, organisation):
    """True when the actor runs this organisation: its leader or coordinator, staff of its
    community, or an admin."""
    if organisation.id in organised_ids(actor):
        return True
    if not has_role(actor, Role.STAFF):
        return False
    scope = managed_community_ids(actor)
    return scope is None or organisation.community_id in scope


def run_organisation(actor, organisation_id, lock=False):
    """The organisation, for those who run it. Raises NotAuthenticated, NotFound (others)."""
    require_user(actor)
    organisation = (
        _locked(organisation_id) if lock else db.session.get(Organisation, organisation_id)
    )
    if organisation is None or not may_run(actor, organisation):
        raise NotFound(_("Not found."))
    return organisation


def members(actor, organisation_id):
    """Active members and open requests, for those who run it: (members, requests)."""
    organisation = run_organisation(actor, organisation_id)
    rows = db.session.scalars(
        select(Membership)
        .where(Membership.organisation_id == organisation.id, Membership.status.in_(OPEN))
        .options(joinedload(Membership.user))
        .order_by(Membership.role, Membership.created_at)
    ).all()
    active = [m for m in rows if m.status == MembershipStatus.ACTIVE]
    return organisation, active, [m for m in rows if m.status == MembershipStatus.REQUESTED]


def add_member(actor, organisation_id, user_id, role=MemberRole.MEMBER):
    """Those who run it add a person with a role (or change an active member's role).

    Raises NotFound (organisation or person), Invalid (role), Conflict (`not_active`)."""
    try:
        role = MemberRole(role)
    except ValueError:
        raise Invalid.from_fields({"role": _("Choose leader, coordinator or member.")}) from None
    with transaction():
        organisation = run_organisation(actor, organisation_id, lock=True)
        _require_active(organisation)
        person = db.session.get(User, user_id) if isinstance(user_id, int) else None
        if person is None or not person.active:
            raise NotFound(
                _("No such person."), code="no_such_user", fields={"user_id": _("Not found.")}
            )
        membership = _open_membership(organisation.id, person.id)
        if membership is None:
            membership = Membership(organisation_id=organisation.id, user_id=person.id, role=role)
            db.session.add(membership)
        membership.role, membership.status = role, MembershipStatus.ACTIVE
        membership.decided_by_id, membership.decided_at = actor.id, utcnow()
        db.session.flush()
        audit.record(
            actor,
            "organisation.add_member",
            membership,
            organisation=organisation.id,
            role=str(role),
        )
    return membership


def request_to_join(actor, organisation_id):
    """A person asks to join; a coordinator decides. Asking twice is one request.

    Raises NotAuthenticated, NotFound, Conflict (`already_member`)."""
    require_user(actor)
    with transaction():
        organisation = _locked(organisation_id)
        if organisation is None or organisation.status != OrganisationStatus.ACTIVE:
            raise NotFound(_("Not found."))
        membership = _open_membership(organisation.id, actor.id)
        if membership is not None:
            if membership.status == MembershipStatus.ACTIVE:
                raise Conflict(_("You are already a member."), code="already_member")
            return membership
        membership = Membership(
            organisation_id=organisation.id,
            user_id=actor.id,
            role=MemberRole.MEMBER,
            status=MembershipStatus.REQUESTED,
        )
        db.session.add(membership)
        db.session.flush()
        audit.record(actor, "organisation.request", membership, organisation=organisation.id)
    return membership


def decide_request(actor, membership_id, *, accept):
    """A coordinator (or staff of the community) accepts or declines a request to join.

    Raises NotFound, Conflict (`not_requested`)."""
    require_user(actor)
    with transaction():
        membership = db.session.get(Membership, membership_id, with_for_update=True)
        if membership is None:
            raise NotFound(_("Not found."))
        run_organisation(actor, membership.organisation_id)
        if membership.status != MembershipStatus.REQUESTED:
            raise Conflict(_("This request has already been decided."), code="not_requested")
        membership.status = MembershipStatus.ACTIVE if accept else MembershipStatus.DECLINED
        membership.decided_by_id, membership.decided_at = actor.id, utcnow()
        audit.record(actor, "organisation.accept" if accept else "organisation.decline", membership)
        organisation = membership.organisation
        accounts.notify(
            membership.user,
            "organisations/joined" if accept else "organisations/declined",
            name=organisation.name,
            link=absolute_url("organisations.profile", organisation_id=organisation.id),
        )
    return membership


def leave(actor, organisation_id):
    """A member leaves (or withdraws a request). The last leader cannot leave: another leader
    is named first. Raises NotFound (organisation), Conflict (`not_member`, `last_leader`)."""
    require_user(actor)
    with transaction():
        organisation = _locked(organisation_id)
        if organisation is None:
            raise NotFound(_("Not found."))
        membership = _open_membership(organisation_id, actor.id)
        if membership is None:
            raise Conflict(_("You are not a member of this organisation."), code="not_member")
        if membership.status == MembershipStatus.ACTIVE and membership.role == MemberRole.LEADER:
            leaders = db.session.scalar(
                select(func.count(Membership.id)).where(
                    Membership.organisation_id == organisation_id,
                    Membership.role == MemberRole.LEADER,
                    Membership.status == MembershipStatus.ACTIVE,
                )
            )
            if leaders <= 1:
                message = _("Name another leader before you leave: an organisation needs one.")
                raise Conflict(message, code="last_leader")
        membership.status = MembershipStatus.LEFT
        membership.decided_at = utcnow()
        audit.record(actor, "organisation.leave", membership)
    return membership


def my_memberships(actor):
    """The actor's open memberships, with their organisations."""
    require_user(actor)
    return db.session.scalars(
        select(Membership)
        .where(Membership.user_id == actor.id, Membership.status.in_(OPEN))
        .options(joinedload(Membership.organisation).joinedload(Organisation.community))
        .order_by(Membership.created_at)
    ).all()


def membership_of(actor, organisation_id):
    """The actor's open membership of the organisation, or None."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    return _open_membership(organisation_id, actor.id)


def runs_any(actor):
    """True when the actor leads or coordinates any organisation (for the menu)."""
    return bool(organised_ids(actor))


def _open_membership(organisation_id, user_id):
    return db.session.scalar(
        select(Membership).where(
            Membership.organisation_id == organisation_id,
            Membership.user_id == user_id,
            Membership.status.in_(OPEN),
        )
    )


def _locked(organisation_id):
    if not isinstance(organisation_id, int):
        return None
    return db.session.scalar(
        select(Organisation)
        .where(Organisation.id == organisation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _require_active(organisation):
    if organisation.status != OrganisationStatus.ACTIVE:
        raise Conflict(_("The organisation is not approved yet."), code="not_active")


def _in_scope(actor, query):
    """Only the organisations of the communities a staff member manages. Raises NotAllowed."""
    require_role(actor, Role.STAFF)
    scope = managed_community_ids(actor)
    if scope is not None:
        query = query.where(Organisation.community_id.in_(scope))
    return query

"""People and their roles: granted and taken from the command line (by e-mail) and on the web
by admins, and by street and district staff for the communities of their street or district;
accounts deactivated and reactivated. Every change is audit-logged."""

import logging

from flask_babel import gettext as _
from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.orm import selectinload

from neighbors.accounts.contacts import find_by_login
from neighbors.accounts.imports import _role, user_by_email
from neighbors.accounts.models import ApiToken, LoginSession, RoleGrant, User
from neighbors.areas import services as areas
from neighbors.core import audit
from neighbors.core.db import transaction, utcnow
from neighbors.core.errors import Invalid, NotAllowed, NotFound
from neighbors.core.permissions import Role, has_role, managed_community_ids, require_user
from neighbors.extensions import db

logger = logging.getLogger(__name__)

# What street and district staff may give within their scope; admins give any role.
AREA_ROLES = (Role.VOLUNTEER, Role.STAFF)
PLACES = ("community", "street", "district")


# -- the command line (by e-mail) ----------------------------------------------------------------


def grant_role(
    email, role, community_code=None, actor=None, *, street_code=None, district_code=None
):
    """Give a user a further role; one already held is kept. Staff name where: one community,
    or a street or a district (they then act on every community in it).

    Raises NotFound (user or area), Invalid (unknown role, staff without exactly one place).
    """
    role = _role(role)
    with transaction():
        user = user_by_email(email)
        kind, place = _place(role, community_code, street_code, district_code)
        _grant(actor, user, role, kind, place)
    return user


def revoke_role(
    email, role, community_code=None, actor=None, *, street_code=None, district_code=None
):
    """Take a role away (staff: for one place). Raises NotFound (user, area or grant)."""
    role = _role(role)
    with transaction():
        user = user_by_email(email)
        kind, place = _place(role, community_code, street_code, district_code)
        grants = [g for g in user.roles if _same_place(g, role, kind, place)]
        if not grants:
            raise NotFound(_("The user does not hold that role."))
        _revoke(actor, user, grants[0])
    return user


# -- the web -------------------------------------------------------------------------------------


def names_of(user_ids):
    """{user id: name} for the ids given (None left out): who signed a document, by name."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def find_people(actor, text, limit=50):
    """People whose name contains the text, or whose e-mail or mobile number it is, within the
    actor's scope (admins: everyone). Raises NotAllowed (not an admin or area staff)."""
    scope = _people_scope(actor)
    text = (text or "").strip()[:100]
    if not text:
        return []
    exact = find_by_login(text)
    pattern = "%" + text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
    query = (
        select(User)
        .where(or_(User.name.ilike(pattern, escape="\\"), User.id == (exact.id if exact else -1)))
        .options(selectinload(User.roles))
        .order_by(User.name, User.id)
        .limit(limit)
    )
    if scope is not None:
        query = query.where(_in_scope(scope))
    return db.session.scalars(query).all()


def person(actor, user_id):
    """A person in the actor's scope, with their roles. Raises NotAllowed, NotFound."""
    scope = _people_scope(actor)
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or (scope is not None and not _person_in(scope, user)):
        raise NotFound(_("Not found."))
    return user


def grant(actor, user_id, role, kind=None, code=None):
    """Give a person a role; a staff role for one place (`kind` community, street or district,
    and its code). Area staff give only volunteer and staff roles, for places in their scope.

    Raises NotAllowed, NotFound, Invalid."""
    role = _role(role)
    if kind not in (None, "", *PLACES):
        raise Invalid.from_fields({"kind": _("Choose a community, a street or a district.")})
    with transaction():
        user = _changeable(actor, user_id)
        codes = {f"{k}_code": (code if k == kind else None) for k in PLACES}
        place_kind, place = _place(role, **codes)
        _may_give(actor, role, place_kind, place)
        _grant(actor, user, role, place_kind, place)
    return user


def revoke(actor, user_id, grant_id):
    """Take one of a person's roles away. Raises NotAllowed, NotFound."""
    with transaction():
        user = _changeable(actor, user_id)
        held = [g for g in user.roles if g.id == grant_id]
        if not held:
            raise NotFound(_("The user does not hold that role."))
        grant_ = held[0]
        _may_give(actor, grant_.role, _kind_of(grant_), grant_.scope)
        _revoke(actor, user, grant_)
    return user


def set_active(actor, user_id, active):
    """Deactivate (their sessions and API tokens end at once) or reactivate an account.
    Area staff may do so only for people with no role beyond volunteer and staff.

    Raises NotAllowed, NotFound."""
    with transaction():
        user = _changeable(actor, user_id)
        if not has_role(actor, Role.ADMIN) and any(g.role not in AREA_ROLES for g in user.roles):
            raise NotAllowed(_("Only an administrator may change this account."))
        user.active = bool(active)
        if not active:
            db.session.execute(
                update(LoginSession)
                .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
                .values(ended_at=utcnow())
            )
            db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
        audit.record(actor, "account.activate" if active else "account.deactivate", user)
    return user


def area_places(actor):
    """The streets and districts an area staff member holds: [(kind, area)]."""
    return [(_kind_of(g), g.scope) for g in actor.roles if g.street_id or g.district_id]


# -- shared --------------------------------------------------------------------------------------


def _people_scope(actor):
    """None for admins (everyone); else the communities of the actor's streets and districts."""
    require_user(actor)
    if has_role(actor, Role.ADMIN):
        return None
    if not area_places(actor):
        raise NotAllowed(_("Administrators and street or district staff manage people."))
    return managed_community_ids(actor)


def _in_scope(scope):
    """People who live in, or are staff of, one of these communities."""
    staff_here = exists().where(
        RoleGrant.user_id == User.id,
        RoleGrant.role == Role.STAFF,
        RoleGrant.community_id.in_(scope),
    )
    return or_(User.home_community_id.in_(scope), staff_here)


def _person_in(scope, user):
    return user.home_community_id in scope or any(
        g.role == Role.STAFF and g.community_id in scope for g in user.roles
    )


def _changeable(actor, user_id):
    user = person(actor, user_id)
    if user.id == actor.id:
        raise NotAllowed(_("Another administrator changes your own roles and account."))
    return user


def _may_give(actor, role, kind, place):
    """Area staff give volunteer and staff roles only, for places wholly in their scope."""
    if has_role(actor, Role.ADMIN):
        return
    if role not in AREA_ROLES:
        raise NotAllowed(_("Only an administrator may give or take this role."))
    if place is not None:
        scope = managed_community_ids(actor)
        communities = [place] if kind == "community" else place.communities
        if not communities or any(c.id not in scope for c in communities):
            raise NotAllowed(_("This place is outside your street or district."))


def _grant(actor, user, role, kind, place):
    if not any(_same_place(g, role, kind, place) for g in user.roles):
        user.roles.append(RoleGrant(role=role, **({kind: place} if place else {})))
        audit.record(
            actor, "account.grant_role", user, role=str(role), **_place_detail(kind, place)
        )


def _revoke(actor, user, grant_):
    kind, place = _kind_of(grant_), grant_.scope
    user.roles.remove(grant_)
    audit.record(
        actor, "account.revoke_role", user, role=str(grant_.role), **_place_detail(kind, place)
    )


def _place(role, community_code=None, street_code=None, district_code=None):
    """(kind, area) a staff role is for, from exactly one code; (None, None) for other roles."""
    given = [
        (kind, code)
        for kind, code in zip(PLACES, (community_code, street_code, district_code), strict=True)
        if code
    ]
    if role != Role.STAFF:
        return None, None
    if len(given) != 1:
        message = _("Staff need one place to manage: a community, a street or a district.")
        raise Invalid.from_fields({"community": message})
    kind, code = given[0]
    return kind, areas.scope_by_code(kind, code)


def _kind_of(grant_):
    for kind in PLACES:
        if getattr(grant_, f"{kind}_id") is not None:
            return kind
    return None


def _same_place(grant_, role, kind, place):
    if grant_.role != role:
        return False
    if kind is None:
        return True
    return getattr(grant_, f"{kind}_id") == place.id


def _place_detail(kind, place):
    return {kind: place.code} if place else {}

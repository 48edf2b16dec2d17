"""Who may do what: roles, and the communities a staff member's role is scoped to."""

import functools
from enum import StrEnum

from flask_babel import gettext as _

from neighbors.core.errors import NotAllowed, NotAuthenticated, NotFound


class Role(StrEnum):
    VOLUNTEER = "volunteer"
    STAFF = "staff"
    PREPARER = "preparer"
    APPROVER = "approver"
    CASHIER = "cashier"
    ACCOUNTANT = "accountant"
    ADMIN = "admin"


FOUNDATION_ROLES = frozenset({Role.PREPARER, Role.APPROVER, Role.CASHIER, Role.ACCOUNTANT})


def role_names(actor):
    """The actor's role codes, sorted, each once."""
    return sorted({str(grant.role) for grant in actor.roles})


def has_role(actor, *roles):
    """True when the actor is signed in and holds one of these roles (admin holds them all)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    held = {grant.role for grant in actor.roles}
    return Role.ADMIN in held or bool(held.intersection(roles))


def require_user(actor):
    """Raises NotAuthenticated when nobody is signed in."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise NotAuthenticated(_("Please log in first."))


def require_role(actor, *roles):
    """Raises NotAuthenticated without a user, NotAllowed when the user lacks every role given."""
    require_user(actor)
    if not has_role(actor, *roles):
        raise NotAllowed(_("Your role does not permit this."))


def managed_community_ids(actor):
    """The communities this actor manages as staff (each community granted, and every
    community of each street or district granted); None means all of them (admin)."""
    if has_role(actor, Role.ADMIN):
        return None
    ids = set()
    for grant in actor.roles:
        if grant.role != Role.STAFF:
            continue
        if grant.community_id is not None:
            ids.add(grant.community_id)
        else:  # a street or a district: its communities, loaded once per session
            ids.update(community.id for community in grant.scope.communities)
    return ids


def organised_ids(actor):
    """The organisations this actor runs (an active leader or coordinator of them)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return set()
    return {m.organisation_id for m in actor.memberships if m.coordinates}


def require_community_staff(actor, community_id):
    """Raises NotAllowed for non-staff and NotFound for another community's records.

    Staff of community A asking for community B's records get the same answer as for records
    that do not exist, so scope leaks nothing.
    """
    require_role(actor, Role.STAFF)
    scope = managed_community_ids(actor)
    if scope is not None and community_id not in scope:
        raise NotFound(_("Not found."))


def role_gate(current_actor, *roles):
    """A view decorator: refuse (401/403) before the view reads any input unless
    current_actor() holds one of the roles; the service still checks role and scope."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            require_role(current_actor(), *roles)
            return view(*args, **kwargs)

        wrapper.required_roles = frozenset(roles)  # read by the authorisation test
        return wrapper

    return decorate

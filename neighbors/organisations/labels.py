"""What kinds, roles and states are called on the pages."""

from flask_babel import lazy_gettext as _l

from neighbors.organisations.models import MemberRole, OrganisationKind, OrganisationStatus

KIND_LABELS = {
    OrganisationKind.SOCIAL_ORG: _l("Community social organisation"),
    OrganisationKind.VOLUNTEER_TEAM: _l("Volunteer team"),
    OrganisationKind.PARTY_ORG: _l("Party organisation of a work unit"),
    OrganisationKind.WORK_UNIT: _l("Work unit in the community"),
}
ROLE_LABELS = {
    MemberRole.LEADER: _l("Leader"),
    MemberRole.COORDINATOR: _l("Coordinator"),
    MemberRole.MEMBER: _l("Member"),
}
STATUS_LABELS = {
    OrganisationStatus.APPLIED: _l("Waiting for the community's approval"),
    OrganisationStatus.ACTIVE: _l("Approved"),
    OrganisationStatus.REJECTED: _l("Not approved"),
}

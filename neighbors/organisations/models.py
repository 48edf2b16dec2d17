"""Organisations and their members. `User.memberships` reaches a person's memberships by name."""

from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from neighbors.accounts.models import User
from neighbors.areas.models import Community
from neighbors.core.db import UTCDateTime, enum_column, utcnow
from neighbors.extensions import db


class OrganisationKind(StrEnum):
    SOCIAL_ORG = "social_org"  # 社区社会组织
    VOLUNTEER_TEAM = "volunteer_team"  # 志愿服务队
    PARTY_ORG = "party_org"  # 机关企事业单位党组织
    WORK_UNIT = "work_unit"  # 驻区单位


class OrganisationStatus(StrEnum):
    APPLIED = "applied"  # a resident asked; staff of the community decide
    ACTIVE = "active"
    REJECTED = "rejected"


class MemberRole(StrEnum):
    LEADER = "leader"
    COORDINATOR = "coordinator"
    MEMBER = "member"


class MembershipStatus(StrEnum):
    REQUESTED = "requested"
    ACTIVE = "active"
    DECLINED = "declined"
    LEFT = "left"


# Leaders and coordinators run the organisation's events, members and hours.
COORDINATING = (MemberRole.LEADER, MemberRole.COORDINATOR)


class Organisation(db.Model):
    __tablename__ = "organisations"
    __table_args__ = (
        UniqueConstraint("community_id", "name", name="uq_organisations_community_name"),
        Index("ix_organisations_directory", "community_id", "kind", "status"),
        # The city's directory, by name: read in order, not 11,000 sorted for the first 200.
        Index("ix_organisations_by_name", "status", "name", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganisationKind] = mapped_column(enum_column(OrganisationKind, "org_kind"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    # The unified social credit code (统一社会信用代码), checked by its check character.
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    contact_phone: Mapped[str] = mapped_column(String(30), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[OrganisationStatus] = mapped_column(
        enum_column(OrganisationStatus, "org_status"), default=OrganisationStatus.ACTIVE
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[object | None] = mapped_column(UTCDateTime)

    community: Mapped[Community] = relationship()
    memberships: Mapped[list["Membership"]] = relationship(back_populates="organisation")


class Membership(db.Model):
    """A person in an organisation with a role; one open membership (asked or active) per pair."""

    __tablename__ = "organisation_members"
    __table_args__ = (
        Index(
            "uq_organisation_members_open",
            "organisation_id",
            "user_id",
            unique=True,
            sqlite_where=text("status IN ('requested', 'active')"),
            postgresql_where=text("status IN ('requested', 'active')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[MemberRole] = mapped_column(enum_column(MemberRole, "member_role"))
    status: Mapped[MembershipStatus] = mapped_column(
        enum_column(MembershipStatus, "membership_status"), default=MembershipStatus.ACTIVE
    )
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[object | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id])

    @property
    def coordinates(self):
        """Read by core.permissions.organised_ids: an active leader or coordinator."""
        return self.status == MembershipStatus.ACTIVE and self.role in COORDINATING

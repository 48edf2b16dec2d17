"""An in-service Party member's details and report-in (`User.party` reaches them by name), and
a Party organisation's report-in to a community with the posts it takes on (双报到)."""

from datetime import date
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from neighbors.accounts.models import User
from neighbors.areas.models import Community, Grid
from neighbors.core.db import UTCDateTime, enum_column, utcnow
from neighbors.extensions import db
from neighbors.organisations.models import Organisation


class ReportStatus(StrEnum):
    DECLARED = "declared"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class PartyMember(db.Model):
    """An in-service Party member's details and their report-in (在职党员报到) to a community."""

    __tablename__ = "party_members"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    branch: Mapped[str] = mapped_column(String(200))
    work_unit: Mapped[str] = mapped_column(String(200))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    reported_on: Mapped[date] = mapped_column(Date)
    status: Mapped[ReportStatus] = mapped_column(
        enum_column(ReportStatus, "report_status"), default=ReportStatus.DECLARED, index=True
    )
    declared_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    reviewed_at: Mapped[object | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="party", foreign_keys=[user_id])
    community: Mapped[Community] = relationship()
    grid: Mapped[Grid | None] = relationship()
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])


class PartyPost(db.Model):
    """A project or post a community offers for Party organisations to take on (认领项目)."""

    __tablename__ = "party_posts"
    __table_args__ = (
        UniqueConstraint("community_id", "name", name="uq_party_posts_community_name"),
        CheckConstraint("people_needed >= 1", name="people_needed_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    people_needed: Mapped[int]
    open: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class OrganisationReport(db.Model):
    """A Party organisation's report-in to a community (双报到, the organisation's half), for an
    agreement period, with a contact who receives the year's feedback; one open per pair."""

    __tablename__ = "party_org_reports"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="period_in_order"),
        Index(
            "uq_party_org_reports_open",
            "organisation_id",
            "community_id",
            unique=True,
            sqlite_where=text("status IN ('declared', 'confirmed')"),
            postgresql_where=text("status IN ('declared', 'confirmed')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    contact_name: Mapped[str] = mapped_column(String(100))
    contact_email: Mapped[str] = mapped_column(String(254))
    contact_phone: Mapped[str] = mapped_column(String(30), default="")
    status: Mapped[ReportStatus] = mapped_column(
        enum_column(ReportStatus, "org_report_status"), default=ReportStatus.DECLARED
    )
    declared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    declared_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    # The last year whose feedback the scheduler sent: it sends each year's once.
    feedback_year: Mapped[int | None]

    organisation: Mapped[Organisation] = relationship()
    community: Mapped[Community] = relationship()
    claims: Mapped[list["PostClaim"]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="PostClaim.id"
    )


class PostClaim(db.Model):
    """A post a reporting Party organisation takes on, with how many of its people."""

    __tablename__ = "party_post_claims"
    __table_args__ = (
        UniqueConstraint("report_id", "post_id", name="uq_party_post_claims_report_post"),
        CheckConstraint("people >= 1", name="people_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("party_org_reports.id", ondelete="CASCADE"), index=True
    )
    post_id: Mapped[int] = mapped_column(ForeignKey("party_posts.id"), index=True)
    people: Mapped[int]

    report: Mapped[OrganisationReport] = relationship(back_populates="claims")
    post: Mapped[PartyPost] = relationship()

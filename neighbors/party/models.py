"""An in-service Party member's details and report-in; `User.party` reaches them by name."""

from datetime import date
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from neighbors.accounts.models import User
from neighbors.areas.models import Community, Grid
from neighbors.core.db import UTCDateTime, enum_column, utcnow
from neighbors.extensions import db


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

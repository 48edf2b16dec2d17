"""Service records and certificates. A confirmed record is never edited: a correction is a new
record that supersedes it, and both stay."""

from datetime import date
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from neighbors.accounts.models import User
from neighbors.areas.models import Community
from neighbors.core.db import UTCDateTime, enum_column, utcnow
from neighbors.events.models import Category, Event
from neighbors.extensions import db

MAX_MINUTES = 24 * 60


class RecordStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class ServiceRecord(db.Model):
    __tablename__ = "service_records"
    __table_args__ = (
        CheckConstraint(f"minutes > 0 AND minutes <= {MAX_MINUTES}", name="minutes_in_a_day"),
        # An event gives each person one record; corrections hang off it.
        Index(
            "uq_service_records_event_person", "event_id", "user_id", unique=True,
            sqlite_where=text("event_id IS NOT NULL AND supersedes_id IS NULL"),
            postgresql_where=text("event_id IS NOT NULL AND supersedes_id IS NULL"),
        ),
        # A record has at most one correction that is not rejected.
        Index(
            "uq_service_records_supersedes", "supersedes_id", unique=True,
            sqlite_where=text("supersedes_id IS NOT NULL AND status <> 'rejected'"),
            postgresql_where=text("supersedes_id IS NOT NULL AND status <> 'rejected'"),
        ),
        Index("ix_service_records_person", "user_id", "status", "served_on"),
        Index("ix_service_records_queue", "community_id", "status", "served_on"),
        # Points are settled for the records recorded or reviewed since the last settling.
        Index("ix_service_records_recorded_at", "recorded_at"),
        Index("ix_service_records_reviewed_at", "reviewed_at"),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    # The community whose staff confirm it: the event's, or the volunteer's home community.
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    # The organisation that ran the event: its coordinators confirm the hours (谁组织谁记录).
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    category: Mapped[Category | None] = mapped_column(enum_column(Category, "record_category"))
    activity: Mapped[str] = mapped_column(String(200))
    place: Mapped[str] = mapped_column(String(200), default="")
    organiser: Mapped[str] = mapped_column(String(200), default="")
    served_on: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int]
    status: Mapped[RecordStatus] = mapped_column(
        enum_column(RecordStatus, "record_status"), default=RecordStatus.PENDING
    )
    # A correction names the record it replaces (once it is confirmed) and says why.
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("service_records.id"))
    reason: Mapped[str | None] = mapped_column(String(500))
    # What the reviewing staff member said (the reason for a rejection).
    review_note: Mapped[str | None] = mapped_column(String(500))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[object | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    event: Mapped[Event | None] = relationship()
    community: Mapped[Community] = relationship()
    supersedes: Mapped["ServiceRecord | None"] = relationship(remote_side=[id])


class Certificate(db.Model):
    """志愿服务记录证明: a snapshot of confirmed service for a period, with a serial number."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    total_minutes: Mapped[int]
    # The person as they stood when it was issued: a later change of name changes nothing here.
    name: Mapped[str] = mapped_column(String(100))
    volunteer_number: Mapped[str] = mapped_column(String(20))
    # The services listed, as they stood when it was issued.
    services: Mapped[list] = mapped_column(JSON)
    issued_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()
    community: Mapped[Community | None] = relationship()

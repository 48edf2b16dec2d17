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


class CertificateIssuer(db.Model):
    """Who signs certificates for a community or an organisation (谁记录谁证明): its responsible
    person (负责人), handler (经办人) and contact, set by its staff or coordinators."""

    __tablename__ = "certificate_issuers"
    __table_args__ = (
        CheckConstraint("(community_id IS NULL) <> (organisation_id IS NULL)", name="one_issuer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), unique=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), unique=True)
    responsible: Mapped[str] = mapped_column(String(100), default="")
    handler: Mapped[str] = mapped_column(String(100), default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    community: Mapped[Community | None] = relationship()
    organisation: Mapped["Organisation | None"] = relationship()  # noqa: F821 (organisations)


class CertificateSerial(db.Model):
    """The last serial number an issuer gave in a year (taken by UPDATE … RETURNING)."""

    __tablename__ = "certificate_serials"

    issuer_id: Mapped[int] = mapped_column(ForeignKey("certificate_issuers.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


class Certificate(db.Model):
    """志愿服务记录证明: a snapshot of confirmed service for a period, with a serial number
    `<issuer code>-<year>-<6 digits>` that runs without gaps per issuer and year."""

    __tablename__ = "certificates"
    __table_args__ = (Index("ix_certificates_register", "issuer_id", "issued_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    issuer_id: Mapped[int | None] = mapped_column(ForeignKey("certificate_issuers.id"))
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    total_minutes: Mapped[int]
    # The person as they stood when it was issued: a later change of name changes nothing here.
    name: Mapped[str] = mapped_column(String(100))
    volunteer_number: Mapped[str] = mapped_column(String(48))
    id_masked: Mapped[str | None] = mapped_column(String(40))
    # The issuer as it stood: name, responsible person, handler and contact.
    issuer_name: Mapped[str] = mapped_column(String(200), default="")
    responsible: Mapped[str] = mapped_column(String(100), default="")
    handler: Mapped[str] = mapped_column(String(100), default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    # The services listed, as they stood when it was issued.
    services: Mapped[list] = mapped_column(JSON)
    issued_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[object | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoke_reason: Mapped[str | None] = mapped_column(String(500))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    community: Mapped[Community | None] = relationship()
    issuer: Mapped[CertificateIssuer | None] = relationship()


class NationalExport(db.Model):
    """One export for the national volunteer service system: who, when, for which community or
    organisation and period; its items say which confirmed records went out."""

    __tablename__ = "national_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    only_new: Mapped[bool] = mapped_column(default=False)
    volunteers: Mapped[int] = mapped_column(default=0)
    records: Mapped[int] = mapped_column(default=0)
    exported_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class NationalExportItem(db.Model):
    __tablename__ = "national_export_items"

    export_id: Mapped[int] = mapped_column(
        ForeignKey("national_exports.id", ondelete="CASCADE"), primary_key=True
    )
    record_id: Mapped[int] = mapped_column(
        ForeignKey("service_records.id"), primary_key=True, index=True
    )

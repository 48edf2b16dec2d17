"""Events, series and sign-ups. The event row keeps the seat counters the database guards."""

from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from neighbors.accounts.models import User
from neighbors.areas.models import Community
from neighbors.core.db import UTCDateTime, enum_column, utcnow
from neighbors.extensions import db
from neighbors.stations.models import Room


class Category(StrEnum):
    """The "six neighbors" lines of work."""

    PARTY_BUILDING = "party_building"
    WARMTH = "warmth"
    TECHNOLOGY = "technology"
    SOCIETY = "society"
    HARMONY = "harmony"
    CULTURE = "culture"


class EventStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


class SignupStatus(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


ACTIVE = (SignupStatus.CONFIRMED, SignupStatus.WAITLISTED)


class Series(db.Model):
    """Events created together by one rule, e.g. Dedication Day on the 5th of each month."""

    __tablename__ = "event_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    rule: Mapped[str] = mapped_column(String(100))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class Event(db.Model):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity >= 1", name="capacity_positive"),
        # The database, not Python, keeps the event from being overbooked.
        CheckConstraint(
            "confirmed_count >= 0 AND confirmed_count <= capacity", name="not_overbooked"
        ),
        CheckConstraint("waitlist_count >= 0", name="waitlist_not_negative"),
        Index("ix_events_listing", "status", "starts_at", "id"),
        Index("ix_events_community_starts", "community_id", "starts_at"),
        # Text search (ILIKE): trigrams on PostgreSQL, a plain index on SQLite.
        Index(
            "ix_events_title_trgm",
            "title",
            postgresql_using="gin",
            postgresql_ops={"title": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    # Run by an organisation of the community (its coordinators draft it, staff publish it).
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("event_series.id"), index=True)
    category: Mapped[Category] = mapped_column(enum_column(Category, "category"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    venue: Mapped[str] = mapped_column(String(200))
    # The station room it takes, if any. No two events that are not cancelled hold one room at
    # overlapping times: PostgreSQL's exclusion constraint ex_events_room_time (migration 0015)
    # refuses it; on SQLite the lifecycle checks inside the IMMEDIATE write transaction.
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id"), index=True)
    starts_at: Mapped[object] = mapped_column(UTCDateTime)
    ends_at: Mapped[object] = mapped_column(UTCDateTime)
    capacity: Mapped[int]
    confirmed_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    waitlist_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    # The last waitlist ticket handed out: first come, first served by this number.
    waitlist_seq: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    signup_opens_at: Mapped[object | None] = mapped_column(UTCDateTime)
    signup_closes_at: Mapped[object | None] = mapped_column(UTCDateTime)
    cancel_cutoff_at: Mapped[object | None] = mapped_column(UTCDateTime)
    dedication_day: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    status: Mapped[EventStatus] = mapped_column(
        enum_column(EventStatus, "event_status"), default=EventStatus.DRAFT
    )
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[object | None] = mapped_column(UTCDateTime)
    # Raised by every edit, publication or cancellation (not by sign-ups): calendars use it.
    revision: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    changed_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    community: Mapped[Community] = relationship()
    organisation: Mapped["Organisation | None"] = relationship()  # noqa: F821 (organisations)
    series: Mapped[Series | None] = relationship()
    room: Mapped[Room | None] = relationship()

    @property
    def seats_left(self):
        return max(self.capacity - self.confirmed_count, 0)

    @property
    def has_ended(self):
        """True once the end has passed: only then may staff complete it."""
        return self.ends_at <= utcnow()


class Reply(StrEnum):
    COMING = "coming"
    DECLINED = "declined"


class Signup(db.Model):
    __tablename__ = "signups"
    __table_args__ = (
        # One active sign-up per person per event; a cancelled one leaves room for a new one.
        Index(
            "uq_signups_active",
            "event_id",
            "user_id",
            unique=True,
            sqlite_where=text("status <> 'cancelled'"),
            postgresql_where=text("status <> 'cancelled'"),
        ),
        Index("ix_signups_queue", "event_id", "status", "waitlist_seq"),
        Index("ix_signups_user", "user_id", "status"),
        CheckConstraint(
            "status <> 'waitlisted' OR waitlist_seq IS NOT NULL", name="waitlisted_have_ticket"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[SignupStatus] = mapped_column(enum_column(SignupStatus, "signup_status"))
    waitlist_seq: Mapped[int | None]
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[object | None] = mapped_column(UTCDateTime)
    checked_in_at: Mapped[object | None] = mapped_column(UTCDateTime)
    checked_out_at: Mapped[object | None] = mapped_column(UTCDateTime)
    # Added by staff at the door; the event's capacity grows by one if it was full.
    walk_in: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    # Confirmed but never checked in, set when the event completes.
    no_show: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    # The answer to the reminder's links ("coming" or "declined"), once: events.replies.
    reply: Mapped[Reply | None] = mapped_column(enum_column(Reply, "signup_reply"))
    replied_at: Mapped[object | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship()
    user: Mapped[User] = relationship()


class EventMessage(db.Model):
    """A short message from staff to everyone confirmed for an event, sent by each person's
    channel and shown on the event's page to them."""

    __tablename__ = "event_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    text: Mapped[str] = mapped_column(String(300))
    recipients: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship()


class CalendarFeed(db.Model):
    """A private, revocable address for a person's calendar of confirmed events."""

    __tablename__ = "calendar_feeds"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class Reminder(db.Model):
    """A reminder sent for an event, one per lead time and start: claimed before it is written,
    so a second scheduler run (or a second scheduler) never sends it again. Moving the event
    gives it new reminders."""

    __tablename__ = "event_reminders"
    __table_args__ = (UniqueConstraint("event_id", "hours_before", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    hours_before: Mapped[int]
    starts_at: Mapped[object] = mapped_column(UTCDateTime)
    sent_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    recipients: Mapped[int] = mapped_column(default=0)

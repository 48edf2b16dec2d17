"""Users, their roles (staff scoped to a community), Party member details and API tokens."""

from datetime import date
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from neighbors.areas.models import Community, Grid
from neighbors.core.db import UTCDateTime, enum_column, utcnow
from neighbors.core.permissions import Role
from neighbors.extensions import db


class Channel(StrEnum):
    """How a person is told about what concerns them."""

    EMAIL = "email"
    SMS = "sms"
    BOTH = "both"


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("email IS NOT NULL OR phone_hash IS NOT NULL", name="has_login"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # Stored lower-cased; a login, so unique.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    # The phone number is sensitive: stored encrypted, found by a keyed hash.
    phone_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    phone_encrypted: Mapped[str | None] = mapped_column(String(200))
    # A number counts as a login only once verified: a code sent to it was entered (or the
    # operator who entered it, on the command line or in an import, vouched for it).
    phone_verified_at: Mapped[object | None] = mapped_column(UTCDateTime)
    # For `neighbors keys rotate`: the encrypted columns, and each keyed hash with its source.
    ENCRYPTED = ("phone_encrypted",)
    LOOKUP_HASHES = {"phone_hash": "phone_encrypted"}
    # None until the person sets one (an imported user who was sent an invitation).
    password_hash: Mapped[str | None] = mapped_column(String(200))
    home_community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    # The channel the person chose; None: e-mail when they have an address, else SMS
    # (accounts.notices.channels_of).
    notify_channel: Mapped[Channel | None] = mapped_column(enum_column(Channel, "notify_channel"))
    privacy_consent_version: Mapped[str | None] = mapped_column(String(20))
    privacy_consent_at: Mapped[object | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    home_community: Mapped[Community | None] = relationship()
    grid: Mapped[Grid | None] = relationship()
    roles: Mapped[list["RoleGrant"]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )
    party: Mapped["PartyMember | None"] = relationship(
        back_populates="user", foreign_keys="PartyMember.user_id", cascade="all, delete-orphan"
    )

    # The login session this object was loaded for ("<user id>:<token>"), set by the services.
    session_id = None

    def get_id(self):
        return self.session_id

    @property
    def is_active(self):
        return self.active


class RoleGrant(db.Model):
    """A role held by a user; a staff role names the community it is for."""

    __tablename__ = "role_grants"
    __table_args__ = (
        CheckConstraint(
            "(role = 'staff') = (community_id IS NOT NULL)", name="staff_has_community"
        ),
        Index(
            "uq_role_grants_unscoped",
            "user_id",
            "role",
            unique=True,
            sqlite_where=text("community_id IS NULL"),
            postgresql_where=text("community_id IS NULL"),
        ),
        Index(
            "uq_role_grants_scoped",
            "user_id",
            "role",
            "community_id",
            unique=True,
            sqlite_where=text("community_id IS NOT NULL"),
            postgresql_where=text("community_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Every signed-in request loads its user's roles by this column.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)

    user: Mapped[User] = relationship(back_populates="roles")
    community: Mapped[Community | None] = relationship()


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


class ApiToken(db.Model):
    """A bearer token for the API. Only its SHA-256 is stored; deleting the row revokes it."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[object] = mapped_column(UTCDateTime, index=True)

    user: Mapped[User] = relationship()


class LoginSession(db.Model):
    """A signed-in browser. The cookie holds a random token and the database its SHA-256, so
    logging out, or changing the password, ends the session on the server: a copied cookie
    stops working."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, index=True)
    ended_at: Mapped[object | None] = mapped_column(UTCDateTime)


class CodePurpose(StrEnum):
    LOGIN = "login"
    VERIFY = "verify"


class PhoneCode(db.Model):
    """A one-time code sent by SMS: 6 digits, valid CODE_MINUTES, used once. Only a keyed hash
    of the code is stored, and the number only as its keyed lookup hash."""

    __tablename__ = "phone_codes"
    __table_args__ = (Index("ix_phone_codes_phone", "phone_hash", "purpose", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_hash: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[CodePurpose] = mapped_column(enum_column(CodePurpose, "code_purpose"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[object] = mapped_column(UTCDateTime)
    used_at: Mapped[object | None] = mapped_column(UTCDateTime)
    wrong_tries: Mapped[int] = mapped_column(default=0)

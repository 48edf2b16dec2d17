"""Users, their roles (staff scoped to a community), API tokens and login sessions. A user's
Party details (`user.party`) are the party feature's PartyMember, their memberships of
organisations (`user.memberships`) the organisations feature's."""

from datetime import date
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from neighbors.areas.models import Community, District, Grid, Street
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
    party: Mapped["PartyMember | None"] = relationship(  # noqa: F821 (neighbors.party.models)
        back_populates="user", foreign_keys="PartyMember.user_id", cascade="all, delete-orphan"
    )
    memberships: Mapped[list["Membership"]] = relationship(  # noqa: F821 (organisations.models)
        back_populates="user", foreign_keys="Membership.user_id", cascade="all, delete-orphan"
    )

    # The login session this object was loaded for ("<user id>:<token>"), set by the services.
    session_id = None

    def get_id(self):
        return self.session_id

    @property
    def is_active(self):
        return self.active


class RoleGrant(db.Model):
    """A role held by a user. A staff role names where it is for: one community, or a street or
    a district (street and district staff act on every community in it)."""

    __tablename__ = "role_grants"
    __table_args__ = (
        CheckConstraint(
            "(role = 'staff' AND ("
            "(community_id IS NOT NULL AND street_id IS NULL AND district_id IS NULL)"
            " OR (community_id IS NULL AND street_id IS NOT NULL AND district_id IS NULL)"
            " OR (community_id IS NULL AND street_id IS NULL AND district_id IS NOT NULL)))"
            " OR (role <> 'staff' AND community_id IS NULL AND street_id IS NULL"
            " AND district_id IS NULL)",
            name="staff_has_one_scope",
        ),
        Index(
            "uq_role_grants_unscoped",
            "user_id",
            "role",
            unique=True,
            sqlite_where=text("role <> 'staff'"),
            postgresql_where=text("role <> 'staff'"),
        ),
        *(
            Index(
                f"uq_role_grants_{column}",
                "user_id",
                "role",
                column,
                unique=True,
                sqlite_where=text(f"{column} IS NOT NULL"),
                postgresql_where=text(f"{column} IS NOT NULL"),
            )
            for column in ("community_id", "street_id", "district_id")
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Every signed-in request loads its user's roles by this column.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    street_id: Mapped[int | None] = mapped_column(ForeignKey("streets.id"), index=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"), index=True)

    user: Mapped[User] = relationship(back_populates="roles")
    community: Mapped[Community | None] = relationship()
    street: Mapped[Street | None] = relationship()
    district: Mapped[District | None] = relationship()

    @property
    def scope(self):
        """The community, street or district a staff role is for; None for other roles."""
        return self.community or self.street or self.district


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


class IdType(StrEnum):
    """The ID documents the national volunteer service system accepts (证件类型)."""

    RESIDENT_ID = "resident_id"  # 居民身份证
    HK_MACAO_PERMIT = "hk_macao_permit"  # 港澳居民来往内地通行证
    TAIWAN_PERMIT = "taiwan_permit"  # 台湾居民来往大陆通行证
    PASSPORT = "passport"  # 护照
    FOREIGN_PERMANENT = "foreign_permanent"  # 外国人永久居留身份证


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"


class VolunteerIdentity(db.Model):
    """What the national volunteer service system asks of a volunteer, all optional. The ID
    number is stored encrypted and found by its keyed hash; it is shown masked."""

    __tablename__ = "volunteer_identities"
    __table_args__ = (
        CheckConstraint(
            "(id_type IS NULL) = (id_number_encrypted IS NULL)", name="id_type_with_number"
        ),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    id_type: Mapped[IdType | None] = mapped_column(enum_column(IdType, "id_type"))
    id_number_encrypted: Mapped[str | None] = mapped_column(String(200))
    id_number_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The masked number (1101**********4514), kept so lists never decrypt.
    id_number_masked: Mapped[str | None] = mapped_column(String(40))
    gender: Mapped[Gender | None] = mapped_column(enum_column(Gender, "gender"))
    birth_date: Mapped[date | None] = mapped_column(Date)
    guardian_name: Mapped[str | None] = mapped_column(String(100))
    guardian_phone_encrypted: Mapped[str | None] = mapped_column(String(200))
    guardian_consent_on: Mapped[date | None] = mapped_column(Date)
    # The number the national system gave the person, when they tell us.
    national_number: Mapped[str | None] = mapped_column(String(40))
    # Ours (see core.idnumbers.volunteer_number), issued once and never changed.
    volunteer_number: Mapped[str | None] = mapped_column(String(48), unique=True)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    ENCRYPTED = ("id_number_encrypted", "guardian_phone_encrypted")
    LOOKUP_HASHES = {"id_number_hash": "id_number_encrypted"}

    user: Mapped[User] = relationship()


class VolunteerNumberCounter(db.Model):
    """The last volunteer number issued in a community (taken by UPDATE … RETURNING)."""

    __tablename__ = "volunteer_number_counters"

    community_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    last: Mapped[int] = mapped_column(default=0)

"""Wishes, the append-only points ledger, and the love supermarket's items and redemptions."""

from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from neighbors.accounts.models import User
from neighbors.areas.models import Community
from neighbors.core.db import UTCDateTime, enum_column, utcnow
from neighbors.extensions import db


class WishStatus(StrEnum):
    SUBMITTED = "submitted"  # waits for staff to vet it
    PUBLISHED = "published"  # on the wall, free to claim
    REJECTED = "rejected"
    CLAIMED = "claimed"  # one volunteer makes it come true
    FULFILLED = "fulfilled"  # the claimer says it is done; staff confirm
    CONFIRMED = "confirmed"  # staff confirmed: the claimer has a confirmed service record


class WishCategory(StrEnum):
    DAILY = "daily"
    STUDY = "study"
    HEALTH = "health"
    REPAIR = "repair"
    COMPANY = "company"
    OTHER = "other"


class Wish(db.Model):
    """微心愿: a small wish of a resident, vetted by staff, claimed by exactly one volunteer."""

    __tablename__ = "wishes"
    __table_args__ = (
        CheckConstraint("value_cap > 0", name="value_positive"),
        # A claimed (or later) wish has its claimer; one on the wall has none.
        CheckConstraint(
            "(status IN ('claimed', 'fulfilled', 'confirmed')) = (claimer_id IS NOT NULL)",
            name="claimer_when_claimed",
        ),
        Index("ix_wishes_wall", "community_id", "status", "id"),
        Index("ix_wishes_claimer", "claimer_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    # The person the wish is for; staff may post it on their behalf.
    asker_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    posted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[WishCategory] = mapped_column(enum_column(WishCategory, "wish_category"))
    value_cap: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    status: Mapped[WishStatus] = mapped_column(
        enum_column(WishStatus, "wish_status"), default=WishStatus.SUBMITTED
    )
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    review_note: Mapped[str | None] = mapped_column(String(500))
    published_at: Mapped[object | None] = mapped_column(UTCDateTime)
    claimer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    fulfilled_at: Mapped[object | None] = mapped_column(UTCDateTime)
    fulfil_note: Mapped[str | None] = mapped_column(String(1000))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    minutes: Mapped[int | None]
    # The confirmed service record the claimer was given.
    service_record_id: Mapped[int | None] = mapped_column(ForeignKey("service_records.id"))
    # The photo of the fulfilled wish (a file in WISH_PHOTO_DIR, re-encoded without metadata);
    # the wall shows it only with the asker's consent.
    photo_name: Mapped[str | None] = mapped_column(String(64))
    photo_at: Mapped[object | None] = mapped_column(UTCDateTime)
    photo_consent: Mapped[bool] = mapped_column(default=False, server_default=false())

    community: Mapped[Community] = relationship()
    asker: Mapped[User] = relationship(foreign_keys=[asker_id])
    claimer: Mapped[User | None] = relationship(foreign_keys=[claimer_id])


class EntryKind(StrEnum):
    EARNED = "earned"  # confirmed service
    CORRECTED = "corrected"  # the difference a correction (or a record no longer counting) makes
    REDEEMED = "redeemed"  # spent at the love supermarket
    REVERSED = "reversed"  # a redemption undone: the points come back


class PointsAccount(db.Model):
    """A person's balance: the sum of their entries, kept beside them so that a conditional
    UPDATE and a CHECK keep it from ever going below zero."""

    __tablename__ = "points_accounts"
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_not_negative"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    balance: Mapped[int] = mapped_column(default=0)


class PointsEntry(db.Model):
    """One line of the points ledger. Append-only: the database refuses UPDATE and DELETE."""

    __tablename__ = "points_entries"
    __table_args__ = (
        CheckConstraint("points <> 0", name="points_not_zero"),
        Index("ix_points_entries_person", "user_id", "id"),
        Index("ix_points_entries_record", "service_record_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    points: Mapped[int]
    kind: Mapped[EntryKind] = mapped_column(enum_column(EntryKind, "points_entry_kind"))
    # Earned: the first record of the chain of corrections the points are for.
    service_record_id: Mapped[int | None] = mapped_column(ForeignKey("service_records.id"))
    redemption_id: Mapped[int | None] = mapped_column(ForeignKey("shop_redemptions.id"))
    note: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ShopItem(db.Model):
    """An item of a community's love supermarket, with its price in points and its stock."""

    __tablename__ = "shop_items"
    __table_args__ = (
        CheckConstraint("points > 0", name="price_positive"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        Index("ix_shop_items_community", "community_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    name: Mapped[str] = mapped_column(String(100))
    points: Mapped[int]
    stock: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    community: Mapped[Community] = relationship()


class StockChange(db.Model):
    """Stock added (or written off) by staff, with the reason."""

    __tablename__ = "shop_stock_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("shop_items.id"), index=True)
    quantity: Mapped[int]
    reason: Mapped[str] = mapped_column(String(200))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class Redemption(db.Model):
    """Goods given at the counter for points; a reversal gives both back."""

    __tablename__ = "shop_redemptions"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_shop_redemptions_community", "community_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("shop_items.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    quantity: Mapped[int]
    points: Mapped[int]  # what it cost in all
    staff_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    reversed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    reversed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reverse_reason: Mapped[str | None] = mapped_column(String(200))

    item: Mapped[ShopItem] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    staff: Mapped[User] = relationship(foreign_keys=[staff_id])

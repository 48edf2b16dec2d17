"""Funds, the double-entry ledger (append-only, hash-chained), donations and subsidies.

Money is Numeric(14, 2) read as Decimal, in CNY. Posted entries and their lines are never
updated or deleted: triggers in the database refuse it (see the migration)."""

from datetime import date
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from neighbors.areas.models import Community
from neighbors.core.db import UTCDateTime, enum_column, utcnow
from neighbors.extensions import db

Money = Numeric(14, 2, asdecimal=True)


class FundKind(StrEnum):
    UNRESTRICTED = "unrestricted"
    RESTRICTED = "restricted"
    CUSTODIAL = "custodial"  # held for a beneficiary the donor named


class Fund(db.Model):
    __tablename__ = "funds"
    __table_args__ = (
        # No fund is ever spent below zero: the database refuses the write.
        CheckConstraint("balance >= 0", name="not_overdrawn"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[FundKind] = mapped_column(enum_column(FundKind, "fund_kind"))
    purpose: Mapped[str] = mapped_column(String(500), default="")
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    # The money the fund holds at the bank: kept with every posting, in the same transaction.
    balance: Mapped[Decimal] = mapped_column(
        Money, default=Decimal("0.00"), server_default=text("0")
    )
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    # A custodial fund's named beneficiary (受托代理: held for this person): it pays no one else.
    beneficiary_id: Mapped[int | None] = mapped_column(ForeignKey("beneficiaries.id"))
    # A fund restricted in time, once ended: the voucher that released what was left from the
    # restriction. Set in the transaction that posts it, under the fund's row lock: one only.
    released_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("journal_entries.id"), unique=True
    )

    beneficiary: Mapped["Beneficiary | None"] = relationship()


class JournalEntry(db.Model):
    """A voucher: balanced lines, posted once, never changed; corrected by a reversing entry."""

    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher: Mapped[str] = mapped_column(String(20), unique=True)
    entry_date: Mapped[date] = mapped_column(Date, index=True)
    posted_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    summary: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"), unique=True)
    reason: Mapped[str | None] = mapped_column(String(500))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    lines: Mapped[list["Posting"]] = relationship(
        back_populates="entry", order_by="Posting.line", lazy="selectin"
    )
    reverses: Mapped["JournalEntry | None"] = relationship(remote_side=[id])


class Posting(db.Model):
    __tablename__ = "postings"
    __table_args__ = (
        CheckConstraint(
            "debit >= 0 AND credit >= 0 AND (debit = 0 OR credit = 0) AND debit + credit > 0",
            name="one_sided_positive",
        ),
        UniqueConstraint("entry_id", "line"),
        Index("ix_postings_fund_account", "fund_id", "account", "entry_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"))
    line: Mapped[int]
    account: Mapped[str] = mapped_column(String(10))
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"))
    debit: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    credit: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))

    entry: Mapped[JournalEntry] = relationship(back_populates="lines")
    fund: Mapped[Fund] = relationship()


class LedgerHead(db.Model):
    """One row: the end of the hash chain. Posting locks it, so entries chain one at a time."""

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_hash: Mapped[str] = mapped_column(String(64))
    entries: Mapped[int] = mapped_column(default=0)


class Counter(db.Model):
    """Gap-free numbers per name and year (acknowledgements, vouchers): taken under a row lock
    in the transaction that uses them, so a rollback gives the number back."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class Donation(db.Model):
    __tablename__ = "donations"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ack_number: Mapped[str] = mapped_column(String(20), unique=True)
    donor_kind: Mapped[str] = mapped_column(String(20), default="person")
    donor_name: Mapped[str | None] = mapped_column(String(200))
    anonymous: Mapped[bool] = mapped_column(default=False)
    publish_consent: Mapped[bool] = mapped_column(default=False)
    received_on: Mapped[date] = mapped_column(Date, index=True)
    channel: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(Money)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    # The official receipt (捐赠票据), when one has been issued.
    receipt_code: Mapped[str | None] = mapped_column(String(40))
    receipt_number: Mapped[str | None] = mapped_column(String(40))
    receipt_date: Mapped[date | None] = mapped_column(Date)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    fund: Mapped[Fund] = relationship()
    entry: Mapped[JournalEntry] = relationship()


class Beneficiary(db.Model):
    """A person in difficulty. ID number, phone and hardship category are stored encrypted."""

    __tablename__ = "beneficiaries"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    id_number_encrypted: Mapped[str | None] = mapped_column(String(300))
    id_number_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    phone_encrypted: Mapped[str | None] = mapped_column(String(300))
    category_encrypted: Mapped[str | None] = mapped_column(String(300))
    # For `neighbors keys rotate`: the encrypted columns, and each keyed hash with its source.
    ENCRYPTED = ("id_number_encrypted", "phone_encrypted", "category_encrypted")
    LOOKUP_HASHES = {"id_number_hash": "id_number_encrypted"}
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    household_size: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    community: Mapped[Community | None] = relationship()


class SubsidyStatus(StrEnum):
    PREPARED = "prepared"
    APPROVED = "approved"
    PAID = "paid"
    REJECTED = "rejected"


class Subsidy(db.Model):
    __tablename__ = "subsidies"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiaries.id"), index=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    reason: Mapped[str] = mapped_column(String(500))
    related_party: Mapped[bool] = mapped_column(default=False)
    status: Mapped[SubsidyStatus] = mapped_column(
        enum_column(SubsidyStatus, "subsidy_status"), default=SubsidyStatus.PREPARED, index=True
    )
    prepared_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    prepared_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[object | None] = mapped_column(UTCDateTime)
    second_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    second_approved_at: Mapped[object | None] = mapped_column(UTCDateTime)
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    paid_at: Mapped[object | None] = mapped_column(UTCDateTime)
    rejected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    rejected_at: Mapped[object | None] = mapped_column(UTCDateTime)
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))

    beneficiary: Mapped[Beneficiary] = relationship()
    fund: Mapped[Fund] = relationship()


class IdempotencyKey(db.Model):
    """An API posting's Idempotency-Key: the same key and body again return the first result."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("actor_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int]
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

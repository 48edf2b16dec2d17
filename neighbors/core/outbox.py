"""The outbox: messages written in the same transaction as the change, delivered after commit."""

from enum import StrEnum

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from neighbors.core.db import UTCDateTime, enum_column, utcnow
from neighbors.extensions import db


class MessageStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[MessageStatus] = mapped_column(
        enum_column(MessageStatus, "message_status"), default=MessageStatus.PENDING, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[object | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))


def queue(to_address, subject, body):
    """Queue a message in the current unit of work; the scheduler delivers it after commit."""
    # A subject is one line of at most 200 characters, whatever titles it quotes.
    subject = " ".join(str(subject).split())
    subject = subject if len(subject) <= 200 else subject[:199] + "…"
    message = OutboxMessage(to_address=to_address, subject=subject, body=body)
    db.session.add(message)
    db.session.flush()
    return message

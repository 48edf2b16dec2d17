"""The outbox: messages written in the same transaction as the change, delivered after commit.

Delivery is at most once. A sender claims a batch in one transaction (SKIP LOCKED on
PostgreSQL), then talks to the mail server; a message is tried again only when the server
certainly did not take it (refused before or at the end of DATA). A claim left behind by a
sender that died mid-conversation is never resent: after an hour it is marked failed.
"""

import logging
from contextlib import contextmanager
from datetime import timedelta
from enum import StrEnum

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import Index, LargeBinary, String, Text, delete, select, update
from sqlalchemy.orm import Mapped, mapped_column

from neighbors.core import mail
from neighbors.core.db import UTCDateTime, enum_column, transaction, utcnow
from neighbors.extensions import db

logger = logging.getLogger(__name__)

BATCH = 100
STALE_CLAIM = timedelta(hours=1)


class MessageStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_due", "status", "next_attempt_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[MessageStatus] = mapped_column(
        enum_column(MessageStatus, "message_status"), default=MessageStatus.PENDING, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    # Not before this time (the back-off after a temporary failure); NULL: at once.
    next_attempt_at: Mapped[object | None] = mapped_column(UTCDateTime)
    # Set while a sender holds the message; a pending message with a claim is in flight.
    claimed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[object | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # One file sent with the message (a report as XLSX): its name, type and bytes.
    attachment_name: Mapped[str | None] = mapped_column(String(200))
    attachment_type: Mapped[str | None] = mapped_column(String(200))
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary)

    @property
    def attached(self):
        """(name, content type, bytes) for mail.build, or None."""
        if self.attachment is None:
            return None
        return (self.attachment_name, self.attachment_type, self.attachment)


@contextmanager
def language_of(person):
    """Render a message in the person's language (the site's default when they chose none)."""
    with force_locale(person.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        yield


def queue(to_address, subject, body, attachment=None):
    """Queue a message in the current unit of work; the scheduler delivers it after commit.
    `attachment`: (file name, content type, bytes) sent with it."""
    # A subject is one line of at most 200 characters, whatever titles it quotes.
    subject = " ".join(str(subject).split())
    subject = subject if len(subject) <= 200 else subject[:199] + "…"
    message = OutboxMessage(to_address=to_address, subject=subject, body=body)
    if attachment is not None:
        message.attachment_name, message.attachment_type, message.attachment = attachment
    db.session.add(message)
    db.session.flush()
    return message


def backoff(attempts):
    """The wait before attempt number attempts + 1: 1, 2, 4, 8 … minutes, at most 6 hours."""
    return timedelta(minutes=min(2 ** (attempts - 1), 360))


def deliver(now=None, limit=BATCH):
    """Send the messages that are due; returns counts of sent, retry and failed messages.

    Production without MAIL_SERVER sends nothing and keeps every message waiting.
    """
    now = now or utcnow()
    counts = {"sent": 0, "retry": 0, "failed": _fail_stale_claims(now)}
    config = current_app.config
    if config["ENV"] == "production" and not config["MAIL_SERVER"]:
        logger.warning("MAIL_SERVER is not set: e-mail waits in the outbox")
        return counts
    messages = _claim(now, limit)
    done = 0
    try:
        with mail.connection(config) as sender:
            for message in messages:
                outcome = sender.send(
                    message.to_address, message.subject, message.body, message.attached
                )
                _record(message, outcome, now)
                counts[_outcome_name(message)] += 1
                done += 1
    finally:
        _release([message.id for message in messages[done:]])
    if counts["failed"] or counts["retry"]:
        logger.warning("outbox: %s", counts)
    return counts


def _claim(now, limit):
    with transaction():
        ids = db.session.scalars(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.status == MessageStatus.PENDING,
                OutboxMessage.claimed_at.is_(None),
                (OutboxMessage.next_attempt_at.is_(None)) | (OutboxMessage.next_attempt_at <= now),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if not ids:
            return []
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(claimed_at=now, attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        return db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .order_by(OutboxMessage.id)
            .execution_options(populate_existing=True)
        ).all()


def _release(ids):
    """Give back the claims of messages never tried (the batch stopped early)."""
    if ids:
        with transaction():
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(claimed_at=None, attempts=OutboxMessage.attempts - 1)
                .execution_options(synchronize_session=False)
            )


def _record(message, outcome, now):
    max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
    with transaction():
        message.claimed_at = None
        message.last_error = outcome.error[:500] if outcome.error else None
        if not outcome.counted:  # the server was not reached: no attempt used up
            message.attempts -= 1
        if outcome.sent:
            message.status, message.sent_at = MessageStatus.SENT, utcnow()
        elif outcome.retry and message.attempts < max_attempts:
            message.next_attempt_at = now + backoff(message.attempts)
        else:
            message.status = MessageStatus.FAILED


def _outcome_name(message):
    if message.status == MessageStatus.SENT:
        return "sent"
    return "failed" if message.status == MessageStatus.FAILED else "retry"


def _fail_stale_claims(now):
    """A sender died while talking to the server: the message may have gone, so never resend."""
    with transaction():
        return db.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == MessageStatus.PENDING,
                OutboxMessage.claimed_at < now - STALE_CLAIM,
            )
            .values(
                status=MessageStatus.FAILED,
                claimed_at=None,
                last_error="delivery was interrupted; not resent, it may have arrived",
            )
            .execution_options(synchronize_session=False)
        ).rowcount


def prune(now, keep):
    """Delete sent and failed messages older than `keep` (their bodies name people); returns
    how many."""
    with transaction():
        return db.session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.status.in_((MessageStatus.SENT, MessageStatus.FAILED)),
                OutboxMessage.created_at < now - keep,
            )
        ).rowcount

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
    config = current_app.config
    ready = config["ENV"] != "production" or bool(config["MAIL_SERVER"])
    if not ready:
        logger.warning("MAIL_SERVER is not set: e-mail waits in the outbox")
    return deliver_batch(
        OutboxMessage,
        now or utcnow(),
        limit,
        connect=lambda: mail.connection(config),
        send=lambda sender, m: sender.send(m.to_address, m.subject, m.body, m.attached),
        max_attempts=config["MAIL_MAX_ATTEMPTS"],
        ready=ready,
    )


# The delivery loop every outbox shares (e-mail here, text messages in sms_outbox): a table
# with the columns of OutboxMessage's status, attempts, next_attempt_at, claimed_at, sent_at and
# last_error, and a sender whose outcomes say sent, retry and counted.


def deliver_batch(model, now, limit, *, connect, send, max_attempts, ready=True,
                  unreached_wait=None):  # fmt: skip
    """Claim the due messages of `model`, send each through `send(sender, message)` inside
    `connect()` and record the outcome; returns counts of sent, retry and failed messages.
    Not `ready`: only fail the stale claims. unreached_wait: the pause after an outcome that
    did not reach the server (None: the back-off)."""
    counts = {"sent": 0, "retry": 0, "failed": _fail_stale_claims(model, now)}
    if not ready:
        return counts
    messages = _claim(model, now, limit)
    done = 0
    try:
        with connect() as sender:
            for message in messages:
                outcome = send(sender, message)
                _record(message, outcome, now, max_attempts, unreached_wait)
                counts[_outcome_name(message)] += 1
                done += 1
    finally:
        _release(model, [message.id for message in messages[done:]])
    if counts["failed"] or counts["retry"]:
        logger.warning("%s: %s", model.__tablename__, counts)
    return counts


def _claim(model, now, limit):
    with transaction():
        ids = db.session.scalars(
            select(model.id)
            .where(
                model.status == MessageStatus.PENDING,
                model.claimed_at.is_(None),
                (model.next_attempt_at.is_(None)) | (model.next_attempt_at <= now),
            )
            .order_by(model.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if not ids:
            return []
        db.session.execute(
            update(model)
            .where(model.id.in_(ids))
            .values(claimed_at=now, attempts=model.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        return db.session.scalars(
            select(model)
            .where(model.id.in_(ids))
            .order_by(model.id)
            .execution_options(populate_existing=True)
        ).all()


def _release(model, ids):
    """Give back the claims of messages never tried (the batch stopped early)."""
    if ids:
        with transaction():
            db.session.execute(
                update(model)
                .where(model.id.in_(ids))
                .values(claimed_at=None, attempts=model.attempts - 1)
                .execution_options(synchronize_session=False)
            )


def _record(message, outcome, now, max_attempts, unreached_wait):
    with transaction():
        message.claimed_at = None
        message.last_error = outcome.error[:500] if outcome.error else None
        if not outcome.counted:  # the server was not reached: no attempt used up
            message.attempts -= 1
        if outcome.sent:
            message.status, message.sent_at = MessageStatus.SENT, utcnow()
        elif outcome.retry and message.attempts < max_attempts:
            wait = unreached_wait if unreached_wait and not outcome.counted else None
            message.next_attempt_at = now + (wait or backoff(message.attempts))
        else:
            message.status = MessageStatus.FAILED


def _outcome_name(message):
    if message.status == MessageStatus.SENT:
        return "sent"
    return "failed" if message.status == MessageStatus.FAILED else "retry"


def _fail_stale_claims(model, now):
    """A sender died while talking to the server: the message may have gone, so never resend."""
    with transaction():
        return db.session.execute(
            update(model)
            .where(model.status == MessageStatus.PENDING, model.claimed_at < now - STALE_CLAIM)
            .values(
                status=MessageStatus.FAILED,
                claimed_at=None,
                last_error="delivery was interrupted; not resent, it may have arrived",
            )
            .execution_options(synchronize_session=False)
        ).rowcount


def prune_sent(model, now, keep):
    """Delete sent and failed messages of `model` older than `keep`; returns how many."""
    with transaction():
        return db.session.execute(
            delete(model).where(
                model.status.in_((MessageStatus.SENT, MessageStatus.FAILED)),
                model.created_at < now - keep,
            )
        ).rowcount


def prune(now, keep):
    """Delete sent and failed messages older than `keep` (their bodies name people); returns
    how many."""
    return prune_sent(OutboxMessage, now, keep)

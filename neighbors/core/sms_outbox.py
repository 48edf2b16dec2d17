"""The SMS outbox: text messages written in the same transaction as the change, sent after
commit by the scheduler through the SMS provider (core.sms), at most once, with retries.

It follows the e-mail outbox (core.outbox): a sender claims a batch in one transaction (SKIP
LOCKED on PostgreSQL), then talks to the provider; a message is tried again only when the provider
certainly did not take it, and a claim left by a sender that died is never resent. The number is
stored encrypted; the log and the errors never name it in full.
"""

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import JSON, Index, String, delete, select, update
from sqlalchemy.orm import Mapped, mapped_column

from neighbors.core import privacy, sms
from neighbors.core.db import UTCDateTime, enum_column, transaction, utcnow
from neighbors.core.outbox import STALE_CLAIM, MessageStatus, backoff
from neighbors.extensions import db

logger = logging.getLogger(__name__)

BATCH = 100
TEXT_MAX = 500


class SmsMessage(db.Model):
    __tablename__ = "sms_messages"
    __table_args__ = (Index("ix_sms_messages_due", "status", "next_attempt_at", "id"),)
    # For `neighbors keys rotate`.
    ENCRYPTED = ("phone_encrypted",)
    LOOKUP_HASHES = {}

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    phone_encrypted: Mapped[str] = mapped_column(String(200))
    # The notice ("events/promoted"): the provider's registered template is chosen by it.
    template: Mapped[str] = mapped_column(String(60))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    text: Mapped[str] = mapped_column(String(TEXT_MAX))
    locale: Mapped[str] = mapped_column(String(10))
    status: Mapped[MessageStatus] = mapped_column(
        enum_column(MessageStatus, "sms_status"), default=MessageStatus.PENDING, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[object | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[object | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))

    @property
    def phone(self):
        return privacy.decrypt(self.phone_encrypted)


def queue(phone, template, params, text, locale):
    """Queue a text message in the current unit of work; the scheduler sends it after commit."""
    text = " ".join(str(text).split())
    text = text if len(text) <= TEXT_MAX else text[: TEXT_MAX - 1] + "…"
    message = SmsMessage(
        phone_encrypted=privacy.encrypt(phone),
        template=template,
        params={str(key): str(value) for key, value in params.items()},
        text=text,
        locale=locale,
    )
    db.session.add(message)
    db.session.flush()
    return message


def deliver(now=None, limit=BATCH):
    """Send the text messages that are due; returns counts of sent, retry and failed messages.

    Production without SMS_PROVIDER sends nothing and keeps every message waiting.
    """
    now = now or utcnow()
    counts = {"sent": 0, "retry": 0, "failed": _fail_stale_claims(now)}
    config = current_app.config
    if config["ENV"] == "production" and not config.get("SMS_PROVIDER"):
        logger.warning("SMS_PROVIDER is not set: text messages wait in the outbox")
        return counts
    messages = _claim(now, limit)
    done = 0
    sender = sms.connection(config)
    try:
        for message in messages:
            try:
                phone = message.phone
            except privacy.Undecryptable:
                outcome = sms.Outcome(False, error="the number cannot be decrypted (data key)")
            else:
                outcome = sender.send(
                    phone, message.template, message.params, message.text, message.locale
                )
            _record(message, outcome, now)
            counts[_outcome_name(message)] += 1
            done += 1
    finally:
        sender.close()
        _release([message.id for message in messages[done:]])
    if counts["failed"] or counts["retry"]:
        logger.warning("SMS outbox: %s", counts)
    return counts


def _claim(now, limit):
    with transaction():
        ids = db.session.scalars(
            select(SmsMessage.id)
            .where(
                SmsMessage.status == MessageStatus.PENDING,
                SmsMessage.claimed_at.is_(None),
                (SmsMessage.next_attempt_at.is_(None)) | (SmsMessage.next_attempt_at <= now),
            )
            .order_by(SmsMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if not ids:
            return []
        db.session.execute(
            update(SmsMessage)
            .where(SmsMessage.id.in_(ids))
            .values(claimed_at=now, attempts=SmsMessage.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        return db.session.scalars(
            select(SmsMessage)
            .where(SmsMessage.id.in_(ids))
            .order_by(SmsMessage.id)
            .execution_options(populate_existing=True)
        ).all()


def _release(ids):
    if ids:
        with transaction():
            db.session.execute(
                update(SmsMessage)
                .where(SmsMessage.id.in_(ids))
                .values(claimed_at=None, attempts=SmsMessage.attempts - 1)
                .execution_options(synchronize_session=False)
            )


def _record(message, outcome, now):
    max_attempts = current_app.config["SMS_MAX_ATTEMPTS"]
    with transaction():
        message.claimed_at = None
        message.last_error = outcome.error[:500] if outcome.error else None
        if not outcome.counted:  # the provider was not reached (or refuses the account)
            message.attempts -= 1
            message.next_attempt_at = now + timedelta(minutes=1)
        if outcome.sent:
            message.status, message.sent_at = MessageStatus.SENT, utcnow()
        elif outcome.retry and message.attempts < max_attempts:
            if outcome.counted:
                message.next_attempt_at = now + backoff(message.attempts)
        else:
            message.status = MessageStatus.FAILED


def _outcome_name(message):
    if message.status == MessageStatus.SENT:
        return "sent"
    return "failed" if message.status == MessageStatus.FAILED else "retry"


def _fail_stale_claims(now):
    """A sender died while talking to the provider: the message may have gone, never resend."""
    with transaction():
        return db.session.execute(
            update(SmsMessage)
            .where(
                SmsMessage.status == MessageStatus.PENDING,
                SmsMessage.claimed_at < now - STALE_CLAIM,
            )
            .values(
                status=MessageStatus.FAILED,
                claimed_at=None,
                last_error="delivery was interrupted; not resent, it may have arrived",
            )
            .execution_options(synchronize_session=False)
        ).rowcount


def prune(now, keep):
    """Delete sent and failed text messages older than `keep`; returns how many."""
    with transaction():
        return db.session.execute(
            delete(SmsMessage).where(
                SmsMessage.status.in_((MessageStatus.SENT, MessageStatus.FAILED)),
                SmsMessage.created_at < now - keep,
            )
        ).rowcount

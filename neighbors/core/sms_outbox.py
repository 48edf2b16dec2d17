"""The SMS outbox: text messages written in the same transaction as the change, sent after
commit by the scheduler through the SMS provider (core.sms), at most once, with retries.

It shares the e-mail outbox's delivery loop (core.outbox.deliver_batch): a sender claims a
batch in one transaction (SKIP LOCKED on PostgreSQL), then talks to the provider; a message is
tried again only when the provider certainly did not take it, and a claim left by a sender that
died is never resent. The number is stored encrypted; the log and the errors never name it in full.
"""

import logging
from contextlib import closing
from datetime import timedelta

from flask import current_app
from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from neighbors.core import outbox, privacy, sms
from neighbors.core.db import UTCDateTime, enum_column, utcnow
from neighbors.core.outbox import MessageStatus
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
    config = current_app.config
    ready = config["ENV"] != "production" or bool(config.get("SMS_PROVIDER"))
    if not ready:
        logger.warning("SMS_PROVIDER is not set: text messages wait in the outbox")
    return outbox.deliver_batch(
        SmsMessage,
        now or utcnow(),
        limit,
        connect=lambda: closing(sms.connection(config)),
        send=_send,
        max_attempts=config["SMS_MAX_ATTEMPTS"],
        ready=ready,
        # The provider was not reached (or refuses the account): try again in a minute.
        unreached_wait=timedelta(minutes=1),
    )


def _send(sender, message):
    try:
        phone = message.phone
    except privacy.Undecryptable:
        return sms.Outcome(False, error="the number cannot be decrypted (data key)")
    return sender.send(phone, message.template, message.params, message.text, message.locale)


def prune(now, keep):
    """Delete sent and failed text messages older than `keep`; returns how many."""
    return outbox.prune_sent(SmsMessage, now, keep)

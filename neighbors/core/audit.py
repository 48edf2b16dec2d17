"""The audit log: who did what to which object, and when (UTC)."""

import logging

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from neighbors.core.db import UTCDateTime, utcnow
from neighbors.extensions import db

logger = logging.getLogger(__name__)


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(40))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


def record(actor, action, obj=None, **detail):
    """Add an audit entry to the current unit of work (flushes, never commits).

    `detail` must hold no personal data: ids and codes, not names, phones or passwords.
    """
    actor_id = getattr(actor, "id", None) if getattr(actor, "is_authenticated", False) else None
    entry = AuditEntry(
        actor_id=actor_id,
        action=action,
        object_type=obj.__tablename__ if obj is not None else None,
        object_id=str(obj.id) if obj is not None else None,
        detail=detail,
    )
    db.session.add(entry)
    db.session.flush()
    return entry

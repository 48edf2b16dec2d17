"""The audit log: who did what to which object, and when (UTC); admins search it."""

import logging
from dataclasses import dataclass

from sqlalchemy import JSON, ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from neighbors.core.db import UTCDateTime, transaction, utcnow
from neighbors.core.permissions import Role, require_role
from neighbors.core.replicas import write_aside
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

    actor = relationship("User", lazy="joined", innerjoin=False)


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


def record_denial(actor, route, method):
    """Log a refused request in a transaction of its own (the request's work is rolled back)."""
    db.session.rollback()
    with transaction():
        record(actor, "permission.denied", None, route=route, method=method)


def record_export(actor, what, **detail):
    """Log an export in a transaction of its own, before the file is written. The entry is the
    primary's, and the export may still read from a replica (it reads nothing the entry wrote)."""
    with write_aside(), transaction():
        record(actor, f"{what}.export", None, **detail)


@dataclass
class AuditFilter:
    action: str | None = None  # "account.login", or a prefix ending in "." ("ledger.")
    actor_id: int | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: object | None = None  # aware datetimes
    before: object | None = None


def search(actor, filters, *, before_id=None, limit=100):
    """Entries matching the filters, newest first, with their actors; and the id to continue
    below (None on the last page). Raises NotAuthenticated, NotAllowed (admins only)."""
    require_role(actor, Role.ADMIN)
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit + 1)
    if filters.action:
        if filters.action.endswith("."):
            query = query.where(AuditEntry.action.startswith(filters.action, autoescape=True))
        else:
            query = query.where(AuditEntry.action == filters.action)
    for column, value in (
        (AuditEntry.actor_id, filters.actor_id),
        (AuditEntry.object_type, filters.object_type),
        (AuditEntry.object_id, filters.object_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if filters.since is not None:
        query = query.where(AuditEntry.at >= filters.since)
    if filters.before is not None:
        query = query.where(AuditEntry.at < filters.before)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    entries = db.session.scalars(query).unique().all()
    more = len(entries) > limit
    return entries[:limit], (entries[limit - 1].id if more else None)

"""What every foundation service checks: field shapes, who may act, and idempotency keys (a
repeated request gets the first one's result, never a second movement of money)."""

import hashlib
import json
import logging
import re

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from neighbors.core.db import transaction
from neighbors.core.errors import Conflict, Invalid
from neighbors.core.permissions import Role, has_role
from neighbors.extensions import db
from neighbors.foundation.models import IdempotencyKey

logger = logging.getLogger(__name__)

FUND_CODE = re.compile(r"^[A-Z][A-Z0-9-]{1,31}$")
CHANNELS = ("bank_transfer", "cash", "wechat", "alipay", "other")
ID_NUMBER = re.compile(r"^[0-9]{17}[0-9X]$")


def _text(fields, name, value, limit, required=True):
    value = (value or "").strip()
    if (required and not value) or len(value) > limit or "\x00" in value:
        fields[name] = (
            _("Enter 1 to %(n)s characters.", n=limit)
            if required
            else _("At most %(n)s characters.", n=limit)
        )
    return value


def _raise(fields):
    if fields:
        raise Invalid.from_fields(fields)


def request_hash(body):
    """A fingerprint of a request body: the same JSON in any key order gives the same hash."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(actor, idempotency, model):
    """The object made earlier with this key, or None for a new key. Raises Conflict when the
    key was used with another body."""
    if not idempotency:
        return None
    key, fingerprint = idempotency
    # A control character (NUL above all, which PostgreSQL refuses) is no key either.
    if not 1 <= len(key) <= 100 or any(ch < " " for ch in key):
        raise Invalid(
            _("The Idempotency-Key must have 1 to 100 characters."), code="bad_idempotency_key"
        )
    seen = db.session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.actor_id == actor.id, IdempotencyKey.key == key)
    )
    if seen is None:
        return None
    if seen.request_hash != fingerprint or seen.object_type != model.__tablename__:
        raise Conflict(
            _("This Idempotency-Key was used for another request."), code="idempotency_key_reused"
        )
    return db.session.get(model, seen.object_id)


def _remember(actor, idempotency, obj):
    if idempotency:
        key, fingerprint = idempotency
        db.session.add(
            IdempotencyKey(
                actor_id=actor.id,
                key=key,
                request_hash=fingerprint,
                object_type=obj.__tablename__,
                object_id=obj.id,
            )
        )
        db.session.flush()


def _once(actor, idempotency, model, make):
    """Run `make` in a unit of work at most once per Idempotency-Key: (object, created)."""
    try:
        with transaction():
            earlier = _replay(actor, idempotency, model)
            if earlier is not None:
                return earlier, False
            obj = make()
            _remember(actor, idempotency, obj)
    except IntegrityError:
        if not idempotency:
            raise
        earlier = _replay(actor, idempotency, model)  # the same key raced us and won
        if earlier is None:
            raise
        return earlier, False
    return obj, True


def can_see_full(actor):
    """Approvers and cashiers may open a beneficiary's sensitive fields (each view is logged)."""
    return has_role(actor, Role.APPROVER, Role.CASHIER)

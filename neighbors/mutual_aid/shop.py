"""The love supermarket (爱心超市): a community's items priced in points, redeemed at the counter.

A redemption debits the person's points and the item's stock in one unit of work; each by a
conditional UPDATE that refuses to go below zero (and a CHECK behind it), so that no number of
counters at once can overdraw either. A reversal gives both back as new entries."""

import logging
import re
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from neighbors.accounts import identity
from neighbors.accounts import services as accounts
from neighbors.accounts.models import User
from neighbors.areas import services as areas
from neighbors.core import audit
from neighbors.core.db import transaction, utcnow
from neighbors.core.errors import Conflict, Invalid, NotFound
from neighbors.core.permissions import (
    Role,
    managed_community_ids,
    require_community_staff,
    require_role,
)
from neighbors.core.timezone import local_today, local_zone
from neighbors.extensions import db
from neighbors.mutual_aid import points
from neighbors.mutual_aid.models import EntryKind, Redemption, ShopItem, StockChange

logger = logging.getLogger(__name__)

MAX_POINTS = 100_000
MAX_STOCK = 100_000
MAX_QUANTITY = 100
VOLUNTEER_NUMBER = re.compile(r"^[Vv]?0*([0-9]{1,9})$")


def _whole(value, low, high, field, message):
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise Invalid.from_fields({field: message})
    return value


def _name(name):
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise Invalid.from_fields({"name": _("Enter 1 to 100 characters.")})
    return name


def items(actor, community_id=None):
    """The items of the actor's communities (or one of them), by community and name.

    Raises NotAllowed, NotFound (a community out of scope)."""
    require_role(actor, Role.STAFF)
    query = (
        select(ShopItem)
        .options(joinedload(ShopItem.community))
        .order_by(ShopItem.community_id, ShopItem.name, ShopItem.id)
    )
    if community_id is not None:
        require_community_staff(actor, community_id)
        query = query.where(ShopItem.community_id == community_id)
    else:
        scope = managed_community_ids(actor)
        if scope is not None:
            query = query.where(ShopItem.community_id.in_(scope))
    return db.session.scalars(query).all()


def item_for_staff(actor, item_id):
    """Raises NotAllowed, NotFound (missing or another community's)."""
    require_role(actor, Role.STAFF)
    item = db.session.get(ShopItem, item_id)
    if item is None:
        raise NotFound(_("Not found."))
    require_community_staff(actor, item.community_id)
    return item


def add_item(actor, *, community_code, name, points, stock):
    """A new item of a community's shop. Raises NotAllowed, NotFound, Invalid."""
    require_role(actor, Role.STAFF)
    community = areas.community_by_code(community_code or "")
    require_community_staff(actor, community.id)
    name = _name(name)
    _whole(
        points, 1, MAX_POINTS, "points", _("Enter a price from 1 to %(n)s points.", n=MAX_POINTS)
    )
    _whole(stock, 0, MAX_STOCK, "stock", _("Enter a stock from 0 to %(n)s.", n=MAX_STOCK))
    with transaction():
        item = ShopItem(community_id=community.id, name=name, points=points, stock=stock)
        db.session.add(item)
        db.session.flush()
        if stock:
            db.session.add(
                StockChange(item_id=item.id, quantity=stock, reason=_("Opening stock"),
                            actor_id=actor.id)
            )  # fmt: skip
        audit.record(actor, "shop.add_item", item, points=points, stock=stock)
    return item


def add_stock(actor, item_id, *, quantity, reason):
    """Stock received (or, negative, written off) with the reason. Raises NotAllowed, NotFound,
    Invalid, Conflict (out_of_stock: writing off more than there is)."""
    item = item_for_staff(actor, item_id)
    _whole(quantity, -MAX_STOCK, MAX_STOCK, "quantity", _("Enter a number of items."))
    if quantity == 0:
        raise Invalid.from_fields({"quantity": _("Enter a number of items.")})
    reason = (reason or "").strip()
    if not 1 <= len(reason) <= 200:
        raise Invalid.from_fields({"reason": _("Say why, in at most 200 characters.")})
    with transaction():
        changed = db.session.execute(
            update(ShopItem)
            .where(
                ShopItem.id == item.id,
                ShopItem.stock + quantity >= 0,
                ShopItem.stock + quantity <= MAX_STOCK,
            )
            .values(stock=ShopItem.stock + quantity)
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed != 1:
            raise Conflict(_("The stock cannot go below zero."), code="out_of_stock")
        db.session.add(
            StockChange(item_id=item.id, quantity=quantity, reason=reason, actor_id=actor.id)
        )
        audit.record(actor, "shop.add_stock", item, quantity=quantity)
    db.session.refresh(item)
    return item


def find_person(actor, query):
    """The person at the counter, by phone, e-mail or volunteer number (ours, the national one,
    or the account's V00000012 or 12).

    Staff only; the answer is the same for nobody and for a query that is not well formed.
    Raises NotAllowed, NotFound."""
    require_role(actor, Role.STAFF)
    query = (query or "").strip()[:254]
    person = None
    number = VOLUNTEER_NUMBER.match(query)
    if number and (query[:1] in "Vv" or len(query) < 11):
        person = db.session.get(User, int(number.group(1)))
    if person is None and query:
        person = identity.find_by_volunteer_number(query) or accounts.find_by_login(query)
    if person is None or not person.active:
        raise NotFound(_("Nobody has this phone or volunteer number."), code="person_not_found")
    return person


def redeem(actor, *, item_id, user_id, quantity=1):
    """Give goods for points at the counter: points and stock are debited together, or neither.

    The person's confirmed service is settled first, so points earned a moment ago count.
    Raises NotAllowed, NotFound (item out of scope, or no such person), Invalid, Conflict
    (insufficient_points, out_of_stock).
    """
    require_role(actor, Role.STAFF)
    _whole(quantity, 1, MAX_QUANTITY, "quantity",
           _("Enter a quantity from 1 to %(n)s.", n=MAX_QUANTITY))  # fmt: skip
    with transaction():
        item = db.session.get(ShopItem, item_id)
        if item is None:
            raise NotFound(_("Not found."))
        require_community_staff(actor, item.community_id)
        person = db.session.get(User, user_id)
        if person is None or not person.active:
            raise NotFound(_("Nobody has this phone or volunteer number."), code="person_not_found")
        points.lock_account(person.id)
        points.settle(person.id)
        cost = item.points * quantity
        taken = db.session.execute(
            update(ShopItem)
            .where(ShopItem.id == item.id, ShopItem.stock >= quantity)
            .values(stock=ShopItem.stock - quantity)
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken != 1:
            raise Conflict(_("Not enough of this item in stock."), code="out_of_stock")
        redemption = Redemption(
            item_id=item.id,
            community_id=item.community_id,
            user_id=person.id,
            quantity=quantity,
            points=cost,
            staff_id=actor.id,
        )
        db.session.add(redemption)
        db.session.flush()
        points.post(person.id, -cost, EntryKind.REDEEMED, actor=actor,
                    redemption_id=redemption.id, note=item.name)  # fmt: skip
        audit.record(actor, "shop.redeem", redemption, item=item.id, quantity=quantity, points=cost)
    return redemption


def reverse(actor, redemption_id, *, reason):
    """Undo a redemption (goods brought back, a mistake at the counter): the points and the
    stock come back as new entries; a redemption is reversed once. Raises NotAllowed, NotFound,
    Invalid, Conflict (already_reversed)."""
    require_role(actor, Role.STAFF)
    reason = (reason or "").strip()
    with transaction():
        redemption = db.session.get(Redemption, redemption_id)
        if redemption is None:
            raise NotFound(_("Not found."))
        require_community_staff(actor, redemption.community_id)
        if not 1 <= len(reason) <= 200:
            raise Invalid.from_fields({"reason": _("Say why, in at most 200 characters.")})
        points.lock_account(redemption.user_id)
        now = utcnow()
        done = db.session.execute(
            update(Redemption)
            .where(Redemption.id == redemption.id, Redemption.reversed_at.is_(None))
            .values(reversed_at=now, reversed_by_id=actor.id, reverse_reason=reason)
            .execution_options(synchronize_session=False)
        ).rowcount
        if done != 1:
            raise Conflict(_("This redemption has been reversed already."), code="already_reversed")
        db.session.execute(
            update(ShopItem)
            .where(ShopItem.id == redemption.item_id)
            .values(stock=ShopItem.stock + redemption.quantity)
            .execution_options(synchronize_session=False)
        )
        points.post(redemption.user_id, redemption.points, EntryKind.REVERSED, actor=actor,
                    redemption_id=redemption.id, note=reason)  # fmt: skip
        points.settle(redemption.user_id)  # points owed back are taken now
        audit.record(actor, "shop.reverse", redemption)
    db.session.refresh(redemption)
    return redemption


def redemption_for_staff(actor, redemption_id):
    """Raises NotAllowed, NotFound."""
    require_role(actor, Role.STAFF)
    redemption = db.session.scalars(
        select(Redemption)
        .options(joinedload(Redemption.item), joinedload(Redemption.user),
                 joinedload(Redemption.staff))
        .where(Redemption.id == redemption_id)
    ).first()  # fmt: skip
    if redemption is None:
        raise NotFound(_("Not found."))
    require_community_staff(actor, redemption.community_id)
    return redemption


def recent_redemptions(actor, community_id, limit=50):
    require_community_staff(actor, community_id)
    return db.session.scalars(
        select(Redemption)
        .options(joinedload(Redemption.item), joinedload(Redemption.user))
        .where(Redemption.community_id == community_id)
        .order_by(Redemption.id.desc())
        .limit(limit)
    ).all()


def month_bounds(month):
    """'2026-12' -> the UTC instants of its first moment and the next month's, in the display
    zone. Raises Invalid."""
    match = re.fullmatch(r"([0-9]{4})-([0-9]{2})", month or "")
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise Invalid.from_fields({"month": _("Use a month such as 2026-12.")})
    year, number = int(match.group(1)), int(match.group(2))
    start = date(year, number, 1)
    end = date(year + number // 12, number % 12 + 1, 1)
    tz = local_zone()
    return (
        datetime(start.year, start.month, 1, tzinfo=tz),
        datetime(end.year, end.month, 1, tzinfo=tz),
    )


def this_month():
    return local_today().strftime("%Y-%m")


def monthly_report(actor, community_code, month):
    """What the shop gave in a month: one row per item (name, quantity, points), reversed
    redemptions left out. Raises NotAllowed, NotFound, Invalid."""
    require_role(actor, Role.STAFF)
    community = areas.community_by_code(community_code or "")
    require_community_staff(actor, community.id)
    start, end = month_bounds(month)
    rows = db.session.execute(
        select(ShopItem.name, func.sum(Redemption.quantity), func.sum(Redemption.points),
               func.count(Redemption.id))
        .join(Redemption.item)
        .where(
            Redemption.community_id == community.id,
            Redemption.reversed_at.is_(None),
            Redemption.at >= start,
            Redemption.at < end,
        )
        .group_by(ShopItem.id, ShopItem.name)
        .order_by(ShopItem.name)
    ).all()  # fmt: skip
    return community, [(name, int(q), int(p), int(n)) for name, q, p, n in rows]

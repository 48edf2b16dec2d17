"""Micro-wishes (微心愿): the masses order, the community dispatches, Party members take the order.

submitted → published | rejected (staff vet) → claimed (exactly one claimer: a conditional
UPDATE) → fulfilled (the claimer, with a note) → confirmed (staff: a confirmed service record for
the claimer). Staff or the claimer may release a claim back to the wall; a claim not fulfilled
within WISH_CLAIM_DAYS goes back by itself. Every step is audit-logged and tells the people
concerned."""

import logging
import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from neighbors.accounts.models import RoleGrant, User
from neighbors.areas import services as areas
from neighbors.areas.models import Community, Street
from neighbors.core import audit, paging
from neighbors.core.db import transaction, utcnow
from neighbors.core.errors import Conflict, Invalid, NotAllowed, NotFound
from neighbors.core.links import absolute_url
from neighbors.core.paging import PAGE
from neighbors.core.permissions import (
    Role,
    has_role,
    managed_community_ids,
    require_community_staff,
    require_role,
    require_user,
)
from neighbors.core.timezone import local_today
from neighbors.extensions import db
from neighbors.hours import services as hours
from neighbors.hours.models import MAX_MINUTES
from neighbors.mutual_aid import points
from neighbors.mutual_aid.models import Wish, WishCategory, WishStatus
from neighbors.mutual_aid.notices import notify
from neighbors.party.models import ReportStatus

logger = logging.getLogger(__name__)

# Who sees a wish on the wall: never one that waits for vetting or was turned down.
PUBLIC = (WishStatus.PUBLISHED, WishStatus.CLAIMED, WishStatus.FULFILLED, WishStatus.CONFIRMED)
OPEN_CLAIM = (WishStatus.CLAIMED,)
AMOUNT = re.compile(r"^[0-9]{1,8}(\.[0-9]{1,2})?$")

CATEGORY_LABELS = {
    WishCategory.DAILY: _l("Daily goods"),
    WishCategory.STUDY: _l("Study"),
    WishCategory.HEALTH: _l("Health"),
    WishCategory.REPAIR: _l("Repairs"),
    WishCategory.COMPANY: _l("Company and care"),
    WishCategory.OTHER: _l("Other"),
}
STATUS_LABELS = {
    WishStatus.SUBMITTED: _l("Waiting for vetting"),
    WishStatus.PUBLISHED: _l("On the wall"),
    WishStatus.REJECTED: _l("Not accepted"),
    WishStatus.CLAIMED: _l("Claimed"),
    WishStatus.FULFILLED: _l("Fulfilled"),
    WishStatus.CONFIRMED: _l("Confirmed"),
}


def value_limit():
    return Decimal(str(current_app.config["WISH_VALUE_CAP"]))


def _text(value, field, low, high):
    value = (value or "").strip() if isinstance(value, str) else value
    if not isinstance(value, str) or not low <= len(value) <= high:
        raise Invalid.from_fields({field: _("Enter %(low)s to %(high)s characters.", low=low,
                                            high=high)})  # fmt: skip
    return value


def _amount(value):
    text = str(value).strip() if isinstance(value, (str, int, Decimal)) else ""
    limit = value_limit()
    message = _("Enter a value from 0.01 to %(limit)s yuan.", limit=f"{limit:.2f}")
    if isinstance(value, bool) or not AMOUNT.match(text):
        raise Invalid.from_fields({"value_cap": message})
    try:
        amount = Decimal(text).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise Invalid.from_fields({"value_cap": message}) from None
    if not Decimal("0.01") <= amount <= limit:
        raise Invalid.from_fields({"value_cap": message})
    return amount


def _category(value):
    try:
        return WishCategory(value)
    except ValueError:
        raise Invalid.from_fields({"category": _("Choose a category.")}) from None


def is_party_member(person):
    """A Party member whose report-in the community confirmed."""
    member = getattr(person, "party", None)
    return member is not None and member.status == ReportStatus.CONFIRMED


def _staff_of(community_id):
    return db.session.scalars(
        select(User)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .where(RoleGrant.role == Role.STAFF, RoleGrant.community_id == community_id)
        .where(User.active.is_(True))
    ).all()


def wish_for_update(wish_id):
    wish = db.session.get(Wish, wish_id, with_for_update=True, populate_existing=True)
    if wish is None:
        raise NotFound(_("Not found."))
    return wish


def locked_for(actor, wish_id, person):
    """The wish, its row locked, for its `person` ("asker" or "claimer") or for its
    community's staff; and whether the actor is that person. Raises NotAllowed, NotFound."""
    wish = wish_for_update(wish_id)
    own = getattr(wish, f"{person}_id") == actor.id
    if not own:
        require_community_staff(actor, wish.community_id)
    return wish, own


def _link(wish):
    return absolute_url("mutual_aid.show_wish", wish_id=wish.id)


def post_wish(actor, *, title, description, category, value_cap, community_code=None,
              for_user_id=None):  # fmt: skip
    """A resident posts a wish for themself (in their home community unless they name one), or
    staff post one on behalf of a person of their community (for_user_id). It waits for vetting.

    Raises NotAuthenticated, NotAllowed (for someone else without being staff), NotFound
    (a community or person out of scope), Invalid.
    """
    require_user(actor)
    title = _text(title, "title", 1, 100)
    description = _text(description or "", "description", 0, 1000)
    category = _category(category)
    value_cap = _amount(value_cap)
    if for_user_id is not None:
        require_role(actor, Role.STAFF)
        asker = db.session.get(User, for_user_id) if isinstance(for_user_id, int) else None
        if asker is None or not asker.active:
            raise NotFound(_("Nobody has this phone or volunteer number."), code="person_not_found")
        community_id = (
            areas.community_by_code(community_code).id if community_code
            else asker.home_community_id
        )  # fmt: skip
        if community_id is None:
            raise Invalid.from_fields({"community": _("Choose a community.")})
        require_community_staff(actor, community_id)
    else:
        asker = actor
        if community_code:
            community_id = areas.community_by_code(community_code).id
        elif actor.home_community_id is not None:
            community_id = actor.home_community_id
        else:
            raise Invalid.from_fields({"community": _("Choose a community.")})
    with transaction():
        wish = Wish(
            community_id=community_id,
            asker_id=asker.id,
            posted_by_id=actor.id,
            title=title,
            description=description,
            category=category,
            value_cap=value_cap,
        )
        db.session.add(wish)
        db.session.flush()
        audit.record(actor, "wish.post", wish, for_someone=asker.id != actor.id)
        for staff in _staff_of(community_id):
            if staff.id != actor.id:
                notify(staff, wish, "to_vet", link=absolute_url("mutual_aid.staff_wishes"))
    return wish


def vet(actor, wish_id, *, publish, note=None):
    """Staff put a submitted wish on the wall, or turn it down with a note the asker sees.

    Raises NotAllowed, NotFound, Conflict (not_submitted)."""
    require_role(actor, Role.STAFF)
    note = (note or "").strip()[:500] or None
    with transaction():
        wish = wish_for_update(wish_id)
        require_community_staff(actor, wish.community_id)
        if wish.status != WishStatus.SUBMITTED:
            raise Conflict(_("This wish has been vetted already."), code="not_submitted")
        wish.status = WishStatus.PUBLISHED if publish else WishStatus.REJECTED
        wish.reviewed_by_id, wish.review_note = actor.id, note
        if publish:
            wish.published_at = utcnow()
        audit.record(actor, "wish.publish" if publish else "wish.reject", wish)
        if publish:
            notify(wish.asker, wish, "published", link=_link(wish))
        else:
            notify(wish.asker, wish, "rejected", note=note or "")
    return wish


def party_window_ends(wish):
    """Until when only Party members may claim the wish (WISH_PARTY_HOURS after publishing)."""
    hours_first = int(current_app.config["WISH_PARTY_HOURS"])
    return wish.published_at + timedelta(hours=hours_first) if wish.published_at else None


def claim(actor, wish_id):
    """Take a wish from the wall: exactly one claimer, however many try at once.

    Raises NotAuthenticated, NotFound (not on the wall), Conflict (already_claimed,
    party_members_first, own_wish, too_many_claims)."""
    require_user(actor)
    limit = int(current_app.config["WISH_MAX_OPEN_CLAIMS"])
    with transaction():
        # One claimer's claims are counted under a lock on their row, so two claims of theirs
        # at once cannot both slip under the limit.
        db.session.execute(select(User.id).where(User.id == actor.id).with_for_update())
        wish = db.session.get(Wish, wish_id, populate_existing=True)
        if wish is None or wish.status not in PUBLIC:
            raise NotFound(_("Not found."))
        if wish.status != WishStatus.PUBLISHED:
            raise Conflict(_("Someone has claimed this wish already."), code="already_claimed")
        if wish.asker_id == actor.id:
            raise Conflict(_("You cannot claim your own wish."), code="own_wish")
        if utcnow() < party_window_ends(wish) and not is_party_member(actor):
            raise Conflict(
                _("Party members alone may claim this wish until %(hours)s hours after it was "
                  "published.", hours=current_app.config["WISH_PARTY_HOURS"]),
                code="party_members_first",
            )  # fmt: skip
        open_claims = db.session.scalar(
            select(func.count(Wish.id)).where(
                Wish.claimer_id == actor.id, Wish.status.in_(OPEN_CLAIM)
            )
        )
        if open_claims >= limit:
            raise Conflict(
                _("You have %(n)s wishes to fulfil already: fulfil or release one first.",
                  n=open_claims),
                code="too_many_claims",
            )  # fmt: skip
        taken = db.session.execute(
            update(Wish)
            .where(Wish.id == wish.id, Wish.status == WishStatus.PUBLISHED)
            .values(status=WishStatus.CLAIMED, claimer_id=actor.id, claimed_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken != 1:
            raise Conflict(_("Someone has claimed this wish already."), code="already_claimed")
        db.session.refresh(wish)
        audit.record(actor, "wish.claim", wish)
        notify(wish.asker, wish, "claimed", link=_link(wish))
    return wish


def fulfil(actor, wish_id, *, note):
    """The claimer says the wish came true, with a note; staff confirm it.

    Raises NotAuthenticated, NotFound (not the claimer), Conflict (not_claimed), Invalid."""
    require_user(actor)
    with transaction():
        wish = wish_for_update(wish_id)
        if wish.claimer_id != actor.id:
            raise NotFound(_("Not found."))
        note = _text(note, "note", 1, 1000)
        if wish.status != WishStatus.CLAIMED:
            raise Conflict(_("This wish is not waiting to be fulfilled."), code="not_claimed")
        wish.status, wish.fulfilled_at, wish.fulfil_note = WishStatus.FULFILLED, utcnow(), note
        audit.record(actor, "wish.fulfil", wish)
        for staff in _staff_of(wish.community_id):
            notify(staff, wish, "to_confirm", link=absolute_url("mutual_aid.staff_wishes"))
    return wish


def confirm(actor, wish_id, *, minutes):
    """Staff confirm a fulfilled wish: the claimer gets a confirmed service record of these
    minutes (and its points) and a thank-you.

    Raises NotAllowed (also for a wish one claimed oneself), NotFound, Conflict
    (not_fulfilled), Invalid."""
    require_role(actor, Role.STAFF)
    with transaction():
        wish = wish_for_update(wish_id)
        require_community_staff(actor, wish.community_id)
        if (
            not isinstance(minutes, int)
            or isinstance(minutes, bool)
            or not 1 <= minutes <= MAX_MINUTES
        ):
            raise Invalid.from_fields(
                {"minutes": _("Enter the minutes served, from 1 to %(n)s.", n=MAX_MINUTES)}
            )
        if wish.status != WishStatus.FULFILLED:
            raise Conflict(_("Only a fulfilled wish can be confirmed."), code="not_fulfilled")
        if wish.claimer_id == actor.id and not has_role(actor, Role.ADMIN):
            raise NotAllowed(_("Another staff member must confirm your own hours."))
        record = hours.record_service(
            actor,
            user_id=wish.claimer_id,
            event_id=None,
            community_id=wish.community_id,
            category=None,
            activity=_("Micro-wish: %(title)s", title=wish.title)[:200],
            place=wish.community.name,
            organiser=wish.community.name,
            served_on=local_today(),
            minutes=minutes,
        )
        db.session.flush()
        hours.review(actor, [record.id], confirm=True)
        wish.status, wish.confirmed_by_id, wish.confirmed_at = (
            WishStatus.CONFIRMED, actor.id, utcnow()
        )  # fmt: skip
        wish.minutes, wish.service_record_id = minutes, record.id
        earned = points.settle(wish.claimer_id)
        audit.record(actor, "wish.confirm", wish, minutes=minutes, record=record.id)
        notify(wish.claimer, wish, "thanks", link=absolute_url("mutual_aid.my_points"),
               minutes=minutes, points=earned)  # fmt: skip
    return wish


def release(actor, wish_id, *, reason=None):
    """Put a claimed (or fulfilled, not yet confirmed) wish back on the wall: staff of its
    community, or the claimer. Raises NotAuthenticated, NotAllowed, NotFound (another
    community's), Conflict (not_claimed)."""
    require_user(actor)
    with transaction():
        wish, is_claimer = locked_for(actor, wish_id, "claimer")
        if wish.status not in (WishStatus.CLAIMED, WishStatus.FULFILLED):
            raise Conflict(_("This wish is not claimed."), code="not_claimed")
        claimer = wish.claimer
        _back_to_wall(wish)
        audit.record(actor, "wish.release", wish, by_claimer=is_claimer)
        if not is_claimer:
            notify(claimer, wish, "released_claim", reason=(reason or "").strip()[:500])
        notify(wish.asker, wish, "back_on_wall", link=_link(wish))
    return wish


def _back_to_wall(wish):
    wish.status, wish.claimer_id, wish.claimed_at = WishStatus.PUBLISHED, None, None
    wish.fulfilled_at, wish.fulfil_note = None, None


def expire_claims(now):
    """Claims not fulfilled within WISH_CLAIM_DAYS go back to the wall; the claimer is told.
    Safe to run again: a wish goes back once. Returns the number released."""
    cutoff = now - timedelta(days=int(current_app.config["WISH_CLAIM_DAYS"]))
    ids = db.session.scalars(
        select(Wish.id).where(Wish.status == WishStatus.CLAIMED, Wish.claimed_at < cutoff)
    ).all()
    released = 0
    for wish_id in ids:
        with transaction():
            wish = wish_for_update(wish_id)
            if wish.status != WishStatus.CLAIMED or wish.claimed_at >= cutoff:
                continue
            claimer = wish.claimer
            _back_to_wall(wish)
            audit.record(None, "wish.expire", wish)
            notify(claimer, wish, "expired", days=current_app.config["WISH_CLAIM_DAYS"])
            released += 1
    return released


def wall(*, community_code=None, street_code=None, status=None, cursor=None, limit=PAGE):
    """The public wish wall, a page of it, newest first: wishes on the wall (or, by status,
    claimed and fulfilled ones), of a community or a street. Never one waiting for vetting or
    turned down.

    Raises Invalid (a status that is not public), NotFound (no such community)."""
    if status in (None, ""):
        statuses = (WishStatus.PUBLISHED,)
    else:
        try:
            statuses = (WishStatus(status),)
        except ValueError:
            statuses = ()
        if not statuses or statuses[0] not in PUBLIC:
            raise Invalid.from_fields({"status": _("Choose a status of the wall.")})
    query = (
        select(Wish)
        .options(joinedload(Wish.asker), joinedload(Wish.community))
        .where(Wish.status.in_(statuses))
    )
    if community_code:
        query = query.where(Wish.community_id == areas.community_by_code(community_code).id)
    elif street_code:
        query = query.join(Wish.community).join(Community.street).where(Street.code == street_code)
    return paging.by_id(query, Wish.id, cursor=cursor, limit=limit)


def public_wish(wish_id):
    """A wish as the wall shows it. Raises NotFound for one not on the wall."""
    wish = db.session.get(Wish, wish_id)
    if wish is None or wish.status not in PUBLIC:
        raise NotFound(_("Not found."))
    return wish


def visible_wish(actor, wish_id):
    """A wish its asker, its claimer or its community's staff may see in any state, else as
    the wall shows it. Raises NotFound."""
    wish = db.session.get(Wish, wish_id)
    if wish is None:
        raise NotFound(_("Not found."))
    return wish if concerned(actor, wish) else public_wish(wish_id)


def concerned(actor, wish):
    """The asker (and who posted it for them), the claimer and the community's staff: they
    see the wish in any state, and its photo before the asker's consent."""
    if not getattr(actor, "is_authenticated", False):
        return False
    if actor.id in (wish.asker_id, wish.posted_by_id, wish.claimer_id):
        return True
    scope = managed_community_ids(actor) if has_role(actor, Role.STAFF) else set()
    return scope is None or wish.community_id in scope


QUEUES = (WishStatus.SUBMITTED, WishStatus.FULFILLED, WishStatus.CLAIMED)


def staff_queue(actor, *, status=None, cursor=None, limit=PAGE):
    """Wishes of the actor's communities waiting for staff, oldest first: to vet, to confirm,
    and claimed; {status: a page of them}, every queue or only the one asked for (from
    `cursor` on).

    Raises NotAllowed."""
    require_role(actor, Role.STAFF)
    query = select(Wish).options(
        joinedload(Wish.asker), joinedload(Wish.claimer), joinedload(Wish.community)
    )
    scope = managed_community_ids(actor)
    if scope is not None:
        query = query.where(Wish.community_id.in_(scope))
    statuses = [s for s in QUEUES if s == status] or QUEUES
    return {
        s: paging.by_id(
            query.where(Wish.status == s),
            Wish.id,
            newest_first=False,
            cursor=cursor if status else None,
            limit=limit,
        )  # fmt: skip
        for s in statuses
    }


def my_wishes(actor):
    """The wishes posted for the actor, and those they claimed. Raises NotAuthenticated."""
    require_user(actor)
    asked = db.session.scalars(
        select(Wish).where(Wish.asker_id == actor.id).order_by(Wish.id.desc()).limit(200)
    ).all()
    claimed = db.session.scalars(
        select(Wish).where(Wish.claimer_id == actor.id).order_by(Wish.id.desc()).limit(200)
    ).all()
    return asked, claimed

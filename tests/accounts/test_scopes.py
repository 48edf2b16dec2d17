"""Street and district staff act on every community in their street or district, and on no
other; a staff role names exactly one place, which the database holds too."""

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from neighbors.accounts import services as accounts
from neighbors.accounts.models import RoleGrant
from neighbors.areas import services as areas
from neighbors.core.db import utcnow
from neighbors.core.errors import Invalid, NotFound
from neighbors.core.permissions import managed_community_ids
from neighbors.events import services as events
from neighbors.extensions import db
from tests.factories import COMMUNITY, OTHER_COMMUNITY, person

SAME_STREET = "210102002002"  # 三好街社区, 南湖街道 like 文安路社区
OTHER_STREET_SAME_DISTRICT = "210102001001"  # 中华路社区, 太原街街道, 和平区


def create(actor, community):
    start = utcnow() + timedelta(days=2)
    return events.create_event(
        actor,
        community_code=community,
        title="社区活动",
        category="warmth",
        venue="服务站",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        capacity=5,
    )


def staff_of(make, **place):
    user_id, email = make.user()
    accounts.grant_role(email, "staff", **place)
    accounts.revoke_role(email, "volunteer")
    return person(user_id)


def test_street_staff_act_on_every_community_of_their_street(ctx, make):
    street = staff_of(make, street_code="210102002")
    for community in (COMMUNITY, SAME_STREET):
        event = create(street, community)
        events.publish_event(street, event.id)
    for community in (OTHER_STREET_SAME_DISTRICT, OTHER_COMMUNITY):
        with pytest.raises(NotFound):
            create(street, community)
    coming, past = events.staff_events(street)
    listed = {e.community.code for e in coming + past}
    assert listed == {COMMUNITY, SAME_STREET}


def test_district_staff_act_on_every_street_of_their_district(ctx, make):
    district = staff_of(make, district_code="210102")
    for community in (COMMUNITY, SAME_STREET, OTHER_STREET_SAME_DISTRICT):
        create(district, community)
    with pytest.raises(NotFound):
        create(district, OTHER_COMMUNITY)
    scope = managed_community_ids(district)
    assert len(scope) == sum(len(s.communities) for s in district.roles[0].district.streets)


def test_a_staff_role_names_exactly_one_place(ctx, make):
    _id, email = make.user()
    with pytest.raises(Invalid):
        accounts.grant_role(email, "staff")
    with pytest.raises(Invalid):
        accounts.grant_role(email, "staff", COMMUNITY, street_code="210102002")
    with pytest.raises(NotFound):
        accounts.grant_role(email, "staff", street_code="999999999")
    accounts.grant_role(email, "staff", street_code="210102002")
    accounts.grant_role(email, "staff", street_code="210102002")  # held already: kept once
    user = accounts.user_by_email(email)
    assert [(g.role, g.scope.code) for g in user.roles if g.role == "staff"] == [
        ("staff", "210102002")
    ]
    accounts.revoke_role(email, "staff", street_code="210102002")
    assert not managed_community_ids(accounts.user_by_email(email))

    grant = RoleGrant(
        user_id=user.id,
        role="staff",
        community_id=areas.community_by_code(COMMUNITY).id,
        street_id=areas.scope_by_code("street", "210102002").id,
    )
    db.session.add(grant)
    with pytest.raises(IntegrityError):  # the database refuses two places for one role
        db.session.flush()

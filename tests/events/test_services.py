"""Events and sign-ups through the services: seats, the waitlist, promotion, rules and scope."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from neighbors.attendance import completion
from neighbors.core.audit import AuditEntry
from neighbors.core.db import utcnow
from neighbors.core.errors import Conflict, Invalid, NotAllowed, NotFound
from neighbors.core.outbox import OutboxMessage
from neighbors.events import services as events
from neighbors.events.models import Event, EventStatus, SignupStatus
from neighbors.extensions import db
from tests.factories import OTHER_COMMUNITY, person


def messages():
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_full_event_waitlists_in_order_and_a_cancellation_promotes_the_head(ctx, factory):
    event_id = factory.event(capacity=2)
    a, b, c, d = factory.volunteers(4)
    results = [events.sign_up(person(u), event_id) for u in (a, b, c, d)]
    assert [str(r.signup.status) for r in results] == [
        "confirmed",
        "confirmed",
        "waitlisted",
        "waitlisted",
    ]
    assert [r.position for r in results] == [None, None, 1, 2]
    assert [events.waitlist_position(r.signup) for r in results] == [None, None, 1, 2]
    event = db.session.get(Event, event_id)
    assert (event.confirmed_count, event.waitlist_count) == (2, 2)

    events.cancel_signup(person(a), event_id)
    signup_c = events.sign_up(person(c), event_id).signup  # asking again returns the same sign-up
    assert signup_c.status == SignupStatus.CONFIRMED
    again = events.sign_up(person(d), event_id)
    assert not again.created and again.position == 1
    sent = messages()
    assert len(sent) == 1 and sent[0].to_address == person(c).email
    assert "社区奉献日" in sent[0].subject


def test_a_repeated_sign_up_returns_the_existing_one(ctx, factory):
    event_id = factory.event()
    (volunteer,) = factory.volunteers(1)
    first, created, _ = events.sign_up(person(volunteer), event_id)
    again, created_again, _ = events.sign_up(person(volunteer), event_id)
    assert created and not created_again and again.id == first.id
    assert db.session.get(Event, event_id).confirmed_count == 1
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "signup.create"))
    assert (entry.actor_id, entry.object_id) == (volunteer, str(first.id))
    assert entry.detail == {"status": "confirmed"}


def test_cancel_then_sign_up_again(ctx, factory):
    event_id = factory.event()
    (volunteer,) = factory.volunteers(1)
    events.sign_up(person(volunteer), event_id)
    events.cancel_signup(person(volunteer), event_id)
    with pytest.raises(NotFound):
        events.cancel_signup(person(volunteer), event_id)
    signup, created, _ = events.sign_up(person(volunteer), event_id)
    assert created and signup.status == SignupStatus.CONFIRMED
    assert db.session.get(Event, event_id).confirmed_count == 1


def test_raising_capacity_promotes_and_lowering_below_confirmed_is_refused(ctx, factory):
    event_id = factory.event(capacity=1)
    a, b, c = factory.volunteers(3)
    for user_id in (a, b, c):
        events.sign_up(person(user_id), event_id)
    events.update_event(factory.staff(), event_id, capacity=2)
    event = db.session.get(Event, event_id)
    assert (event.confirmed_count, event.waitlist_count) == (2, 1)
    assert [m.to_address for m in messages()] == [person(b).email]
    with pytest.raises(Conflict) as refused:
        events.update_event(factory.staff(), event_id, capacity=1)
    assert refused.value.code == "capacity_below_confirmed"
    assert db.session.get(Event, event_id).capacity == 2


@pytest.mark.parametrize("state", ["draft", "cancelled", "past", "not_open", "closed"])
def test_sign_up_is_refused_when_the_event_is_not_open(ctx, factory, state):
    now = utcnow()
    fields = {
        "draft": {"publish": False},
        "past": {
            "starts_at": now - timedelta(days=2),
            "ends_at": now - timedelta(days=2) + timedelta(hours=2),
        },
        "not_open": {"signup_opens_at": now + timedelta(days=1)},
        "closed": {"signup_closes_at": now - timedelta(hours=1)},
    }.get(state, {})
    event_id = factory.event(**fields)
    if state == "cancelled":
        events.cancel_event(factory.staff(), event_id, "下雨")
    (volunteer,) = factory.volunteers(1)
    expected = NotFound if state == "draft" else Conflict
    with pytest.raises(expected):
        events.sign_up(person(volunteer), event_id)
    assert db.session.get(Event, event_id).confirmed_count == 0


def test_cancelling_after_the_cut_off_is_refused(ctx, factory):
    now = utcnow()
    event_id = factory.event(cancel_cutoff_at=now + timedelta(minutes=1))
    (volunteer,) = factory.volunteers(1)
    events.sign_up(person(volunteer), event_id)
    with db.session.begin_nested():
        db.session.get(Event, event_id).cancel_cutoff_at = now - timedelta(minutes=1)
    db.session.commit()
    with pytest.raises(Conflict) as refused:
        events.cancel_signup(person(volunteer), event_id)
    assert refused.value.code == "cancel_closed"


def test_cancelling_an_event_tells_everyone_once_with_the_reason(ctx, factory):
    event_id = factory.event(capacity=1)
    a, b = factory.volunteers(2)
    events.sign_up(person(a), event_id)
    events.sign_up(person(b), event_id)
    events.cancel_event(factory.staff(), event_id, "暴雨预警")
    sent = messages()
    assert sorted(m.to_address for m in sent) == sorted([person(a).email, person(b).email])
    assert all("暴雨预警" in m.body for m in sent)
    with pytest.raises(Conflict):
        events.cancel_event(factory.staff(), event_id, "again")


def test_event_rules(ctx, factory):
    start = utcnow() + timedelta(days=1)
    staff = factory.staff()
    with pytest.raises(Invalid) as bad:
        events.create_event(
            staff,
            community_code="210102002001",
            title="",
            category="sport",
            venue="x",
            starts_at=start,
            ends_at=start - timedelta(hours=1),
            capacity=0,
        )
    assert set(bad.value.fields) >= {"title", "category", "ends_at", "capacity"}


def test_staff_scope(ctx, factory, make):
    event_id = factory.event(publish=False)
    other_id, _ = make.user(role="staff", community=OTHER_COMMUNITY)
    volunteer_id, _ = make.user()
    start = utcnow() + timedelta(days=1)
    with pytest.raises(NotFound):
        events.publish_event(person(other_id), event_id)
    with pytest.raises(NotFound):
        events.roster(person(other_id), event_id)
    with pytest.raises(NotFound):  # a draft is invisible outside its community's staff
        events.get_event(event_id, person(other_id))
    with pytest.raises(NotAllowed):
        events.publish_event(person(volunteer_id), event_id)
    with pytest.raises(NotFound):
        events.create_event(
            person(other_id),
            community_code="210102002001",
            title="x",
            category="culture",
            venue="",
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            capacity=5,
        )
    assert events.get_event(event_id, factory.staff()).status == EventStatus.DRAFT


def test_a_monthly_series_keeps_the_local_day_and_time(ctx, factory):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    shanghai = ZoneInfo("Asia/Shanghai")
    start = datetime(2030, 1, 31, 9, 0, tzinfo=shanghai)
    created = events.create_series(
        factory.staff(),
        community_code="210102002001",
        frequency="monthly",
        count=3,
        title="社区奉献日",
        category="party_building",
        venue="党群服务站",
        starts_at=start,
        ends_at=start + timedelta(hours=3),
        capacity=20,
        dedication_day=True,
    )
    local = [e.starts_at.astimezone(shanghai) for e in created]
    assert [(d.month, d.day, d.hour) for d in local] == [(1, 31, 9), (2, 28, 9), (3, 31, 9)]
    assert len({e.series_id for e in created}) == 1
    assert all(e.status == EventStatus.DRAFT and e.dedication_day for e in created)
    events.update_event(factory.staff(), created[1].id, title="二月奉献日")
    assert db.session.get(Event, created[2].id).title == "社区奉献日"


def test_past_event_records_an_activity_but_takes_no_sign_ups(ctx, factory):
    now = utcnow()
    event_id = factory.event(
        starts_at=now - timedelta(days=10), ends_at=now - timedelta(days=10) + timedelta(hours=2)
    )
    (volunteer,) = factory.volunteers(1)
    for _ in ("published, in the past", "completed"):
        with pytest.raises(Conflict) as refused:
            events.sign_up(person(volunteer), event_id)
        assert refused.value.code in ("signup_closed", "event_closed")
        if db.session.get(Event, event_id).status == EventStatus.PUBLISHED:
            completion.complete_event(factory.staff(), event_id)
    assert db.session.get(Event, event_id).status == EventStatus.COMPLETED
    assert db.session.get(Event, event_id).confirmed_count == 0


def test_list_filters_and_cursor_pagination(ctx, factory):
    base = utcnow() + timedelta(days=1)
    ids = [
        factory.event(
            title=f"活动{i}",
            starts_at=base + timedelta(hours=i),
            ends_at=base + timedelta(hours=i, minutes=30),
            category="culture" if i % 2 else "harmony",
        )
        for i in range(5)
    ]
    factory.event(
        title="别的社区",
        community=OTHER_COMMUNITY,
        starts_at=base,
        ends_at=base + timedelta(hours=1),
    )
    filters = events.EventFilter(community="210102002001")
    first, cursor = events.list_events(filters, limit=2)
    second, cursor2 = events.list_events(filters, cursor=cursor, limit=2)
    third, end = events.list_events(filters, cursor=cursor2, limit=2)
    assert [e.id for e in first + second + third] == ids and end is None
    culture, _ = events.list_events(events.EventFilter(category="culture"))
    assert [e.title for e in culture] == ["活动1", "活动3"]
    found, _ = events.list_events(events.EventFilter(text="动3"))
    assert [e.title for e in found] == ["活动3"]
    street, _ = events.list_events(events.EventFilter(street="210103001"))
    assert [e.title for e in street] == ["别的社区"]
    with pytest.raises(Invalid):
        events.list_events(filters, cursor="not-a-cursor")


def test_my_events_shows_waitlist_positions(ctx, factory):
    event_id = factory.event(capacity=1)
    a, b, c = factory.volunteers(3)
    for user_id in (a, b, c):
        events.sign_up(person(user_id), event_id)
    rows = events.my_events(person(c))
    assert [(s.event_id, position) for s, position in rows] == [(event_id, 2)]
    assert events.my_events(person(a))[0][1] is None

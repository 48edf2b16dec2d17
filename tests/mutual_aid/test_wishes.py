"""Micro-wishes through the services: vetting, the Party members' first hours, one claimer,
the claim limit, fulfilment, confirmation into service and points, release and expiry."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from neighbors.core.audit import AuditEntry
from neighbors.core.db import utcnow
from neighbors.core.errors import Conflict, Invalid, NotAllowed, NotFound
from neighbors.core.outbox import OutboxMessage
from neighbors.extensions import db
from neighbors.hours import services as hours
from neighbors.hours.models import RecordStatus
from neighbors.jobs import tasks
from neighbors.mutual_aid import services as aid
from neighbors.mutual_aid.models import WishStatus
from tests.conftest import sent_texts
from tests.factories import OTHER_COMMUNITY


def mail_to(email):
    return db.session.scalars(
        select(OutboxMessage.subject).where(OutboxMessage.to_address == email)
    ).all()


def test_a_wish_waits_for_vetting_and_stays_off_the_wall_until_published(hood):
    wish_id = hood.wish(publish=False)
    assert aid.wall() == []
    with pytest.raises(NotFound):
        aid.public_wish(wish_id)
    aid.vet(hood.staff, wish_id, publish=True)
    [shown] = aid.wall()
    assert shown.id == wish_id
    assert [w.id for w in aid.wall(street_code="210102002")] == [wish_id]  # 南湖街道
    assert aid.wall(street_code="210103001") == []
    assert aid.wall(community_code=OTHER_COMMUNITY) == []
    assert "Your micro-wish is on the wall" in mail_to(hood.resident_email)
    with pytest.raises(Conflict) as vetted:
        aid.vet(hood.staff, wish_id, publish=False)
    assert vetted.value.code == "not_submitted"


def test_a_resident_posts_for_themself_and_the_value_cap_is_a_setting(hood, app):
    wish = aid.post_wish(hood.resident, title="书包", description="", category="study",
                         value_cap="120.50")  # fmt: skip
    assert (wish.asker_id, wish.status, str(wish.value_cap)) == (
        hood.resident_id, WishStatus.SUBMITTED, "120.50"
    )  # fmt: skip
    for bad in ("0", "200.01", "abc", "1e3", -5, "NaN"):
        with pytest.raises(Invalid) as error:
            aid.post_wish(hood.resident, title="书包", description="", category="study",
                          value_cap=bad)  # fmt: skip
        assert "value_cap" in error.value.fields
    app.config["WISH_VALUE_CAP"] = 500
    try:
        assert aid.post_wish(hood.resident, title="轮椅坐垫", description="", category="health",
                             value_cap="300").id  # fmt: skip
    finally:
        app.config["WISH_VALUE_CAP"] = 200


def test_only_staff_post_for_someone_else_and_only_in_their_communities(hood, make):
    with pytest.raises(NotAllowed):
        aid.post_wish(hood.volunteer, title="x", description="", category="daily",
                      value_cap="10", for_user_id=hood.resident_id)  # fmt: skip
    other_id, _email = make.user(role="staff", community=OTHER_COMMUNITY)
    from tests.factories import person

    with pytest.raises(NotFound):
        aid.post_wish(person(other_id), title="x", description="", category="daily",
                      value_cap="10", for_user_id=hood.resident_id)  # fmt: skip


def test_party_members_alone_claim_during_the_first_hours(hood):
    wish_id = hood.wish()
    with pytest.raises(Conflict) as error:
        aid.claim(hood.volunteer, wish_id)
    assert error.value.code == "party_members_first"
    assert aid.claim(hood.member, wish_id).claimer_id == hood.member_id
    later = hood.wish(title="老花镜", age_hours=25)
    assert aid.claim(hood.volunteer, later).claimer_id == hood.volunteer_id


def test_a_claimed_wish_cannot_be_claimed_again_nor_by_its_asker(hood):
    wish_id = hood.wish(age_hours=30)
    with pytest.raises(Conflict) as own:
        aid.claim(hood.resident, wish_id)
    assert own.value.code == "own_wish"
    aid.claim(hood.member, wish_id)
    with pytest.raises(Conflict) as again:
        aid.claim(hood.volunteer, wish_id)
    assert again.value.code == "already_claimed"
    assert "Your micro-wish has been claimed" in mail_to(hood.resident_email)


def test_a_claimer_has_a_limit_of_open_claims(hood, app):
    app.config["WISH_MAX_OPEN_CLAIMS"] = 2
    try:
        ids = [hood.wish(title=f"心愿{i}") for i in range(3)]
        aid.claim(hood.member, ids[0])
        aid.claim(hood.member, ids[1])
        with pytest.raises(Conflict) as error:
            aid.claim(hood.member, ids[2])
        assert error.value.code == "too_many_claims"
        aid.fulfil(hood.member, ids[0], note="已送到")  # fulfilled is no longer open
        assert aid.claim(hood.member, ids[2]).status == WishStatus.CLAIMED
    finally:
        app.config["WISH_MAX_OPEN_CLAIMS"] = 3


def test_fulfil_and_confirm_give_the_claimer_a_confirmed_record_and_points(hood):
    wish_id = hood.wish()
    aid.claim(hood.member, wish_id)
    with pytest.raises(NotFound):
        aid.fulfil(hood.volunteer, wish_id, note="不是我")
    with pytest.raises(Invalid):
        aid.fulfil(hood.member, wish_id, note="  ")
    aid.fulfil(hood.member, wish_id, note="水壶已送到张阿姨家")
    assert "A micro-wish waits for confirmation" in mail_to(hood.staff_email)
    wish = aid.confirm(hood.staff, wish_id, minutes=90)
    assert wish.status == WishStatus.CONFIRMED
    [(record, counts, _corrected)] = hours.my_records(hood.member)
    assert (record.status, record.minutes, counts) == (RecordStatus.CONFIRMED, 90, True)
    assert record.activity == "Micro-wish: 一个新水壶"
    balance, [entry] = aid.my_points(hood.member)
    assert balance == entry.points == 15  # 10 points an hour, prorated
    assert "Thank you for making a wish come true" in mail_to(hood.member_email)
    with pytest.raises(Conflict):
        aid.confirm(hood.staff, wish_id, minutes=90)
    actions = set(db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "wishes", AuditEntry.object_id == str(wish_id))))  # fmt: skip
    assert actions == {"wish.post", "wish.publish", "wish.claim", "wish.fulfil", "wish.confirm"}


def test_confirm_needs_a_fulfilled_wish_and_other_staff(hood, make):
    wish_id = hood.wish()
    aid.claim(hood.member, wish_id)
    with pytest.raises(Conflict) as error:
        aid.confirm(hood.staff, wish_id, minutes=60)
    assert error.value.code == "not_fulfilled"
    with pytest.raises(Invalid):
        aid.confirm(hood.staff, wish_id, minutes=0)
    with pytest.raises(NotAllowed):
        aid.confirm(hood.member, wish_id, minutes=60)


def test_release_puts_the_wish_back_and_tells_the_claimer(hood):
    wish_id = hood.wish()
    aid.claim(hood.member, wish_id)
    with pytest.raises(NotAllowed):
        aid.release(hood.volunteer, wish_id)
    wish = aid.release(hood.staff, wish_id, reason="联系不上")
    assert (wish.status, wish.claimer_id) == (WishStatus.PUBLISHED, None)
    assert "A micro-wish was released" in mail_to(hood.member_email)
    aid.claim(hood.member, wish_id)
    assert aid.release(hood.member, wish_id).status == WishStatus.PUBLISHED


def test_claims_expire_back_to_the_wall_once(hood):
    wish_id = hood.wish()
    aid.claim(hood.member, wish_id)
    assert tasks.expire_wish_claims(utcnow() + timedelta(days=13)) == {"released": 0}
    assert tasks.expire_wish_claims(utcnow() + timedelta(days=15)) == {"released": 1}
    assert tasks.expire_wish_claims(utcnow() + timedelta(days=15)) == {"released": 0}
    assert aid.public_wish(wish_id).status == WishStatus.PUBLISHED
    assert "Your claim on a micro-wish has expired" in mail_to(hood.member_email)


def test_the_wall_never_shows_wishes_waiting_or_turned_down(hood):
    hood.wish(title="等待审核", publish=False)
    rejected = hood.wish(title="不合适", publish=False)
    aid.vet(hood.staff, rejected, publish=False, note="超出范围")
    for status in ("submitted", "rejected", "bogus"):
        with pytest.raises(Invalid):
            aid.wall(status=status)
    assert aid.wall() == []
    with pytest.raises(NotFound):
        aid.public_wish(rejected)
    assert aid.visible_wish(hood.resident, rejected).review_note == "超出范围"


def test_staff_queue_and_my_wishes(hood):
    waiting = hood.wish(title="等待审核", publish=False)
    claimed = hood.wish(title="已认领")
    aid.claim(hood.member, claimed)
    aid.fulfil(hood.member, claimed, note="完成")
    queue = aid.staff_queue(hood.staff)
    assert [w.id for w in queue["submitted"]] == [waiting]
    assert [w.id for w in queue["fulfilled"]] == [claimed]
    asked, _claims = aid.my_wishes(hood.resident)
    assert {w.id for w in asked} == {waiting, claimed}
    assert [w.id for w in aid.my_wishes(hood.member)[1]] == [claimed]


def test_a_phone_only_asker_gets_a_text_when_their_wish_is_claimed(hood, make, sms_files):
    old_id, _email = make.user(email=None, phone="13912340000", name="孙奶奶")
    wish = aid.post_wish(hood.staff, title="一副老花镜", description="", category="health",
                         value_cap="60", for_user_id=old_id)  # fmt: skip
    aid.vet(hood.staff, wish.id, publish=True)
    tasks.deliver_sms(utcnow())
    aid.claim(hood.member, wish.id)
    assert tasks.deliver_sms(utcnow())["sent"] == 1
    published, claimed = sent_texts(sms_files)
    assert published["template"] == "mutual_aid/published"
    assert claimed["to"] == "13912340000" and claimed["template"] == "mutual_aid/claimed"
    assert "一副老花镜" in claimed["text"] and len(claimed["text"]) <= 70
    assert claimed["params"] == {"title": "一副老花镜"}  # no link in a provider's template
    assert mail_to(None) == []


def test_every_step_of_a_wish_tells_the_people_concerned_by_their_channel(hood, sms_files):
    wish_id = hood.wish(age_hours=25)  # the resident has e-mail and a phone: e-mail by default
    aid.claim(hood.volunteer, wish_id)
    aid.fulfil(hood.volunteer, wish_id, note="送到家了")
    aid.confirm(hood.staff, wish_id, minutes=90)
    assert "Your micro-wish has been claimed" in mail_to(hood.resident_email)
    assert "A micro-wish waits for confirmation" in mail_to(hood.staff_email)
    assert "Thank you for making a wish come true" in mail_to(hood.volunteer_email)
    [thanks] = [
        m.body for m in db.session.scalars(select(OutboxMessage)) if m.to_address ==
        hood.volunteer_email
    ]  # fmt: skip
    assert "90 minutes" in thanks and "15 points" in thanks


def test_the_wall_and_the_staff_queues_come_in_pages(hood):
    on_wall = [hood.wish(title=f"心愿{i}") for i in range(5)]
    first = aid.wall(limit=2)
    assert [w.id for w in first] == on_wall[:2:-1] and first.next == on_wall[3]
    second = aid.wall(cursor=first.next, limit=2)
    third = aid.wall(cursor=second.next, limit=2)
    assert [w.id for w in second + third] == on_wall[2::-1] and third.next is None
    waiting = [hood.wish(title=f"待审{i}", publish=False) for i in range(3)]
    queue = aid.staff_queue(hood.staff, limit=2)  # oldest first: the longest waiting on top
    assert [w.id for w in queue["submitted"]] == waiting[:2] and queue["fulfilled"] == []
    rest = aid.staff_queue(hood.staff, status="submitted", cursor=queue["submitted"].next, limit=2)
    assert list(rest) == ["submitted"] and [w.id for w in rest["submitted"]] == waiting[2:]
    assert rest["submitted"].next is None


def test_the_wall_page_links_to_the_next_page(app, client, town_hall):
    with app.app_context():
        ids = [town_hall.wish(title=f"第{i}个心愿") for i in range(31)]
    first = client.get("/wishes", headers={"Accept-Language": "en"}).text
    assert "第30个心愿" in first and "第0个心愿" not in first
    assert f"/wishes?after={ids[1]}" in first and "More wishes" in first
    second = client.get(f"/wishes?after={ids[1]}", headers={"Accept-Language": "en"}).text
    assert "第0个心愿" in second and "第30个心愿" not in second and "More wishes" not in second
    api = client.get("/api/v1/wishes").json
    assert len(api["items"]) == 30 and api["next"] == ids[1]
    assert [w["id"] for w in client.get(f"/api/v1/wishes?after={ids[1]}").json["items"]] == [ids[0]]

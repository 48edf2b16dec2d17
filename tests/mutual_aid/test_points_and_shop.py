"""Points from confirmed service (corrections post the difference, the ledger refuses changes)
and the love supermarket's counter (points and stock together, reversal, report)."""

from datetime import timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from neighbors.core.db import transaction, utcnow
from neighbors.core.errors import Conflict, Invalid, NotFound
from neighbors.core.timezone import local_today
from neighbors.extensions import db
from neighbors.hours import services as hours
from neighbors.hours.models import ServiceRecord
from neighbors.jobs import tasks
from neighbors.jobs.models import JobRun
from neighbors.mutual_aid import points as aid_points
from neighbors.mutual_aid import services as aid
from neighbors.mutual_aid.models import PointsEntry, ShopItem
from tests.factories import COMMUNITY
from tests.sheets import table


def served(hood, minutes, who=None):
    who = who or hood.volunteer
    record = hours.submit_service(
        who,
        activity="陪伴老人",
        place="文安路社区",
        organiser="文安路社区",
        served_on=local_today() - timedelta(days=1),
        minutes=minutes,
    )
    hours.review(hood.staff, [record.id], confirm=True)
    return record.id


def test_points_follow_confirmed_service_and_corrections_post_the_difference(hood):
    pending = hours.submit_service(hood.volunteer, activity="x", place="y", organiser="z",
                                   served_on=local_today(), minutes=600)  # fmt: skip
    assert aid.my_points(hood.volunteer)[0] == 0  # pending earns nothing
    hours.review(hood.staff, [pending.id], confirm=False)
    assert aid.my_points(hood.volunteer)[0] == 0  # nor a rejected record
    record_id = served(hood, 90)
    balance, entries = aid.my_points(hood.volunteer)
    assert (balance, [(e.kind, e.points) for e in entries]) == (15, [("earned", 15)])
    assert aid.my_points(hood.volunteer)[0] == 15  # settling twice posts once
    hours.correct_record(hood.staff, record_id, minutes=150, reason="记录有误")
    balance, entries = aid.my_points(hood.volunteer)
    assert balance == 25
    assert [(e.kind, e.points) for e in entries] == [("corrected", 10), ("earned", 15)]


def test_the_scheduler_settles_everyone_once(hood):
    served(hood, 60)
    served(hood, 120, who=hood.member)
    assert tasks.settle_points(None) == {"settled": 2, "incremental": False}
    assert tasks.settle_points(None) == {"settled": 0, "incremental": False}
    assert aid.balance(hood.member_id) == 20


def test_after_a_run_the_scheduler_reads_only_the_people_whose_records_changed(hood, monkeypatch):
    old = served(hood, 60)
    with transaction():  # confirmed long ago, and never settled (as if before points existed)
        db.session.execute(
            update(ServiceRecord).where(ServiceRecord.id == old)
            .values(recorded_at=utcnow() - timedelta(days=2),
                    reviewed_at=utcnow() - timedelta(days=2))
        )  # fmt: skip
        an_hour_ago = utcnow() - timedelta(hours=1)
        db.session.add(JobRun(job="settle_points", scheduled_for=an_hour_ago,
                              started_at=an_hour_ago, worker="t", ok=True))  # fmt: skip
    served(hood, 120, who=hood.member)
    read = []
    real = aid_points.settle_person
    monkeypatch.setattr(aid_points, "settle_person", lambda u: read.append(u) or real(u))
    assert tasks.settle_points(utcnow()) == {"settled": 1, "incremental": True}
    assert read == [hood.member_id]  # the volunteer's old record is not read again
    assert aid.balance(hood.member_id) == 20


def test_the_points_ledger_refuses_update_and_delete(hood):
    served(hood, 60)
    aid.settle_person(hood.volunteer_id)
    entry_id = db.session.scalar(select(PointsEntry.id))
    for statement in ("UPDATE points_entries SET points = 1000 WHERE id = :id",
                      "DELETE FROM points_entries WHERE id = :id"):  # fmt: skip
        with pytest.raises(DBAPIError), db.session.begin_nested():
            db.session.execute(text(statement), {"id": entry_id})
    assert db.session.get(PointsEntry, entry_id).points == 10


def test_redeem_at_the_counter_debits_points_and_stock_together(hood):
    served(hood, 240)  # 40 points
    item_id = hood.item(points=15, stock=3)
    person = aid.find_person(hood.staff, "13812345678")
    assert person.id == hood.resident_id
    assert aid.find_person(hood.staff, f"V{hood.volunteer_id:08d}").id == hood.volunteer_id
    with pytest.raises(NotFound):
        aid.find_person(hood.staff, "13900000000")
    redemption = aid.redeem(hood.staff, item_id=item_id, user_id=hood.volunteer_id, quantity=2)
    assert (redemption.points, aid.balance(hood.volunteer_id)) == (30, 10)
    assert db.session.get(ShopItem, item_id).stock == 1
    with pytest.raises(Conflict) as poor:
        aid.redeem(hood.staff, item_id=item_id, user_id=hood.volunteer_id, quantity=1)
    assert poor.value.code == "insufficient_points"
    assert db.session.get(ShopItem, item_id).stock == 1  # the stock was not taken either
    served(hood, 600, who=hood.member)
    with pytest.raises(Conflict) as empty:
        aid.redeem(hood.staff, item_id=item_id, user_id=hood.member_id, quantity=2)
    assert empty.value.code == "out_of_stock"
    assert aid.my_points(hood.member)[0] == 100  # nothing debited
    with pytest.raises(Invalid):
        aid.redeem(hood.staff, item_id=item_id, user_id=hood.member_id, quantity=0)


def test_a_reversal_gives_points_and_stock_back_once(hood):
    served(hood, 60)
    item_id = hood.item(points=10, stock=1)
    redemption = aid.redeem(hood.staff, item_id=item_id, user_id=hood.volunteer_id)
    aid.reverse(hood.staff, redemption.id, reason="退回")
    assert (aid.balance(hood.volunteer_id), db.session.get(ShopItem, item_id).stock) == (10, 1)
    with pytest.raises(Conflict) as again:
        aid.reverse(hood.staff, redemption.id, reason="退回")
    assert again.value.code == "already_reversed"


def test_a_correction_after_spending_stops_at_zero_and_takes_the_rest_later(hood):
    record_id = served(hood, 120)  # 20 points
    item_id = hood.item(points=15, stock=5)
    aid.redeem(hood.staff, item_id=item_id, user_id=hood.volunteer_id)  # 5 left
    hours.correct_record(hood.staff, record_id, minutes=30, reason="只服务了半小时")  # owes 15
    assert aid.my_points(hood.volunteer)[0] == 0
    served(hood, 120)  # +20, of which 10 still owed
    assert aid.my_points(hood.volunteer)[0] == 10


def test_stock_added_with_a_reason_and_the_monthly_report(hood):
    served(hood, 600)
    item_id = hood.item(points=10, stock=0)
    with pytest.raises(Invalid):
        aid.add_stock(hood.staff, item_id, quantity=5, reason="")
    with pytest.raises(Conflict):
        aid.add_stock(hood.staff, item_id, quantity=-1, reason="损坏")
    assert aid.add_stock(hood.staff, item_id, quantity=5, reason="爱心企业捐赠").stock == 5
    aid.redeem(hood.staff, item_id=item_id, user_id=hood.volunteer_id, quantity=2)
    community, rows = aid.monthly_report(hood.staff, COMMUNITY, aid.this_month())
    assert rows == [("大米 5kg", 2, 20, 1)]
    with pytest.raises(Invalid):
        aid.monthly_report(hood.staff, COMMUNITY, "2026-13")


def test_the_report_downloads_as_a_workbook(hood, client, app):
    from tests.clients import log_in

    served(hood, 600)
    item_id = hood.item(points=10, stock=5)
    aid.redeem(hood.staff, item_id=item_id, user_id=hood.volunteer_id, quantity=3)
    log_in(client, hood.staff_email)
    response = client.get(f"/staff/shop/report.xlsx?community={COMMUNITY}&month={aid.this_month()}")
    assert response.status_code == 200
    sheet = table(response.data)
    assert sheet.body[0][:3] == ("大米 5kg", 3, 30)


def test_the_points_history_comes_in_pages(hood):
    served(hood, 60)
    served(hood, 120)
    balance, newest = aid.my_points(hood.volunteer, limit=1)
    assert balance == 30 and len(newest) == 1 and newest.next == newest[0].id
    _balance, older = aid.my_points(hood.volunteer, cursor=newest.next, limit=1)
    assert older[0].id < newest[0].id and older.next is None
    assert sorted(e.points for e in newest + older) == [10, 20]

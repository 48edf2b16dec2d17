"""Claims and redemptions under real concurrency (threads and processes, real commits), on
SQLite and on PostgreSQL: 50 claims at once give exactly one claimer; 20 redemptions at once
never overdraw the points or the stock. Each test counts the rows themselves."""

import multiprocessing
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from neighbors import create_app
from neighbors.accounts import services as accounts
from neighbors.accounts.models import User
from neighbors.areas import services as areas
from neighbors.core.db import transaction
from neighbors.core.errors import Conflict
from neighbors.core.timezone import local_today
from neighbors.extensions import db
from neighbors.hours import services as hours
from neighbors.mutual_aid import services as aid
from neighbors.mutual_aid.models import (
    PointsAccount,
    PointsEntry,
    Redemption,
    ShopItem,
    Wish,
    WishStatus,
)
from tests.clients import at_once
from tests.factories import COMMUNITY, DEMO_AREAS, PASSWORD

CLAIMERS = 50


@pytest.fixture
def town(app, committing_db):
    """Staff, 50 volunteers, a wish on the wall long enough for anyone, a stocked item and one
    volunteer with 100 points: all committed for real."""
    with app.app_context():
        areas.import_areas(DEMO_AREAS)
        staff = accounts.create_user(email="staff@example.org", password=PASSWORD, name="李静",
                                     role="staff", community_code=COMMUNITY)  # fmt: skip
        users = [
            accounts.create_user(email=f"v{i}@example.org", password=PASSWORD,
                                 name=f"志愿者{i}", role="volunteer",
                                 community_code=COMMUNITY).id
            for i in range(CLAIMERS)
        ]  # fmt: skip
        wish = aid.post_wish(staff, title="新水壶", description="", category="daily",
                             value_cap="80", for_user_id=users[-1])  # fmt: skip
        aid.vet(staff, wish.id, publish=True)
        with transaction():
            db.session.get(Wish, wish.id).published_at -= timedelta(days=2)
        record = hours.submit_service(
            db.session.get(User, users[0]),
            activity="服务",
            place="社区",
            organiser="社区",
            served_on=local_today() - timedelta(days=1),
            minutes=600,
        )
        hours.review(staff, [record.id], confirm=True)
        aid.settle_person(users[0])
        item = aid.add_item(staff, community_code=COMMUNITY, name="大米", points=15, stock=5)
        return app, staff.id, users, wish.id, item.id


def claimer(app, user_id, wish_id):
    def claim():
        with app.app_context():
            return aid.claim(db.session.get(User, user_id), wish_id).claimer_id

    return claim


def test_fifty_claims_at_once_give_exactly_one_claimer(town):
    app, _staff, users, wish_id, _item = town
    results = at_once([claimer(app, u, wish_id) for u in users[: CLAIMERS - 1]])
    winners = [r for r in results if isinstance(r, int)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1
    assert all(isinstance(e, Conflict) and e.code == "already_claimed" for e in losers), losers
    with app.app_context():
        wish = db.session.get(Wish, wish_id)
        assert (wish.status, wish.claimer_id) == (WishStatus.CLAIMED, winners[0])


def redeemer(app, staff_id, user_id, item_id, quantity=1):
    def redeem():
        with app.app_context():
            staff = db.session.get(User, staff_id)
            return aid.redeem(staff, item_id=item_id, user_id=user_id, quantity=quantity).id

    return redeem


def check_books(app, user_id, item_id):
    """Rows agree: balance = sum of entries ≥ 0; stock = start − what the redemptions took."""
    with app.app_context():
        balance = db.session.get(PointsAccount, user_id).balance
        ledger = db.session.scalar(
            select(func.sum(PointsEntry.points)).where(PointsEntry.user_id == user_id)
        )
        taken = db.session.scalar(
            select(func.coalesce(func.sum(Redemption.quantity), 0)).where(
                Redemption.item_id == item_id
            )
        )
        stock = db.session.get(ShopItem, item_id).stock
        assert balance == ledger >= 0
        assert stock >= 0
        return balance, stock, taken


def test_twenty_redemptions_at_once_never_overdraw_points(town):
    app, staff_id, users, _wish, item_id = town
    with app.app_context():  # stock enough: the 100 points are what runs out
        aid.add_stock(db.session.get(User, staff_id), item_id, quantity=50, reason="到货")
    results = at_once([redeemer(app, staff_id, users[0], item_id) for _ in range(20)])
    done = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(done) == 6  # 100 points buy six at 15
    assert all(isinstance(e, Conflict) and e.code == "insufficient_points" for e in refused)
    assert check_books(app, users[0], item_id) == (10, 55 - 6, 6)


def test_twenty_redemptions_at_once_never_overdraw_stock(town):
    app, staff_id, users, _wish, item_id = town
    with app.app_context():  # twenty people with points enough; five on the shelf
        staff = db.session.get(User, staff_id)
        for user_id in users[1:21]:
            record = hours.submit_service(db.session.get(User, user_id), activity="服务",
                                          place="社区", organiser="社区",
                                          served_on=local_today() - timedelta(days=1),
                                          minutes=120)  # fmt: skip
            hours.review(staff, [record.id], confirm=True)
    results = at_once([redeemer(app, staff_id, u, item_id) for u in users[1:21]])
    done = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(done) == 5
    assert all(isinstance(e, Conflict) and e.code == "out_of_stock" for e in refused), refused
    with app.app_context():
        assert db.session.get(ShopItem, item_id).stock == 0
        for user_id in users[1:21]:
            aid.settle_person(user_id)
        balances = db.session.scalars(
            select(PointsAccount.balance).where(PointsAccount.user_id.in_(users[1:21]))
        ).all()
    assert sorted(balances) == [5] * 5 + [20] * 15  # only those served paid


def _redeem_in_process(url, staff_id, user_id, item_id, times, barrier):
    """Runs in another process: its own app, engine and connections."""
    app = create_app({"ENV": "testing", "DATABASE_URL": url})
    barrier.wait()
    outcomes = []
    with app.app_context():
        staff = db.session.get(User, staff_id)
        for _ in range(times):
            try:
                aid.redeem(staff, item_id=item_id, user_id=user_id)
                outcomes.append("ok")
            except Conflict as error:
                outcomes.append(error.code)
            db.session.rollback()
        db.engine.dispose()
    return outcomes


def test_twenty_redemptions_from_four_processes(town, database_url):
    app, staff_id, users, _wish, item_id = town
    processes = 4
    spawn = multiprocessing.get_context("spawn")
    with spawn.Manager() as manager, spawn.Pool(processes) as pool:
        barrier = manager.Barrier(processes)
        results = pool.starmap(
            _redeem_in_process,
            [(database_url, staff_id, users[0], item_id, 5, barrier) for _ in range(processes)],
        )
    outcomes = [o for chunk in results for o in chunk]
    assert outcomes.count("ok") == 5  # the stock (5) runs out before the points (6 × 15)
    assert set(outcomes) == {"ok", "out_of_stock"}
    assert check_books(app, users[0], item_id) == (100 - 75, 0, 5)

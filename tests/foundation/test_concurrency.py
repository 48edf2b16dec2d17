"""The ledger under real concurrency (threads, real commits) on SQLite and PostgreSQL."""

from decimal import Decimal

from sqlalchemy import select

from neighbors.core.timezone import local_today
from neighbors.extensions import db
from neighbors.foundation import ledger
from neighbors.foundation import services as foundation
from neighbors.foundation.models import Donation, Fund, Subsidy, SubsidyStatus
from tests.clients import at_once
from tests.factories import Team, person


def test_payments_racing_for_one_restricted_fund_never_overdraw_it(app, live_make):
    team = Team(live_make)
    team.fund("EDU", opening="100.00")
    ids = [team.subsidy("EDU", "30.00").id for _ in range(10)]
    with app.app_context():
        for subsidy_id in ids:
            foundation.approve_subsidy(team.approver, subsidy_id)

    def payer(subsidy_id):
        def pay():
            with app.app_context():
                return str(foundation.pay_subsidy(person(team.ids["cashier"]), subsidy_id).status)

        return pay

    results = at_once([payer(i) for i in ids])
    paid = [r for r in results if r == "paid"]
    refused = [r for r in results if getattr(r, "code", None) == "insufficient_funds"]
    assert len(paid) == 3 and len(refused) == 7, results
    with app.app_context():
        assert db.session.scalar(select(Fund.balance).where(Fund.code == "EDU")) == Decimal("10.00")
        assert (
            len(
                db.session.scalars(
                    select(Subsidy).where(Subsidy.status == SubsidyStatus.PAID)
                ).all()
            )
            == 3
        )
        assert ledger.verify().ok


def test_donations_at_once_take_every_number_once(app, live_make):
    team = Team(live_make)
    team.fund("EDU")

    def giver(n):
        def give():
            with app.app_context():
                return foundation.record_donation(
                    person(team.ids["preparer"]),
                    fund_code="EDU",
                    amount=f"{n}.00",
                    received_on=local_today(),
                    donor_name=f"捐赠人{n}",
                )[0].ack_number

        return give

    results = at_once([giver(n) for n in range(1, 21)])
    assert not [r for r in results if isinstance(r, Exception)], results
    year = local_today().year
    assert sorted(results) == [f"{year}-{n:06d}" for n in range(1, 21)]  # no gap, no repeat
    with app.app_context():
        assert db.session.scalar(select(Fund.balance).where(Fund.code == "EDU")) == Decimal(
            sum(range(1, 21))
        )
        result = ledger.verify()
        assert result.ok and result.entries == 20  # the hash chain stayed one chain


def test_one_idempotency_key_sent_many_times_at_once_posts_once(app, live_make):
    team = Team(live_make)
    team.fund("EDU")
    key = ("same-key", foundation.request_hash({"amount": "5.00"}))

    def give():
        with app.app_context():
            return foundation.record_donation(
                person(team.ids["preparer"]),
                fund_code="EDU",
                amount="5.00",
                received_on=local_today(),
                donor_name="x",
                idempotency=key,
            )[0].id

    results = at_once([give for _ in range(8)])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(set(results)) == 1
    with app.app_context():
        assert len(db.session.scalars(select(Donation)).all()) == 1

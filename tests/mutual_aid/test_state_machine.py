"""A Hypothesis state machine over earning (confirmed service), corrections, redemptions and
reversals: after every step each balance equals the model's, the ledger sums to it, and no
balance is ever below zero.

The model: a person is entitled to what their records that count earn; redemptions (not
reversed) spend; the balance is entitled − spent, stopping at zero (what a correction takes back
after the points were spent waits for later earnings)."""

from datetime import timedelta
from itertools import count

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from neighbors.core.errors import Conflict
from neighbors.core.timezone import local_today
from neighbors.extensions import db
from neighbors.hours import services as hours
from neighbors.mutual_aid import services as aid
from neighbors.mutual_aid.models import PointsAccount, PointsEntry, ShopItem

runs = count()
minutes = st.integers(min_value=1, max_value=600)


def test_points_keep_their_invariants(hood):
    staff = hood.staff
    people = [hood.volunteer_id, hood.member_id]
    # The database keeps what every run did, so the model does too.
    entitled = {p: 0 for p in people}
    spent = {p: 0 for p in people}

    class Points(RuleBasedStateMachine):
        records = Bundle("records")
        redemptions = Bundle("redemptions")

        def __init__(self):
            super().__init__()
            run = next(runs)
            self.item_id = hood.item(name=f"毛巾{run}", points=7, stock=100_000)
            self.entitled, self.spent = entitled, spent

        def expected(self, p):
            return max(0, self.entitled[p] - self.spent[p])

        @rule(target=records, who=st.sampled_from(people), served=minutes)
        def earn(self, who, served):
            record = hours.submit_service(
                db.session.get(type(hood.volunteer), who), activity="服务", place="社区",
                organiser="社区", served_on=local_today() - timedelta(days=1), minutes=served,
            )  # fmt: skip
            hours.review(staff, [record.id], confirm=True)
            aid.settle_person(who)
            self.entitled[who] += aid.points_for(served)
            return (who, record.id, served)

        @rule(target=records, record=records, served=minutes)
        def correct(self, record, served):
            who, record_id, before = record
            try:
                correction = hours.correct_record(staff, record_id, minutes=served, reason="更正")
            except Conflict:  # corrected already: only the newest record may be corrected
                return record
            aid.settle_person(who)
            self.entitled[who] += aid.points_for(served) - aid.points_for(before)
            return (who, correction.id, served)

        @rule(target=redemptions, who=st.sampled_from(people), quantity=st.integers(1, 5))
        def redeem(self, who, quantity):
            cost = 7 * quantity
            try:
                redemption = aid.redeem(staff, item_id=self.item_id, user_id=who,
                                        quantity=quantity)  # fmt: skip
            except Conflict as error:
                assert error.code == "insufficient_points"
                assert self.expected(who) < cost
                return None
            assert self.expected(who) >= cost
            self.spent[who] += cost
            return (who, redemption.id, cost)

        @rule(redemption=redemptions)
        def reverse(self, redemption):
            if redemption is None:
                return
            who, redemption_id, cost = redemption
            try:
                aid.reverse(staff, redemption_id, reason="退回")
            except Conflict as error:
                assert error.code == "already_reversed"
                return
            self.spent[who] -= cost

        @invariant()
        def balances_match_the_model_and_the_ledger(self):
            for p in people:
                aid.settle_person(p)
                balance = aid.balance(p)
                assert balance >= 0
                assert balance == self.expected(p)
                ledger = db.session.scalar(
                    select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
                        PointsEntry.user_id == p
                    )
                )
                assert ledger == balance
                lowest = select(func.coalesce(func.min(PointsAccount.balance), 0))
                assert db.session.scalar(lowest) >= 0
            assert db.session.get(ShopItem, self.item_id).stock >= 0

    run_state_machine_as_test(
        Points,
        settings=settings(
            max_examples=15,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )

"""A Hypothesis state machine over donations, subsidies, approvals, payments and reversals:
after every step the funds hold what the model says and never less than zero; after every run
the CSV export and the fund statement reconcile; after all runs the whole chain verifies and
the Beancount export (loaded and validated as bean-check does) agrees with every run."""

import contextlib
import csv
import io
from datetime import date
from decimal import Decimal
from itertools import count

import pytest
from beancount import loader
from beancount.core import realization
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from neighbors.core.errors import Conflict
from neighbors.core.timezone import local_today
from neighbors.extensions import db
from neighbors.foundation import exports, ledger
from neighbors.foundation import services as foundation
from neighbors.foundation.models import Fund, JournalEntry
from tests.factories import Team

runs = count()
amounts = st.integers(min_value=1, max_value=50_000).map(lambda cents: Decimal(cents) / 100)


@pytest.fixture
def foundation_team(ctx, make):
    return Team(make)


def test_the_ledger_keeps_its_invariants(foundation_team):
    team = foundation_team
    models = []  # each run's final balances

    class Ledger(RuleBasedStateMachine):
        subsidies = Bundle("subsidies")
        entries = Bundle("entries")

        def __init__(self):
            super().__init__()
            run = next(runs)
            self.funds = {}
            for kind in ("restricted", "unrestricted", "custodial"):
                code = f"{kind[:3].upper()}-{run}"
                held_for = "受助人" if kind == "custodial" else None
                foundation.create_fund(
                    team.approver, code=code, name=code, kind=kind, beneficiary_name=held_for
                )
                self.funds[code] = Decimal("0.00")

        @rule(target=entries, fund=st.sampled_from([0, 1, 2]), amount=amounts)
        def donate(self, fund, amount):
            code = list(self.funds)[fund]
            donation, _ = foundation.record_donation(
                team.preparer,
                fund_code=code,
                amount=amount,
                received_on=local_today(),
                donor_name="捐赠人",
            )
            self.funds[code] += amount
            return donation.entry_id

        @rule(target=subsidies, fund=st.sampled_from([0, 1, 2]), amount=amounts)
        def prepare(self, fund, amount):
            code = list(self.funds)[fund]
            subsidy, _ = foundation.prepare_subsidy(
                team.preparer,
                fund_code=code,
                amount=amount,
                beneficiary_name="受助人",
                reason="补助",
            )
            return subsidy.id

        @rule(subsidy=subsidies)
        def approve(self, subsidy):
            # Not prepared any more, or not enough money: refused, and nothing changes.
            with contextlib.suppress(Conflict):
                foundation.approve_subsidy(team.approver, subsidy)

        @rule(target=entries, subsidy=subsidies)
        def pay(self, subsidy):
            try:
                paid = foundation.pay_subsidy(team.cashier, subsidy)
            except Conflict:
                return None
            self.funds[paid.fund.code] -= paid.amount
            return paid.entry_id

        @rule(entry=entries)
        def reverse(self, entry):
            if entry is None:
                return
            original = db.session.get(JournalEntry, entry)
            try:
                ledger.reverse(team.approver, entry, "更正")
            except Conflict:
                return
            for line in original.lines:
                if line.account == ledger.BANK:
                    self.funds[line.fund.code] -= line.debit - line.credit

        @invariant()
        def balances_are_what_the_model_says_and_never_negative(self):
            held = dict(
                db.session.execute(
                    select(Fund.code, Fund.balance).where(Fund.code.in_(self.funds))
                ).all()
            )
            assert held == self.funds
            assert all(amount >= 0 for amount in held.values())

        def teardown(self):
            for code, amount in self.funds.items():  # this run's funds, as the CSV has them
                rows = csv.DictReader(
                    io.StringIO(
                        b"".join(exports.csv_stream(exports.ledger_lines(fund_code=code))).decode(
                            "utf-8-sig"
                        )
                    )
                )
                bank = sum(
                    (
                        Decimal(row["debit"]) - Decimal(row["credit"])
                        for row in rows
                        if row["account"] == ledger.BANK
                    ),
                    Decimal("0.00"),
                )
                assert bank == amount
            today = local_today()
            statement = exports.statement(date(today.year, 1, 1), today)
            for line in statement.funds:
                assert line.opening + line.received - line.paid == line.closing
            models.append(dict(self.funds))

    run_state_machine_as_test(
        Ledger,
        settings=settings(
            max_examples=150,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )

    # Once all runs are done: the whole chain verifies, and Beancount agrees with every run.
    assert ledger.verify().ok
    funds = db.session.scalars(select(Fund).order_by(Fund.code)).all()
    text = "".join(exports.beancount_stream(funds, exports.ledger_lines()))
    entries, errors, _options = loader.load_string(text)
    assert errors == []
    real = realization.realize(entries)
    for model in models:
        for code, amount in model.items():
            node = realization.get(real, f"Assets:Bank:{code}")
            units = node.balance.get_currency_units("CNY").number if node is not None else 0
            assert units == amount

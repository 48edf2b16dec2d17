"""Foundation fixtures: one person per role, and funds, made through the services."""

from decimal import Decimal

import pytest

from neighbors.core.timezone import local_today
from neighbors.foundation import services as foundation
from tests.events.conftest import person


class Team:
    """A preparer, two approvers, a cashier and an accountant."""

    def __init__(self, make):
        self.make = make
        made = {
            role: make.user(role=role.rstrip("2"))
            for role in ("preparer", "approver", "approver2", "cashier", "accountant")
        }
        self.ids = {role: user_id for role, (user_id, _email) in made.items()}
        self.emails = {role: email for role, (_user_id, email) in made.items()}

    def __getattr__(self, role):
        if role in ("preparer", "approver", "approver2", "cashier", "accountant"):
            return person(self.ids[role])
        raise AttributeError(role)

    def fund(self, code="EDU", kind="restricted", opening="0", **fields):
        if kind == "custodial":
            fields.setdefault("beneficiary_name", "张三")  # whom subsidy() helps by default
        with self.make.context():
            return foundation.create_fund(
                self.approver,
                code=code,
                name=f"{code} 基金",
                kind=kind,
                opening_balance=opening,
                **fields,
            ).id

    def donate(self, code, amount, **fields):
        values = dict(fund_code=code, amount=amount, received_on=local_today(), donor_name="王先生")
        values.update(fields)
        with self.make.context():
            return foundation.record_donation(self.preparer, **values)[0]

    def subsidy(self, code, amount, **fields):
        values = dict(fund_code=code, amount=amount, beneficiary_name="张三", reason="困难补助")
        values.update(fields)
        with self.make.context():
            return foundation.prepare_subsidy(self.preparer, **values)[0]


@pytest.fixture
def team(make):
    return Team(make)


def yuan(text):
    return Decimal(text)

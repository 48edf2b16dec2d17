"""Mutual aid fixtures: a community's staff, a confirmed Party member, a volunteer and an old
resident, made through the services; helpers to put a wish on the wall and stock a shop."""

from datetime import timedelta

import pytest

from neighbors.accounts import services as accounts
from neighbors.core.db import transaction
from neighbors.core.timezone import local_today
from neighbors.extensions import db
from neighbors.mutual_aid import services as aid
from neighbors.mutual_aid.models import Wish
from neighbors.party import members as party_members
from tests.factories import COMMUNITY, person


class Neighbourhood:
    def __init__(self, make):
        self.make = make
        self.staff_id, self.staff_email = make.user(role="staff", name="李静")
        self.member_id, self.member_email = make.user(name="王建国")
        self.volunteer_id, self.volunteer_email = make.user(name="赵小红")
        self.resident_id, self.resident_email = make.user(name="张桂芳", phone="13812345678")
        with make.context():
            party_members.declare_party_membership(
                person(self.member_id), branch="第一支部", work_unit="市图书馆",
                community_code=COMMUNITY, grid_code=None, reported_on=local_today(),
            )  # fmt: skip
            party_members.review_party_report(person(self.staff_id), self.member_id, confirm=True)
            for user_id in (self.staff_id, self.member_id, self.volunteer_id, self.resident_id):
                accounts.set_locale(person(user_id), "en")  # their e-mails in English

    @property
    def staff(self):
        return person(self.staff_id)

    @property
    def member(self):
        return person(self.member_id)

    @property
    def volunteer(self):
        return person(self.volunteer_id)

    @property
    def resident(self):
        return person(self.resident_id)

    def wish(self, title="一个新水壶", publish=True, age_hours=0):
        """A wish of the resident posted by staff, on the wall `age_hours` ago."""
        with self.make.context():
            wish = aid.post_wish(
                self.staff, title=title, description="旧的坏了", category="daily",
                value_cap="80", for_user_id=self.resident_id,
            )  # fmt: skip
            if publish:
                aid.vet(self.staff, wish.id, publish=True)
            if age_hours:
                with transaction():
                    row = db.session.get(Wish, wish.id)
                    row.published_at -= timedelta(hours=age_hours)
            return wish.id

    def item(self, name="大米 5kg", points=30, stock=10):
        with self.make.context():
            return aid.add_item(
                self.staff, community_code=COMMUNITY, name=name, points=points, stock=stock
            ).id


@pytest.fixture
def hood(ctx, make):
    return Neighbourhood(make)


@pytest.fixture
def town_hall(app, make):
    """The same people for tests that go through the client (no request context of their own)."""
    return Neighbourhood(make)

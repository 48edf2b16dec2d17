"""What tests are made of, made through the services as a user would: people, events, events
that happened, the foundation's team. The fixtures that hand them out are in conftest.py."""

import contextlib
import io
import os
from datetime import timedelta
from decimal import Decimal

from flask import has_app_context
from PIL import Image

from neighbors.accounts import services as accounts
from neighbors.accounts.models import User
from neighbors.core.db import transaction, utcnow
from neighbors.core.timezone import local_today
from neighbors.events import services as events
from neighbors.events.models import Event
from neighbors.extensions import db
from neighbors.foundation import services as foundation
from neighbors.stations import services as stations

TEST_DATABASE_URL = os.environ.get("NEIGHBORS_TEST_DATABASE_URL")
DEMO_AREAS = os.path.join(os.path.dirname(__file__), "..", "neighbors", "demo", "areas.csv")
PASSWORD = "correct horse battery"
COMMUNITY = "210102002001"  # 文安路社区
OTHER_COMMUNITY = "210103001001"  # 青年大街社区
NEIGHBOUR_COMMUNITY = "210102002002"  # 三好街社区, on 文安路社区's street
DEMO_STATIONS = os.path.join(os.path.dirname(__file__), "..", "neighbors", "demo", "stations.csv")


class Factory:
    """Makes users through the services: in the test's app context when it has one (so all its
    work shares one session), else in a context of its own."""

    def __init__(self, app):
        self.app = app
        self.count = 0

    def context(self):
        return contextlib.nullcontext() if has_app_context() else self.app.app_context()

    def user(self, role="volunteer", community=COMMUNITY, **fields):
        self.count += 1
        values = {
            "email": f"user{self.count}@example.org",
            "password": PASSWORD,
            "name": f"测试用户{self.count}",
            "role": role,
            "community_code": community if role in ("volunteer", "staff") else None,
        }
        values.update(fields)
        with self.context():
            user = accounts.create_user(**values)
            return user.id, values["email"]


def person(user_id):
    return db.session.get(User, user_id)


class EventFactory:
    def __init__(self, app, make):
        self.app, self.make = app, make
        self.staff_id, self.staff_email = make.user(role="staff", community=COMMUNITY)
        self.admin_id, _email = make.user(role="admin")

    def staff(self):
        return db.session.get(User, self.staff_id)

    def event(self, publish=True, community=COMMUNITY, **fields):
        start = utcnow() + timedelta(days=3)
        values = dict(
            title="社区奉献日：清扫楼道",
            category="warmth",
            venue="文安路社区党群服务站",
            description="",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            capacity=3,
        )
        values.update(fields)
        with self.make.context():
            # The admin may create events in any community; the staff member only in theirs.
            author = self.staff() if community == COMMUNITY else person(self.admin_id)
            event = events.create_event(author, community_code=community, **values)
            if publish:
                events.publish_event(author, event.id)
            return event.id

    def volunteers(self, n):
        return [self.make.user()[0] for _ in range(n)]


def make_station(actor, code="ST-T1", communities=(COMMUNITY, NEIGHBOUR_COMMUNITY), rooms=None):
    """A station serving these communities, made by `actor` (an admin); returns {room name:
    room id}: 多功能厅 for 40 people and 会议室 for 12 unless `rooms` says otherwise."""
    if rooms is None:
        rooms = [{"name": "多功能厅", "capacity": 40}, {"name": "会议室", "capacity": 12}]
    station = stations.create_station(
        actor,
        code=code,
        name=f"{code} 党群服务站",
        address="沈阳市和平区文安路 1 号",
        opening_hours="周一至周日 8:30–20:00",
        communities=list(communities),
        rooms=rooms,
    )
    return {room.name: room.id for room in station.rooms}


class HoursFactory(EventFactory):
    def held_event(self, people, minutes=120, **fields):
        """A published event that started and ended an hour ago, with these people signed up."""
        start = utcnow() + timedelta(days=1)
        event_id = self.event(
            starts_at=start,
            ends_at=start + timedelta(minutes=minutes),
            capacity=max(len(people), 1),
            **fields,
        )
        with self.make.context():
            for user_id in people:
                events.sign_up(person(user_id), event_id)
            with transaction():  # time passes: the event is now over
                event = db.session.get(Event, event_id)
                shift = event.ends_at - utcnow() + timedelta(hours=1)
                event.starts_at -= shift
                event.ends_at -= shift
        return event_id


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


def yuan(text):
    return Decimal(text)


def photo_bytes(kind="JPEG", size=(64, 48), gps=True):
    """A small picture as an upload sends it; a JPEG carries EXIF with a camera and a GPS
    position (what must never reach the wall)."""
    image = Image.new("RGB", size, (200, 80, 40))
    out = io.BytesIO()
    if kind == "JPEG" and gps:
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"  # Make
        exif[0x8825] = {1: "N", 2: (41.0, 48.0, 0.0), 3: "E", 4: (123.0, 25.0, 0.0)}  # GPS
        image.save(out, kind, exif=exif)
    else:
        image.save(out, kind)
    return out.getvalue()

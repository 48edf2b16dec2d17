"""Event fixtures: a staff member, volunteers and events made through the services."""

from datetime import timedelta

import pytest

from neighbors.accounts.models import User
from neighbors.core.db import utcnow
from neighbors.events import services as events
from neighbors.extensions import db
from tests.conftest import COMMUNITY


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


@pytest.fixture
def factory(app, make):
    return EventFactory(app, make)


def person(user_id):
    return db.session.get(User, user_id)

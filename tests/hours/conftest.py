"""Hours fixtures: an event that happened, with people who came, made through the services."""

from datetime import timedelta

import pytest

from neighbors.core.db import transaction, utcnow
from neighbors.events import services as events
from neighbors.events.models import Event
from neighbors.extensions import db
from tests.events.conftest import EventFactory, person


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


@pytest.fixture
def hours_factory(app, make):
    return HoursFactory(app, make)

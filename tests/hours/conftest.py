"""Fixtures of the certificate and export tests: a community and an organisation that both
recorded a volunteer's service."""

from datetime import timedelta

import pytest

from neighbors.areas import services as areas
from neighbors.core.db import transaction
from neighbors.core.timezone import local_today
from neighbors.extensions import db
from neighbors.hours.models import RecordStatus, ServiceRecord
from neighbors.organisations import services as organisations
from tests.clients import EN
from tests.factories import COMMUNITY

ID_NUMBER = "11010519491231002X"  # GB 11643's own example: its check character is X


def served(user_id, community_id, organisation_id=None, minutes=90, days_ago=3, activity="助老"):
    """A confirmed record, as attendance and review leave it."""
    with transaction():
        record = ServiceRecord(
            user_id=user_id,
            community_id=community_id,
            organisation_id=organisation_id,
            activity=activity,
            place="文安路社区",
            organiser="文安路社区",
            served_on=local_today() - timedelta(days=days_ago),
            minutes=minutes,
            status=RecordStatus.CONFIRMED,
        )
        db.session.add(record)
    return record


@pytest.fixture
def world(app, hours_factory, make):
    with app.test_request_context(headers=EN):
        return _world(hours_factory, make)


def in_request(app):
    """Services called beside the test client: a request context of their own (the client's
    requests must not share its `g`, which holds the CSRF token)."""
    return app.test_request_context(headers=EN)


def _world(hours_factory, make):
    community = areas.community_by_code(COMMUNITY)
    team = organisations.register(
        hours_factory.staff(),
        name="文安路志愿服务队",
        kind="volunteer_team",
        community_code=COMMUNITY,
    )
    coordinator, _email = make.user()
    organisations.add_member(hours_factory.staff(), team.id, coordinator, "leader")
    (volunteer,) = hours_factory.volunteers(1)
    served(volunteer, community.id, minutes=90, activity="社区清扫")
    served(volunteer, community.id, team.id, minutes=60, activity="助老探访")
    return {
        "community": community,
        "team": team,
        "coordinator": coordinator,
        "volunteer": volunteer,
        "staff": hours_factory.staff_id,
    }

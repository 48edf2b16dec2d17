"""Registration under real concurrency: threads, real commits, the database deciding."""

import threading

import pytest
from sqlalchemy import func, select

from neighbors.accounts.models import User
from neighbors.areas import services as areas
from neighbors.extensions import db
from tests.clients import csrf_token
from tests.factories import COMMUNITY, DEMO_AREAS, PASSWORD

THREADS = 12


@pytest.fixture
def live(app, committing_db):
    with app.app_context():
        areas.import_areas(DEMO_AREAS)
    return app


def storm(app, emails):
    """Every client fetches its form first, then all submit at the same moment."""
    clients = [app.test_client() for _ in emails]
    tokens = [csrf_token(client) for client in clients]
    barrier = threading.Barrier(len(clients))
    statuses = [None] * len(clients)

    def submit(i):
        data = {
            "name": f"志愿者{i}",
            "email": emails[i],
            "phone": "",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "community": COMMUNITY,
            "consent": "y",
            "csrf_token": tokens[i],
        }
        barrier.wait()
        statuses[i] = clients[i].post("/register", data=data).status_code

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


def users(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_one_person_registering_many_times_at_once_gets_one_account(live):
    statuses = storm(live, ["same@example.org"] * THREADS)
    assert statuses.count(302) == 1  # registered and logged in
    assert statuses.count(200) == THREADS - 1  # the form again, saying it is registered
    assert users(live) == 1


def test_many_people_registering_at_once_all_get_accounts(live):
    statuses = storm(live, [f"v{i}@example.org" for i in range(THREADS)])
    assert statuses == [302] * THREADS  # nobody sees "database is locked" or a 500
    assert users(live) == THREADS

"""Sign-ups under real concurrency (threads and processes, real commits) on SQLite and PostgreSQL.

Each test ends with `check_event`, which counts the sign-up rows themselves (not the counters
the code under test maintains). The control test shows that the check catches an overbooking
when sign-ups count and then insert, as the systems that overbook do.
"""

import multiprocessing
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from neighbors import create_app
from neighbors.accounts import services as accounts
from neighbors.accounts.models import User
from neighbors.areas import services as areas
from neighbors.core.db import transaction, utcnow
from neighbors.core.outbox import OutboxMessage
from neighbors.events import services as events
from neighbors.events.models import Event, EventStatus, Signup, SignupStatus
from neighbors.extensions import db
from tests.clients import at_once
from tests.factories import COMMUNITY, DEMO_AREAS, PASSWORD

CAPACITY = 5


@pytest.fixture
def city(app, committing_db):
    """A published event and a pool of volunteers, all committed for real."""
    with app.app_context():
        areas.import_areas(DEMO_AREAS)
        staff = accounts.create_user(
            email="staff@example.org",
            password=PASSWORD,
            name="李静",
            role="staff",
            community_code=COMMUNITY,
        )
        start = utcnow() + timedelta(days=2)
        event = events.create_event(
            staff,
            community_code=COMMUNITY,
            title="社区奉献日",
            category="warmth",
            venue="服务站",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            capacity=CAPACITY,
        )
        event_id = event.id
        events.publish_event(staff, event_id)
        users = [
            accounts.create_user(
                email=f"v{i}@example.org",
                password=PASSWORD,
                name=f"志愿者{i}",
                role="volunteer",
                community_code=COMMUNITY,
            ).id
            for i in range(40)
        ]
    return app, event_id, users


def check_event(app, event_id):
    """The rows agree with the rules: never more confirmed than capacity, one active sign-up
    per person, waitlist tickets unique, and the counters equal to the rows."""
    with app.app_context():
        event = db.session.get(Event, event_id)
        rows = db.session.execute(
            select(Signup.user_id, Signup.status, Signup.waitlist_seq).where(
                Signup.event_id == event_id, Signup.status != SignupStatus.CANCELLED
            )
        ).all()
        confirmed = [r for r in rows if r.status == SignupStatus.CONFIRMED]
        waiting = sorted(r.waitlist_seq for r in rows if r.status == SignupStatus.WAITLISTED)
        assert len(confirmed) <= event.capacity, f"overbooked: {len(confirmed)} > {event.capacity}"
        assert len({r.user_id for r in rows}) == len(rows), "a person holds two sign-ups"
        assert len(set(waiting)) == len(waiting), "two people share a waitlist place"
        assert (event.confirmed_count, event.waitlist_count) == (len(confirmed), len(waiting))
        if waiting:
            assert len(confirmed) == event.capacity, "people wait while a seat is free"
        return len(confirmed), len(waiting)


def signer(app, user_id, event_id):
    def sign():
        with app.app_context():
            signup = events.sign_up(db.session.get(User, user_id), event_id).signup
            return signup.id, str(signup.status), signup.waitlist_seq

    return sign


def test_a_storm_of_volunteers_fills_exactly_capacity_and_queues_the_rest(city):
    app, event_id, users = city
    results = at_once([signer(app, u, event_id) for u in users[:30]])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert [r[1] for r in results].count("confirmed") == CAPACITY
    assert check_event(app, event_id) == (CAPACITY, 30 - CAPACITY)
    with app.app_context():
        positions = sorted(
            events.waitlist_position(s)
            for s in db.session.scalars(
                select(Signup).where(Signup.status == SignupStatus.WAITLISTED)
            )
        )
    assert positions == list(range(1, 30 - CAPACITY + 1))


def test_one_person_clicking_many_times_at_once_gets_one_sign_up(city):
    app, event_id, users = city
    results = at_once([signer(app, users[0], event_id) for _ in range(12)])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r[0] for r in results}) == 1
    assert check_event(app, event_id) == (1, 0)


def test_interleaved_cancellations_and_sign_ups_promote_in_order(city):
    app, event_id, users = city
    first, queued, late = users[:CAPACITY], users[CAPACITY : 2 * CAPACITY], users[20:30]
    for user_id in first + queued:
        signer(app, user_id, event_id)()
    stop, seen = threading.Event(), []

    def watch():  # a reader that keeps counting confirmed rows while the storm runs
        with app.app_context():
            while not stop.is_set():
                seen.append(
                    db.session.scalar(
                        select(func.count()).where(
                            Signup.event_id == event_id, Signup.status == SignupStatus.CONFIRMED
                        )
                    )
                )
                db.session.rollback()

    def canceller(user_id):
        def cancel():
            with app.app_context():
                return events.cancel_signup(db.session.get(User, user_id), event_id).id

        return cancel

    watcher = threading.Thread(target=watch)
    watcher.start()
    results = at_once([canceller(u) for u in first] + [signer(app, u, event_id) for u in late])
    stop.set()
    watcher.join()
    assert not [r for r in results if isinstance(r, Exception)], results
    assert seen and max(seen) <= CAPACITY
    assert check_event(app, event_id) == (CAPACITY, len(late))
    with app.app_context():
        confirmed = set(
            db.session.scalars(
                select(Signup.user_id).where(
                    Signup.event_id == event_id, Signup.status == SignupStatus.CONFIRMED
                )
            )
        )
        promotions = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    assert confirmed == set(queued)  # those who queued first got the freed seats
    assert promotions == CAPACITY  # and each was told exactly once
    with app.app_context():
        tickets = db.session.execute(
            select(Signup.status, Signup.waitlist_seq).where(
                Signup.event_id == event_id,
                Signup.waitlist_seq.is_not(None),
                Signup.status != SignupStatus.CANCELLED,
            )
        ).all()
    promoted = [t for s, t in tickets if s == SignupStatus.CONFIRMED]
    waiting = [t for s, t in tickets if s == SignupStatus.WAITLISTED]
    assert max(promoted) < min(waiting)  # nobody was promoted past someone ahead in the queue


def test_capacity_raised_while_people_sign_up(city):
    app, event_id, users = city
    for user_id in users[:10]:
        signer(app, user_id, event_id)()  # 5 confirmed, 5 waiting

    def raise_capacity():
        with app.app_context():
            staff = db.session.scalar(select(User).where(User.email == "staff@example.org"))
            return events.update_event(staff, event_id, capacity=CAPACITY + 3).capacity

    results = at_once([raise_capacity] + [signer(app, u, event_id) for u in users[10:20]])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert check_event(app, event_id) == (CAPACITY + 3, 20 - CAPACITY - 3)
    with app.app_context():
        confirmed = set(
            db.session.scalars(
                select(Signup.user_id).where(
                    Signup.event_id == event_id, Signup.status == SignupStatus.CONFIRMED
                )
            )
        )
    assert set(users[: CAPACITY + 3]) == confirmed  # the raise went to the head of the queue


def _sign_up_in_process(url, event_id, user_ids, barrier):
    """Runs in another process: its own app, engine and connections."""
    app = create_app({"ENV": "testing", "DATABASE_URL": url})
    barrier.wait()
    statuses = []
    with app.app_context():
        for user_id in user_ids:
            signup = events.sign_up(db.session.get(User, user_id), event_id).signup
            statuses.append(str(signup.status))
        db.engine.dispose()
    return statuses


def test_a_storm_from_several_processes(city, database_url):
    app, event_id, users = city
    processes = 4
    spawn = multiprocessing.get_context("spawn")
    with spawn.Manager() as manager, spawn.Pool(processes) as pool:
        barrier = manager.Barrier(processes)
        chunks = [users[i::processes] for i in range(processes)]
        results = pool.starmap(
            _sign_up_in_process, [(database_url, event_id, chunk, barrier) for chunk in chunks]
        )
    statuses = [status for chunk in results for status in chunk]
    assert statuses.count("confirmed") == CAPACITY
    assert check_event(app, event_id) == (CAPACITY, len(users) - CAPACITY)


def naive_sign_up(app, user_id, event_id, barrier):
    """The unsafe path other systems take: count the seats, then insert. Never use it."""
    with app.app_context():
        taken = db.session.scalar(
            select(func.count()).where(
                Signup.event_id == event_id, Signup.status == SignupStatus.CONFIRMED
            )
        )
        capacity = db.session.scalar(select(Event.capacity).where(Event.id == event_id))
        db.session.rollback()
        barrier.wait()  # everyone has counted before anyone writes
        time.sleep(0.01)
        if taken < capacity:
            with transaction():
                db.session.add(
                    Signup(
                        event_id=event_id,
                        user_id=user_id,
                        status=SignupStatus.CONFIRMED,
                        confirmed_at=utcnow(),
                    )
                )


def test_control_the_check_catches_an_overbooking_on_the_unsafe_path(city):
    app, event_id, users = city
    barrier = threading.Barrier(10)
    threads = [
        threading.Thread(target=naive_sign_up, args=(app, u, event_id, barrier)) for u in users[:10]
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with pytest.raises(AssertionError, match="overbooked: 10 > 5"):
        check_event(app, event_id)
    with app.app_context():
        assert db.session.get(Event, event_id).status == EventStatus.PUBLISHED


def test_two_gunicorn_instances_on_one_database_never_overbook(city, database_url):
    """Two web servers (2 workers each) take the same rush of sign-ups over HTTP."""
    import http.client
    import json
    import subprocess
    import sys

    from tests.servers import ROOT, free_port, process_env

    app, event_id, users = city
    with app.app_context():
        tokens = [accounts.issue_token(f"v{i}@example.org", PASSWORD)[0] for i in range(len(users))]
    ports = [free_port(), free_port()]
    servers = [
        subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=process_env(database_url, BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY=2),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]

    def request(port, method, path, token=None):
        # A busy machine may take long to start gunicorn: generous timeouts, and the socket
        # closed whatever happens (a leaked one fails the next test as a ResourceWarning).
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            connection.request(method, path, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    try:
        for port in ports:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if request(port, "GET", "/healthz")[0] == 200:
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                time.sleep(0.2)
        results = at_once(
            [
                lambda i=i, token=token: request(
                    ports[i % 2], "POST", f"/api/v1/events/{event_id}/signups", token
                )
                for i, token in enumerate(tokens)
            ]
        )
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
    assert [status for status, _body in results].count(201) == len(users)
    statuses = [json.loads(body)["status"] for _status, body in results]
    assert statuses.count("confirmed") == CAPACITY
    assert check_event(app, event_id) == (CAPACITY, len(users) - CAPACITY)

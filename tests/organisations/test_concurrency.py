"""Joining and naming members under concurrency: one open membership per person and
organisation whatever arrives at once (the organisation's row lock and a partial unique index),
on SQLite and on PostgreSQL, with real threads and committed transactions."""

from sqlalchemy import func, select

from neighbors.accounts.models import User
from neighbors.extensions import db
from neighbors.organisations import services as organisations
from neighbors.organisations.models import Membership
from tests.clients import at_once
from tests.factories import COMMUNITY


def test_many_requests_and_additions_at_once_make_one_membership(app, live_make):
    staff_id, _email = live_make.user(role="staff", community=COMMUNITY)
    people = [live_make.user()[0] for _ in range(3)]
    with app.app_context():
        staff = db.session.get(User, staff_id)
        team_id = organisations.register(
            staff, name="文安路志愿服务队", kind="volunteer_team", community_code=COMMUNITY
        ).id

    def ask(user_id):
        def run():
            with app.app_context():
                return organisations.request_to_join(db.session.get(User, user_id), team_id).id

        return run

    def add(user_id, role):
        def run():
            with app.app_context():
                staff = db.session.get(User, staff_id)
                return organisations.add_member(staff, team_id, user_id, role).id

        return run

    calls = [ask(people[0]) for _ in range(10)]
    calls += [ask(people[1]) for _ in range(5)] + [add(people[1], "coordinator") for _ in range(5)]
    calls += [add(people[2], role) for role in ("member", "coordinator", "leader") * 3]
    results = at_once(calls)
    errors = [r for r in results if isinstance(r, Exception)]
    # Asking after the staff member's addition went through is answered "already a member".
    assert all(getattr(e, "code", None) == "already_member" for e in errors), errors
    assert all(not isinstance(r, Exception) for r in results[:10] + results[15:])
    assert len(set(results[:10])) == 1  # ten requests at once: one request
    with app.app_context():
        open_rows = dict(
            db.session.execute(
                select(Membership.user_id, func.count())
                .where(Membership.status.in_(("requested", "active")))
                .group_by(Membership.user_id)
            ).all()
        )
        assert open_rows == {people[0]: 1, people[1]: 1, people[2]: 1}
        # The staff member's additions stand: whoever asked at the same moment is a member.
        roles = dict(
            db.session.execute(
                select(Membership.user_id, Membership.status).where(
                    Membership.status.in_(("requested", "active"))
                )
            ).all()
        )
        assert roles[people[1]] == "active" and roles[people[2]] == "active"

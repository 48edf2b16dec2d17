"""Joining and naming members under concurrency: one open membership per person and
organisation whatever arrives at once (the organisation's row lock and a partial unique index),
on SQLite and on PostgreSQL, with real threads and committed transactions."""

from sqlalchemy import func, select

from neighbors.accounts.models import User
from neighbors.core.errors import NotAllowed
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


def test_coordinators_and_staff_deciding_one_record_at_once_decide_it_once(app, live_make):
    """谁组织谁记录 under concurrency: the organisation's coordinators confirm and the
    community's staff reject the same record at the same moment; one decision stands, once,
    and a coordinator of another organisation is never let in."""
    from neighbors.areas import services as areas
    from neighbors.core.audit import AuditEntry
    from neighbors.core.db import transaction
    from neighbors.core.timezone import local_today
    from neighbors.hours import services as hours
    from neighbors.hours.models import ServiceRecord

    staff_id, _email = live_make.user(role="staff", community=COMMUNITY)
    coordinators = [live_make.user()[0] for _ in range(3)]
    outsider, volunteer = live_make.user()[0], live_make.user()[0]
    with app.app_context():
        staff = db.session.get(User, staff_id)
        team = organisations.register(
            staff, name="红马甲志愿服务队", kind="volunteer_team", community_code=COMMUNITY
        ).id
        other = organisations.register(
            staff, name="夕阳红合唱团", kind="social_org", community_code=COMMUNITY
        ).id
        for user_id in coordinators:
            organisations.add_member(staff, team, user_id, "coordinator")
        organisations.add_member(staff, other, outsider, "coordinator")
        with transaction():
            record = hours.record_service(
                None, user_id=volunteer, event_id=None,
                community_id=areas.community_by_code(COMMUNITY).id, category="warmth",
                activity="看望独居老人", place="文安路", organiser="红马甲志愿服务队",
                served_on=local_today(), minutes=120, organisation_id=team,
            )  # fmt: skip
        record_id = record.id

    def decide(user_id, confirm):
        def run():
            with app.app_context():
                actor = db.session.get(User, user_id)
                return hours.review(actor, [record_id], confirm=confirm, reason="核实")[0].status

        return run

    calls = [decide(user_id, True) for user_id in coordinators * 2]
    calls += [decide(staff_id, False) for _ in range(3)] + [decide(outsider, True)]
    *results, outsider_result = at_once(calls)
    assert isinstance(outsider_result, NotAllowed)  # not staff, and not their organisation's
    decided = [r for r in results if isinstance(r, str)]
    codes = [getattr(r, "code", repr(r)) for r in results if not isinstance(r, str)]
    assert len(decided) == 1 and codes == ["not_pending"] * 8
    with app.app_context():
        record = db.session.get(ServiceRecord, record_id)
        assert record.status == decided[0]
        reviews = db.session.scalar(
            select(func.count(AuditEntry.id)).where(
                AuditEntry.action.in_(("hours.confirm", "hours.reject"))
            )
        )
        assert reviews == 1

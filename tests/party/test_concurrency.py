"""双报到 under concurrency, with real threads and committed transactions on SQLite and
PostgreSQL: many report-ins of one Party organisation to one community at once make one; two
scheduler runs of the yearly feedback at once send each report-in's feedback once."""

from datetime import date

from sqlalchemy import func, select

from neighbors.accounts.models import User
from neighbors.core.outbox import OutboxMessage
from neighbors.extensions import db
from neighbors.organisations import services as organisations
from neighbors.party import feedback, reporting
from neighbors.party.models import OrganisationReport
from tests.clients import at_once
from tests.factories import COMMUNITY


def test_report_ins_at_once_make_one_and_the_yearly_feedback_goes_once(app, live_make):
    staff_id, _email = live_make.user(role="staff", community=COMMUNITY)
    leader_id, _email = live_make.user()
    with app.app_context():
        staff = db.session.get(User, staff_id)
        branch = organisations.register(
            staff, name="市图书馆党支部", kind="party_org", community_code=COMMUNITY
        ).id
        organisations.add_member(staff, branch, leader_id, "leader")
        post = reporting.add_post(staff, community_code=COMMUNITY, name="楼道清扫", people_needed=4)
        post_id = post.id

    def report_in():
        with app.app_context():
            return reporting.report_in(
                db.session.get(User, leader_id), branch, community_code=COMMUNITY,
                starts_on=date(2025, 1, 1), ends_on=date(2027, 12, 31), contact_name="周",
                contact_email="branch@example.org", claims={post_id: 2},
            ).id  # fmt: skip

    results = at_once([report_in for _ in range(8)])
    made = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if not isinstance(r, int)]
    assert len(made) == 1
    assert [getattr(e, "code", e) for e in refused] == ["already_reported"] * 7
    with app.app_context():
        assert db.session.scalar(select(func.count(OrganisationReport.id))) == 1
        reporting.review(db.session.get(User, staff_id), made[0], confirm=True)

    def yearly():
        with app.app_context():
            return feedback.send_yearly(2025)

    assert sorted(at_once([yearly, yearly, yearly])) == [0, 0, 1]
    with app.app_context():
        sent = db.session.scalars(select(OutboxMessage.to_address)).all()
        assert sent == ["branch@example.org"]

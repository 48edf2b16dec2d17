"""List pages load in a fixed number of queries: the count does not grow with the rows."""

from contextlib import contextmanager
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import event

from neighbors.attendance import completion
from neighbors.attendance import services as attendance
from neighbors.core.timezone import from_local, local_today
from neighbors.events import services as events
from neighbors.extensions import db
from neighbors.hours import services as hours
from tests.clients import log_in
from tests.factories import make_station, person


@contextmanager
def counting(app):
    statements = []
    with app.app_context():
        engine = db.engine

    def count(*_args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def queries(app, client, path):
    with counting(app) as statements:
        assert client.get(path).status_code == 200
    return len(statements)


@pytest.mark.parametrize(
    "path",
    [
        "/events",
        "/my/events",
        "/my/hours",
        "/staff/hours",
        "/staff/events",
        "/staff/party-report",
        "/staff/dashboard",
    ],
)
def test_list_pages_do_not_grow_with_their_rows(app, client, hours_factory, path):
    volunteer_id, email = hours_factory.make.user()

    def add(n):
        with app.app_context():
            for _ in range(n):
                event_id = hours_factory.event(capacity=5)
                events.sign_up(person(volunteer_id), event_id)
                record = hours.submit_service(
                    person(volunteer_id),
                    activity="服务",
                    place="社区",
                    organiser="社区",
                    minutes=30,
                    served_on=local_today() - timedelta(days=1),
                )
                if n % 2:
                    hours.review(hours_factory.staff(), [record.id], confirm=True)

    staff = app.test_client()
    log_in(client, email)
    log_in(staff, hours_factory.staff_email)
    viewer = staff if path.startswith("/staff") else client
    add(2)
    few = queries(app, viewer, path)
    add(6)
    many = queries(app, viewer, path)
    assert many == few, f"{path}: {few} queries with few rows, {many} with more"


def test_my_past_events_do_not_grow_with_their_rows(app, client, hours_factory):
    """Past events with their outcomes (hours, no-shows, cancellations) in a fixed number."""
    volunteer_id, email = hours_factory.make.user()

    def add(n):
        with app.app_context():
            staff = hours_factory.staff()
            for i in range(n):
                event_id = hours_factory.held_event([volunteer_id])
                if i % 3 == 0:
                    attendance.all_present(staff, event_id)
                if i % 3 == 2:
                    events.cancel_event(staff, event_id, "暴雨")
                else:
                    completion.complete_event(staff, event_id)
            pending = [r.id for r in hours.records_to_confirm(staff)]
            hours.review(staff, pending[: len(pending) // 2 + 1], confirm=True)

    log_in(client, email)
    add(3)
    few = queries(app, client, "/my/events")
    add(9)
    many = queries(app, client, "/my/events")
    assert "no-show" in client.get("/my/events", headers={"Accept-Language": "en"}).text
    assert many == few, f"/my/events: {few} queries with few past events, {many} with more"


def test_organisation_pages_do_not_grow_with_organisations_members_or_events(
    app, client, hours_factory
):
    """The directory, an organisation's public page and its coordinator's page."""
    from neighbors.organisations import services as organisations

    with app.app_context():
        staff = hours_factory.staff()
        team_id = organisations.register(
            staff, name="服务队", kind="volunteer_team", community_code="210102002001"
        ).id
        coordinator_id, email = hours_factory.make.user()
        organisations.add_member(staff, team_id, coordinator_id, "leader")

    def add(n):
        with app.app_context():
            staff = hours_factory.staff()
            for i in range(n):
                organisations.register(
                    staff, name=f"组织{team_id}-{i}-{n}", kind="social_org",
                    community_code="210102002001",
                )  # fmt: skip
                member_id, _email = hours_factory.make.user()
                organisations.add_member(staff, team_id, member_id)
                asker_id, _email = hours_factory.make.user()
                organisations.request_to_join(person(asker_id), team_id)
                hours_factory.event(organisation_id=team_id)
                hours_factory.event(organisation_id=team_id, publish=False)

    log_in(client, email)
    paths = (
        "/organisations",
        "/organisations?district=210102&street=210102002&community=210102002001&kind=social_org",
        f"/organisations/{team_id}",
        f"/organisations/{team_id}/manage",
    )
    add(2)
    few = [queries(app, client, path) for path in paths]
    add(6)
    many = [queries(app, client, path) for path in paths]
    assert many == few, f"{paths}: {few} queries with few rows, {many} with more"


def test_a_stations_week_and_the_directory_do_not_grow_with_their_rows(app, client, factory):
    """A station's week (its rooms, communities and events, each event's room and community)
    and the stations of a street load in a fixed number of queries."""
    with app.app_context():
        rooms = list(make_station(person(factory.admin_id)).values())
    made = [0]

    def add(n):
        with app.app_context():
            for _ in range(n):
                made[0] += 1
                start = tomorrow_1am() + timedelta(hours=2 * made[0])
                factory.event(
                    room_id=rooms[made[0] % 2],
                    starts_at=start,
                    ends_at=start + timedelta(hours=2),
                )
                make_station(person(factory.admin_id), code=f"ST-Q{made[0]}")

    week = f"/stations/ST-T1?week={local_today() + timedelta(days=1)}"
    add(1)
    few = [queries(app, client, week), queries(app, client, DIRECTORY)]
    add(6)
    many = [queries(app, client, week), queries(app, client, DIRECTORY)]
    assert client.get(week).text.count("社区奉献日：清扫楼道") == 7
    assert many == few, f"station page and directory: {few} queries with few rows, {many} with more"


DIRECTORY = "/stations?district=210102&street=210102002"


def tomorrow_1am():
    return from_local(datetime.combine(local_today() + timedelta(days=1), time(1)))


def test_party_organisations_and_hours_by_organisation_do_not_grow_with_their_rows(
    app, client, hours_factory
):
    """The staff's report-ins (each with its organisation, community and posts), a report-in's
    page with its members' feedback, and hours by organisation for staff and coordinators."""
    from datetime import date

    from neighbors.organisations import services as organisations
    from neighbors.party import members as party_members
    from neighbors.party import reporting

    community = "210102002001"
    with app.app_context():
        staff = hours_factory.staff()
        branch = organisations.register(
            staff, name="党支部", kind="party_org", community_code=community
        ).id
        report_id = reporting.report_in(
            staff, branch, community_code=community, starts_on=date(2026, 1, 1),
            ends_on=date(2027, 1, 1), contact_name="周", contact_email="b@example.org",
        ).id  # fmt: skip
    made = [0]

    def add(n):
        with app.app_context():
            staff = hours_factory.staff()
            for _ in range(n):
                made[0] += 1
                other = organisations.register(
                    staff, name=f"支部{made[0]}", kind="party_org", community_code=community
                ).id
                post = reporting.add_post(
                    staff, community_code=community, name=f"岗位{made[0]}", people_needed=5
                )
                reporting.report_in(
                    staff, other, community_code=community, starts_on=date(2026, 1, 1),
                    ends_on=date(2027, 1, 1), contact_name="周", contact_email="b@example.org",
                    claims={post.id: 2},
                )  # fmt: skip
                member_id, _email = hours_factory.make.user()
                organisations.add_member(staff, branch, member_id)
                party_members.declare_party_membership(
                    person(member_id), branch="一支部", work_unit="单位",
                    community_code=community, grid_code="", reported_on=date(2026, 3, 5),
                )  # fmt: skip
                for runner in (other, branch):
                    event_id = hours_factory.held_event([member_id], organisation_id=runner)
                    attendance.all_present(staff, event_id)
                    completion.complete_event(staff, event_id)
            pending = hours.records_to_confirm(staff)
            hours.review(staff, [record.id for record in pending], confirm=True)

    log_in(client, hours_factory.staff_email)
    paths = (
        "/staff/party-organisations",
        f"/party-organisations/{report_id}",
        "/staff/organisations/hours",
        f"/organisations/{branch}/hours",
        "/staff/party-posts",
    )
    add(2)
    few = [queries(app, client, path) for path in paths]
    add(5)
    many = [queries(app, client, path) for path in paths]
    assert many == few, f"{paths}: {few} queries with few rows, {many} with more"


def test_the_api_event_list_does_not_grow_with_the_organisations_that_run_its_events(
    app, client, hours_factory
):
    """Each event's organisation comes with the page, not one query per organisation."""
    from neighbors.organisations import services as organisations

    def add(n):
        with app.app_context():
            staff = hours_factory.staff()
            for i in range(n):
                organisation_id = organisations.register(
                    staff, name=f"服务队{n}-{i}", kind="volunteer_team",
                    community_code="210102002001",
                ).id  # fmt: skip
                hours_factory.event(organisation_id=organisation_id)

    add(2)
    few = queries(app, client, "/api/v1/events")
    add(6)
    many = queries(app, client, "/api/v1/events")
    names = {item["organisation"]["name"] for item in client.get("/api/v1/events").json["items"]}
    assert len(names) == 8
    assert many == few, f"/api/v1/events: {few} queries with 2 organisations, {many} with 8"


def test_the_wish_wall_and_the_shop_do_not_grow_with_their_rows(app, client, hours_factory):
    """The wish wall (of the city, a street, a community) and the love supermarket's shelf."""
    from neighbors.mutual_aid import services as aid

    def add(n):
        with app.app_context():
            staff = hours_factory.staff()
            for i in range(n):
                resident_id, _email = hours_factory.make.user()
                wish = aid.post_wish(
                    staff, title=f"心愿{n}-{i}", description="", category="daily",
                    value_cap="50", for_user_id=resident_id,
                )  # fmt: skip
                aid.vet(staff, wish.id, publish=True)
                aid.add_item(staff, community_code="210102002001", name=f"物品{n}-{i}",
                             points=5, stock=3)  # fmt: skip

    log_in(client, hours_factory.staff_email)
    paths = ("/wishes", "/wishes?street=210102002", "/wishes?community=210102002001",
             "/staff/shop")  # fmt: skip
    add(2)
    few = [queries(app, client, path) for path in paths]
    add(6)
    many = [queries(app, client, path) for path in paths]
    assert many == few, f"{paths}: {few} queries with few rows, {many} with more"


def test_a_logged_in_page_costs_one_query_with_the_roles(app, client, hours_factory):
    """The login session, the user and the user's roles (which the menu reads) come together."""
    log_in(client, hours_factory.staff_email)
    with app.app_context():
        engine = db.engine
    seen = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        page = client.get("/privacy")
    finally:
        event.remove(engine, "before_cursor_execute", note)
    sql = [s for s in seen if not s.startswith(("SAVEPOINT", "ROLLBACK", "RELEASE"))]  # tests'
    assert len(sql) == 1 and "role_grants" in sql[0], sql
    assert "/staff/events" in page.text  # the staff menu did read the roles

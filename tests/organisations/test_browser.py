"""In a real headless Chromium: a coordinator drafts an event in the organisation's name, the
community's staff publish it, a volunteer joins, and the coordinator takes attendance and
confirms the hours (谁组织谁记录); the organisation's page then shows them."""

import pytest

from neighbors.accounts import services as accounts
from neighbors.organisations import services as organisations
from tests.factories import COMMUNITY, PASSWORD
from tests.web.conftest import browser  # noqa: F401 (a fixture)
from tests.web.test_browser import logged_in, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def test_a_coordinator_drafts_staff_publish_a_volunteer_joins_the_coordinator_confirms(
    browser,  # noqa: F811 (the fixture imported above)
    server,  # noqa: F811
    app,
):
    from datetime import timedelta

    from neighbors.core.db import transaction, utcnow
    from neighbors.events.models import Event
    from neighbors.extensions import db

    with app.app_context():
        people = {}
        for email, name, role in (
            ("staff@example.org", "李静", "staff"),
            ("lead@example.org", "林晓", "volunteer"),
            ("v@example.org", "刘洋", "volunteer"),
        ):
            people[email] = accounts.create_user(
                email=email, password=PASSWORD, name=name, role=role, community_code=COMMUNITY
            )
        team = organisations.register(
            people["staff@example.org"],
            name="红马甲志愿服务队",
            kind="volunteer_team",
            community_code=COMMUNITY,
        )
        organisations.add_member(
            people["staff@example.org"], team.id, people["lead@example.org"].id, "leader"
        )
        team_id = team.id

    coordinator = logged_in(browser, server, "lead@example.org")
    coordinator.goto(f"{server}/organisations/{team_id}/manage")
    coordinator.get_by_role("link", name="Draft an event").click()
    coordinator.get_by_label("Title").fill("红马甲：看望独居老人")
    coordinator.get_by_label("Venue").fill("文安路社区党群服务站")
    coordinator.get_by_label("Starts").fill("2030-05-01T09:00")
    coordinator.get_by_label("Ends").fill("2030-05-01T11:00")
    coordinator.get_by_label("Places").fill("5")
    coordinator.get_by_role("button", name="Save the draft").click()
    assert coordinator.get_by_text("Draft saved: the community's staff publish it.").is_visible()
    assert coordinator.get_by_role("button", name="Publish").count() == 0
    event_id = int(coordinator.url.rstrip("/").rsplit("/", 1)[1])

    staff = logged_in(browser, server, "staff@example.org")
    staff.get_by_text("Menu", exact=True).click()
    staff.get_by_role("link", name="Organisations: waiting").click()
    assert staff.get_by_text("红马甲：看望独居老人").is_visible()
    staff.get_by_role("button", name="Publish").click()

    volunteer = logged_in(browser, server, "v@example.org")
    volunteer.goto(f"{server}/events/{event_id}")
    volunteer.get_by_role("button", name="Join", exact=True).click()
    volunteer.get_by_role("link", name="My events").click()
    assert volunteer.get_by_role("link", name="红马甲：看望独居老人").is_visible()

    with app.app_context(), transaction():  # time passes: the event is over
        event = db.session.get(Event, event_id)
        shift = event.ends_at - utcnow() + timedelta(hours=1)
        event.starts_at -= shift
        event.ends_at -= shift

    coordinator.goto(f"{server}/organisations/{team_id}/manage")
    coordinator.get_by_role("link", name="Attendance").click()
    coordinator.get_by_role("button", name="Everyone present (start to end)").click()
    coordinator.goto(f"{server}/organisations/{team_id}/manage")
    coordinator.get_by_role("link", name="Mark as completed").click()
    coordinator.get_by_role("button", name="Yes, complete it").click()
    coordinator.goto(f"{server}/organisations/{team_id}/manage")
    coordinator.get_by_role("link", name="Confirm them").click()
    coordinator.get_by_label("Choose 刘洋 红马甲：看望独居老人").check()
    coordinator.get_by_role("button", name="Confirm the ticked").click()
    assert coordinator.get_by_text("1 record(s) confirmed.").is_visible()

    coordinator.goto(f"{server}/organisations/{team_id}/hours")
    assert coordinator.get_by_role("cell", name="刘洋").is_visible()
    mine = logged_in(browser, server, "v@example.org")
    mine.get_by_role("link", name="My hours").click()
    assert mine.locator("#hours-all-time").inner_text() == "2 hours"

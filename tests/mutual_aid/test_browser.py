"""The issue's journey in a real headless Chromium: staff post a wish for an old resident, a
Party member claims and fulfils it, staff confirm, the member sees the service and the points,
and spends them at the counter."""

import re

import pytest

from neighbors.accounts import services as accounts
from neighbors.core.timezone import local_today
from neighbors.party import members as party_members
from tests.factories import COMMUNITY, PASSWORD
from tests.web.conftest import browser  # noqa: F401 (a fixture)
from tests.web.test_browser import logged_in, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture
def people(app, server):  # noqa: F811 (the fixture imported above)
    def person(email, name, role="volunteer", **fields):
        return accounts.create_user(
            email=email, password=PASSWORD, name=name, role=role, community_code=COMMUNITY,
            **fields,
        )  # fmt: skip

    with app.app_context():
        staff = person("staff@example.org", "李静", role="staff")
        member = person("member@example.org", "王建国")
        person("elder@example.org", "张桂芳", phone="13812345678")
        party_members.declare_party_membership(
            member, branch="第一支部", work_unit="市图书馆", community_code=COMMUNITY,
            grid_code=None, reported_on=local_today(),
        )  # fmt: skip
        party_members.review_party_report(staff, member.id, confirm=True)
        return member.id


def test_a_wish_comes_true_and_its_points_are_spent(browser, server, people):  # noqa: F811
    member_id = people
    staff = logged_in(browser, server, "staff@example.org")
    staff.goto(server + "/wishes/new")
    staff.get_by_label("For a resident (phone or volunteer number)").fill("13812345678")
    staff.get_by_label("What is wished for").fill("一个新水壶")
    staff.get_by_label("Category").select_option("daily")
    staff.get_by_label("Value at most (yuan)").fill("80")
    staff.get_by_role("button", name="Send for vetting").click()
    staff.wait_for_url(re.compile(r".*/wishes/\d+$"))
    wish_url = staff.url
    staff.goto(server + "/staff/wishes")
    staff.get_by_role("button", name="Put on the wall").click()
    staff.wait_for_url("**/staff/wishes")

    member = logged_in(browser, server, "member@example.org")
    member.goto(server + "/wishes")
    member.get_by_role("link", name="一个新水壶").click()
    assert member.get_by_text("张**").is_visible()
    member.get_by_role("button", name="I will make it come true").click()
    member.get_by_label("How the wish came true").fill("水壶已送到张阿姨家")
    member.get_by_role("button", name="Mark as fulfilled").click()
    member.wait_for_url(wish_url)

    staff.goto(server + "/staff/wishes")
    staff.get_by_label("Minutes of service").fill("90")
    staff.get_by_role("button", name="Confirm").click()
    staff.wait_for_url("**/staff/wishes")

    member.goto(server + "/my/hours")
    assert member.get_by_text("Micro-wish: 一个新水壶").first.is_visible()
    member.goto(server + "/my/points")
    assert member.get_by_text("Balance: 15 points").is_visible()

    staff.goto(server + "/staff/shop")
    staff.get_by_label("Community").select_option(COMMUNITY)
    staff.get_by_label("Item", exact=True).fill("毛巾")
    staff.get_by_label("Price in points").fill("10")
    staff.get_by_label("Stock", exact=True).fill("5")
    staff.get_by_role("button", name="Add to the shelf").click()
    staff.goto(server + "/staff/shop/counter")
    staff.get_by_label("Phone or volunteer number").fill(f"V{member_id:08d}")
    staff.get_by_role("button", name="Find").click()
    assert staff.get_by_text("Balance: 15 points").is_visible()
    staff.get_by_role("button", name="Redeem").click()
    staff.wait_for_url(re.compile(r".*/staff/shop/redemptions/\d+$"))
    assert staff.get_by_text("毛巾 × 1").is_visible()

    member.goto(server + "/my/points")
    assert member.get_by_text("Balance: 5 points").is_visible()

"""End to end in a real headless Chromium: register, log in, see the profile, switch language."""

import re
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from neighbors.accounts import services as accounts
from neighbors.areas import services as areas
from neighbors.core.timezone import local_today
from tests.factories import COMMUNITY, DEMO_AREAS, PASSWORD
from tests.office import pdf_pages

pytestmark = pytest.mark.browser


def logged_in(browser, server, email):
    """A new browser (in English) logged in as this person, on their role's first page."""
    page = browser.new_context(locale="en-US", accept_downloads=True).new_page()
    page.goto(server + "/login")
    page.get_by_label("E-mail address or mobile number").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)  # each role lands on its own home
    return page


@pytest.fixture
def server(app, committing_db):
    with app.app_context():
        areas.import_areas(DEMO_AREAS)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join()


def test_register_log_in_profile_and_language(browser, server):
    page = browser.new_page(locale="zh-CN")
    page.goto(server + "/")
    assert page.get_by_role("link", name="注册", exact=True).is_visible()

    page.get_by_role("link", name="注册", exact=True).click()
    # District, then street, then the street's communities: each step without JavaScript.
    page.get_by_label("区", exact=True).select_option(label="和平区")
    page.get_by_role("button", name="显示街道").click()
    page.get_by_label("街道", exact=True).select_option(label="南湖街道")
    page.get_by_role("button", name="显示社区").click()
    page.get_by_label("姓名").fill("王小明")
    page.get_by_label("电子邮箱", exact=True).fill("xm@example.org")
    page.get_by_label("手机号", exact=True).fill("13812345678")
    page.get_by_label("密码", exact=True).fill("correct horse battery")
    page.get_by_label("再次输入密码").fill("correct horse battery")
    page.get_by_label("居住社区").select_option(COMMUNITY)
    page.get_by_label("我已阅读并同意隐私声明").check()
    page.get_by_role("button", name="注册").click()

    # Registered and logged in; the number is verified next, with the code sent to it.
    page.wait_for_url("**/profile/phone")
    page.get_by_role("link", name="返回我的资料").click()
    page.wait_for_url("**/profile")
    assert page.get_by_role("heading", name="我的资料").is_visible()
    body = page.locator("main").inner_text()
    assert "王小明" in body and "138****5678" in body and "文安路社区" in body

    page.get_by_text("菜单", exact=True).click()  # logging out is in the menu
    page.get_by_role("button", name="退出登录").click()
    page.get_by_role("link", name="登录", exact=True).click()
    page.get_by_label("电子邮箱或手机号").fill("xm@example.org")  # the number: once verified
    page.get_by_label("密码").fill("correct horse battery")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/my/events")  # a volunteer's home
    page.get_by_text("菜单", exact=True).click()
    page.get_by_role("link", name="我的资料").click()

    page.get_by_role("button", name="English").click()
    assert page.get_by_role("heading", name="My profile").is_visible()
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("button", name="简体中文").click()
    assert page.get_by_role("heading", name="我的资料").is_visible()
    page.close()


def test_staff_publishes_volunteers_join_cancel_and_the_waitlist_moves_up(browser, server, app):
    with app.app_context():
        accounts.create_user(
            email="staff@example.org",
            password=PASSWORD,
            name="李静",
            role="staff",
            community_code=COMMUNITY,
        )
        for name in ("a", "b"):
            accounts.create_user(
                email=f"{name}@example.org",
                password=PASSWORD,
                name=name,
                role="volunteer",
                community_code=COMMUNITY,
            )

    staff = logged_in(browser, server, "staff@example.org")
    staff.get_by_text("Menu", exact=True).click()
    staff.get_by_role("link", name="Manage events").click()
    staff.get_by_role("link", name="New event").click()
    staff.get_by_label("Title").fill("助老理发")
    staff.get_by_label("Line of work").select_option("warmth")
    staff.get_by_label("Venue").fill("文安路社区服务站")
    staff.get_by_label("Starts").fill("2030-05-01T09:00")
    staff.get_by_label("Ends").fill("2030-05-01T11:00")
    staff.get_by_label("Places").fill("1")
    staff.get_by_role("button", name="Save").click()
    staff.get_by_role("button", name="Publish").click()
    assert staff.get_by_text("The event is published.").is_visible()

    first = logged_in(browser, server, "a@example.org")
    first.get_by_role("link", name="Events", exact=True).click()
    first.get_by_text("Filter", exact=True).click()
    first.get_by_label("Search").fill("理发")
    first.get_by_role("button", name="Show events").click()
    first.get_by_role("link", name="助老理发").click()
    first.get_by_role("button", name="Join", exact=True).click()
    assert first.locator("#my-status").inner_text() == "You are signed up."
    first.get_by_role("link", name="My events").click()
    assert first.get_by_role("link", name="助老理发").is_visible()

    second = logged_in(browser, server, "b@example.org")
    second.goto(first.url.replace("/my/events", "/events"))
    second.get_by_role("link", name="助老理发").click()
    second.get_by_role("button", name="Join the waitlist").click()
    assert "number 1 on the waitlist" in second.locator("#my-status").inner_text()

    first.get_by_role("link", name="助老理发").click()
    first.get_by_role("link", name="Cancel my sign-up").click()
    assert first.get_by_text("Your place goes to the next person on the waitlist").is_visible()
    first.get_by_role("button", name="Yes, cancel my sign-up").click()
    assert first.get_by_text("Your sign-up is cancelled.").is_visible()

    second.reload()
    assert second.locator("#my-status").inner_text() == "You are signed up."
    event_path = second.url.split("/events/")[1]
    staff.goto(f"{server}/staff/events/{event_path}/roster")
    assert staff.get_by_role("cell", name="b", exact=True).is_visible()
    assert not staff.get_by_role("cell", name="a", exact=True).is_visible()


def test_staff_record_attendance_confirm_hours_and_the_volunteer_gets_a_certificate(
    browser, server, app
):
    from datetime import timedelta

    from neighbors.core.db import utcnow
    from neighbors.events import services as events

    with app.app_context():
        staff = accounts.create_user(
            email="staff@example.org",
            password=PASSWORD,
            name="李静",
            role="staff",
            community_code=COMMUNITY,
        )
        accounts.create_user(
            email="v@example.org",
            password=PASSWORD,
            name="刘洋",
            role="volunteer",
            community_code=COMMUNITY,
        )
        now = utcnow()
        event = events.create_event(
            staff,
            community_code=COMMUNITY,
            title="重阳节慰问",
            category="warmth",
            venue="社区",
            capacity=5,
            starts_at=now - timedelta(hours=3),
            ends_at=now - timedelta(hours=1),
        )
        events.publish_event(staff, event.id)
        event_id = event.id

    desk = logged_in(browser, server, "staff@example.org")
    desk.goto(f"{server}/events/{event_id}")
    desk.get_by_role("link", name="Attendance").click()
    desk.get_by_label("E-mail address or mobile number").fill("v@example.org")
    desk.get_by_role("button", name="Add and check in").click()
    assert desk.get_by_text("刘洋 is checked in.").is_visible()
    desk.get_by_role("link", name="重阳节慰问").click()
    desk.get_by_role("link", name="Mark as completed").click()
    assert desk.get_by_text("1 person who checked in will get a service record").is_visible()
    desk.get_by_role("button", name="Yes, complete it").click()
    desk.get_by_text("Menu", exact=True).click()
    desk.get_by_role("link", name="Hours to confirm").click()
    desk.get_by_label("Choose 刘洋 重阳节慰问").check()
    desk.get_by_role("button", name="Confirm the ticked").click()
    assert desk.get_by_text("1 record(s) confirmed.").is_visible()

    volunteer = logged_in(browser, server, "v@example.org")
    volunteer.get_by_role("link", name="My hours").click()
    assert volunteer.locator("#hours-all-time").inner_text() == "2 hours"
    volunteer.get_by_role("link", name="Get a certificate").click()
    volunteer.get_by_label("From").fill((local_today() - timedelta(days=3)).isoformat())
    volunteer.get_by_role("button", name="Make the certificate").click()
    assert volunteer.get_by_role(
        "heading", name="Volunteer service record certificate"
    ).is_visible()
    assert volunteer.locator(".certificate svg").count() == 1  # the QR code
    volunteer.locator(".verify a").click()
    assert volunteer.locator("#genuine").inner_text() == "This certificate is genuine."
    assert volunteer.locator("#total-hours").inner_text() == "2 hours"


def test_donation_subsidy_payment_and_the_accountant_downloads_the_ledger(browser, server, app):
    from neighbors.foundation import services as foundation

    with app.app_context():
        for role in ("preparer", "approver", "cashier", "accountant"):
            accounts.create_user(
                email=f"{role}@example.org", password=PASSWORD, name=role, role=role
            )
        approver = accounts.user_by_email("approver@example.org")
        foundation.create_fund(approver, code="EDU", name="助学基金", kind="restricted")

    preparer = logged_in(browser, server, "preparer@example.org")
    preparer.get_by_text("Menu", exact=True).click()
    preparer.get_by_role("link", name="Foundation", exact=True).click()
    preparer.get_by_role("link", name="Donations", exact=True).click()
    preparer.get_by_role("link", name="Record a donation").click()
    preparer.get_by_label("Fund").select_option("EDU")
    preparer.get_by_label("Amount (yuan)").fill("500.00")
    preparer.get_by_label("Donor's name").fill("王先生")
    preparer.get_by_role("button", name="Save").click()
    assert preparer.get_by_text("Donation recorded").is_visible()
    preparer.get_by_role("link", name="Subsidies", exact=True).click()
    preparer.get_by_role("link", name="Prepare a subsidy").click()
    preparer.get_by_label("Fund").select_option("EDU")
    preparer.get_by_label("Amount (yuan)").fill("120.00")
    preparer.get_by_label("Beneficiary's name").fill("张小明")
    preparer.get_by_label("Reason").fill("学费")
    preparer.get_by_role("button", name="Save").click()

    approver = logged_in(browser, server, "approver@example.org")
    approver.goto(server + "/foundation/subsidies")
    approver.get_by_role("button", name="Approve").click()
    cashier = logged_in(browser, server, "cashier@example.org")
    cashier.goto(server + "/foundation/subsidies")
    cashier.get_by_role("link", name="Pay").click()
    assert cashier.get_by_text("Pay 120.00 yuan to 张**?").is_visible()
    cashier.get_by_role("button", name="Yes, pay").click()
    cashier.get_by_role("link", name="Funds", exact=True).click()
    assert cashier.locator("#balance-EDU").inner_text() == "380.00"

    accountant = logged_in(browser, server, "accountant@example.org")
    accountant.goto(server + "/foundation/ledger")
    with accountant.expect_download() as download:
        accountant.get_by_role("link", name="CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "500.00" in text and "120.00" in text

    # The newest voucher (the subsidy paid) prints as one A4 page, whole.
    accountant.get_by_role("link", name=re.compile(r"^JZ\d{4}-")).first.click()
    assert accountant.get_by_role("heading", name="Accounting voucher").is_visible()
    pdf = Path(download.value.path()).with_name("voucher.pdf")
    accountant.pdf(path=str(pdf), format="A4")
    if shutil.which("pdftotext"):
        (page,) = pdf_pages(pdf)  # one page
        for seen in ("120.00", "壹佰贰拾元整", "Prepared by: preparer", "Cashier: cashier"):
            assert seen in page, seen

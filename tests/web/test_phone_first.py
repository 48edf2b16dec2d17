"""Phone-first pages as a person meets them: asked before what cannot be undone and told what
happened, plain words, one way to write dates, hours with their unit, the door screen, the
calendar page, lists in the order staff work in."""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest

from neighbors.attendance import services as attendance
from neighbors.core.db import utcnow
from neighbors.events import services as events
from neighbors.foundation import services as foundation
from neighbors.hours import services as hours
from tests.clients import log_in, post_form
from tests.factories import COMMUNITY, HoursFactory, Team, person

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def world(app, make):
    return HoursFactory(app, make)


def text(response):
    """What a person reads: the page without its tags."""
    words = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(words))


# -- asked first, told after -------------------------------------------------------------------


def test_cancelling_a_place_says_it_goes_to_the_next_person_and_only_a_post_cancels(
    app, client, world
):
    event_id = world.event(capacity=1)
    first_id, first_email = world.make.user()
    second_id, _ = world.make.user()
    with app.app_context():
        events.sign_up(person(first_id), event_id)
        events.sign_up(person(second_id), event_id)  # waiting
    log_in(client, first_email)

    detail = client.get(f"/events/{event_id}", headers=EN).get_data(as_text=True)
    assert f'href="/events/{event_id}/cancel-signup"' in detail  # a link to the question

    page = client.get(f"/events/{event_id}/cancel-signup", headers=EN)
    assert page.status_code == 200
    assert "Your place goes to the next person on the waitlist straight away." in text(page)
    assert "Yes, cancel my sign-up" in text(page)
    with app.app_context():
        assert events.my_signup(person(first_id), events.get_event(event_id))[0] is not None

    done = post_form(client, f"/events/{event_id}/cancel-signup", {}, headers=EN)
    assert done.status_code == 302
    assert "Your sign-up is cancelled." in text(client.get(done.location, headers=EN))
    with app.app_context():
        assert events.my_signup(person(second_id), events.get_event(event_id))[0].status == (
            "confirmed"
        )


def test_leaving_the_waitlist_says_the_place_in_the_queue_is_lost(app, client, world):
    event_id = world.event(capacity=1)
    other_id, _ = world.make.user()
    me_id, me_email = world.make.user()
    with app.app_context():
        events.sign_up(person(other_id), event_id)
        events.sign_up(person(me_id), event_id)
    log_in(client, me_email)
    page = client.get(f"/events/{event_id}/cancel-signup", headers=ZH)
    assert "您将退出候补名单（您现在排第 1 位）" in text(page)


def test_nobody_is_asked_about_a_place_they_do_not_have(client, world):
    event_id = world.event()
    _id, email = world.make.user()
    log_in(client, email)
    assert client.get(f"/events/{event_id}/cancel-signup").status_code == 404


def test_completing_says_how_many_records_and_no_shows_it_will_make(app, client, world):
    came, absent = world.volunteers(2)
    event_id = world.held_event([came, absent])
    with app.app_context():
        attendance.tap(world.staff(), event_id, came, "in")
    log_in(client, world.staff_email)
    page = client.get(f"/staff/events/{event_id}/complete", headers=EN)
    words = text(page)
    assert "1 person who checked in will get a service record" in words
    assert "1 person who did not check in is marked as no-show" in words
    with app.app_context():
        assert events.get_event(event_id).status == "published"  # asking changed nothing
    done = post_form(client, f"/staff/events/{event_id}/complete", {}, headers=EN)
    assert "The event is completed: 1 service record, 1 no-show." in text(
        client.get(done.location, headers=EN)
    )


def test_an_event_still_running_is_not_offered_for_completion(client, world):
    event_id = world.event()
    log_in(client, world.staff_email)
    response = client.get(f"/staff/events/{event_id}/complete", headers=EN)
    assert response.status_code == 302
    assert "Only a published event that has ended can be completed." in text(
        client.get(response.location, headers=EN)
    )


def test_removing_from_the_roster_asks_first_and_every_tap_says_what_it_did(app, client, world):
    event_id = world.event(capacity=1)
    first_id, _ = world.make.user(name="王芳")
    second_id, _ = world.make.user(name="赵亮")
    with app.app_context():
        events.sign_up(person(first_id), event_id)
        events.sign_up(person(second_id), event_id)
    log_in(client, world.staff_email)

    sheet = client.get(f"/staff/events/{event_id}/attendance", headers=EN).get_data(as_text=True)
    assert f'href="/staff/events/{event_id}/attendance/{first_id}/remove"' in sheet
    ask = client.get(f"/staff/events/{event_id}/attendance/{first_id}/remove", headers=EN)
    assert "王芳 loses their place, and it goes to the next person on the waitlist" in text(ask)

    tapped = post_form(client, f"/staff/events/{event_id}/attendance/{first_id}/in", {}, headers=EN)
    assert re.search(
        r"王芳 is checked in at \d\d:\d\d\.", text(client.get(tapped.location, headers=EN))
    )
    cleared = post_form(
        client, f"/staff/events/{event_id}/attendance/{first_id}/clear", {}, headers=EN
    )
    assert "王芳's check-in is cleared." in text(client.get(cleared.location, headers=EN))
    removed = post_form(
        client, f"/staff/events/{event_id}/attendance/{first_id}/remove", {}, headers=EN
    )
    assert "王芳 is off the roster." in text(client.get(removed.location, headers=EN))


def test_rejecting_hours_asks_first_with_the_records_named(app, client, world):
    volunteer_id, _ = world.make.user(name="刘洋")
    event_id = world.held_event([volunteer_id])
    with app.app_context():
        attendance.all_present(world.staff(), event_id)
        from neighbors.attendance import completion

        completion.complete_event(world.staff(), event_id)
        [record] = hours.records_to_confirm(world.staff())
        record_id = record.id
    log_in(client, world.staff_email)

    ask = post_form(
        client,
        "/staff/hours/review",
        {"record": record_id, "decision": "reject", "reason": "时间不对"},
        headers=EN,
    )
    assert ask.status_code == 200
    assert "Reject 1 record?" in text(ask) and "刘洋" in text(ask) and "2 hours" in text(ask)
    assert 'value="时间不对"' in ask.get_data(as_text=True)  # the reason typed is kept
    with app.app_context():
        assert [r.id for r in hours.records_to_confirm(world.staff())] == [
            record_id
        ]  # nothing rejected yet

    done = post_form(
        client,
        "/staff/hours/review",
        {"record": record_id, "decision": "reject", "sure": "yes", "reason": "时间不对"},
        headers=EN,
    )
    assert "1 record(s) rejected." in text(client.get(done.location, headers=EN))
    with app.app_context():
        assert hours.records_to_confirm(world.staff()) == []


def test_paying_asks_first_saying_the_money_leaves_the_fund(app, client, make):
    team = Team(make)
    team.fund("EDU", opening="500.00")
    subsidy = team.subsidy("EDU", "120.00")
    with app.app_context():
        foundation.approve_subsidy(team.approver, subsidy.id)
    log_in(client, team.emails["cashier"])

    page = client.get(f"/foundation/subsidies/{subsidy.id}/pay", headers=EN)
    assert "Pay 120.00 yuan to 张*?" in text(page)
    assert "120.00 yuan leaves fund EDU 基金" in text(page)
    token = re.search(r'name="once" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    done = post_form(client, f"/foundation/subsidies/{subsidy.id}/pay", {"once": token}, headers=EN)
    assert "is paid and entered in the ledger" in text(client.get(done.location, headers=EN))

    again = client.get(f"/foundation/subsidies/{subsidy.id}/pay", headers=EN)
    assert again.status_code == 302  # paid: nothing to ask any more
    log_in(client, team.emails["preparer"])
    assert client.get(f"/foundation/subsidies/{subsidy.id}/reject").status_code == 403


# -- words ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "short", "required", "phone"),
    [
        (EN, "Please use 8 to 128 characters.", "Please fill this in.", "11-digit mobile"),
        (ZH, "请输入 8 到 128 个字符。", "请填写这一项。", "11 位手机号"),
    ],
)
def test_form_errors_are_plain_and_all_said_on_the_first_submit(
    client, areas_loaded, headers, short, required, phone
):
    form = {"name": "", "phone": "12345", "password": "short", "confirm": "short"}
    page = text(post_form(client, "/register", {**form, "community": COMMUNITY}, headers=headers))
    assert short in page and required in page and phone in page
    assert "字段长度必须介于" not in page and "该字段是必填字段" not in page
    assert "Field must be" not in page and "This field is required" not in page


def test_a_forged_certificate_link_says_not_genuine(client):
    response = client.get("/certificates/verify/forged-token", headers=EN)
    assert response.status_code == 404
    assert "Not a genuine certificate" in text(response)
    assert "<h1>404" not in response.get_data(as_text=True)
    assert "不是真实的证明" in text(client.get("/certificates/verify/forged-token", headers=ZH))


def test_error_pages_have_a_heading_in_words(client):
    page = client.get("/nowhere", headers=EN).get_data(as_text=True)
    assert "<h1>Not found</h1>" in page and "Error 404" in page


@pytest.mark.parametrize(
    ("headers", "written"),
    [(ZH, "2026年12月2日 周三 09:00"), (EN, "Wed 2 Dec 2026, 09:00")],
)
def test_one_way_to_write_a_date_per_language(app, client, world, headers, written):
    start = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    event_id = world.event(starts_at=start, ends_at=start + timedelta(hours=2))
    assert written in text(client.get(f"/events/{event_id}", headers=headers))


def test_hours_always_carry_their_unit(app, client, world):
    volunteer_id, email = world.make.user()
    event_id = world.held_event([volunteer_id], minutes=90)
    with app.app_context():
        attendance.all_present(world.staff(), event_id)
        from neighbors.attendance import completion

        completion.complete_event(world.staff(), event_id)
    log_in(client, email)
    assert "1.5 hours" in text(client.get("/my/hours", headers=EN))
    assert "1.5 小时" in text(client.get("/my/hours", headers=ZH))


def test_staff_see_what_comes_next_first(app, client, world):
    later = world.event(title="下个月的活动", starts_at=utcnow() + timedelta(days=30),
                        ends_at=utcnow() + timedelta(days=30, hours=2))  # fmt: skip
    sooner = world.event(title="明天的活动", starts_at=utcnow() + timedelta(days=1),
                         ends_at=utcnow() + timedelta(days=1, hours=2))  # fmt: skip
    past = world.held_event([], title="上周的活动")
    log_in(client, world.staff_email)
    page = client.get("/staff/events", headers=EN).get_data(as_text=True)
    order = [page.index(f'/events/{i}"') for i in (sooner, later, past)]
    assert order == sorted(order)
    assert page.index("Coming up, soonest first") < order[0] < page.index("Past, latest first")


def test_search_results_come_before_the_filter(client, world):
    world.event(title="助老理发")
    page = client.get("/events?q=理发", headers=EN).get_data(as_text=True)
    assert page.index("助老理发") < page.index('id="filter"')
    empty = client.get("/events?q=没有这个", headers=EN).get_data(as_text=True)
    assert empty.index("No events match.") < empty.index('id="filter"')
    plain = client.get("/events", headers=EN).get_data(as_text=True)
    assert plain.index('id="filter"') < plain.index("助老理发")  # no search: filter on top


# -- the shell ---------------------------------------------------------------------------------


def test_a_phone_can_keep_the_site_on_its_home_screen(client):
    page = client.get("/", headers=EN).get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg"' in page
    with client.get("/static/manifest.json") as response:
        manifest = response.get_json()
    assert manifest["start_url"] == "/home" and manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        with client.get(f"/static/{icon['src']}") as response:
            assert response.status_code == 200
            assert response.mimetype == icon["type"]
    assert client.get("/favicon.ico").location == "/static/favicon.svg"


def test_staff_links_are_in_a_menu_not_on_every_screen(client, world):
    log_in(client, world.staff_email)
    page = client.get("/my/events", headers=EN).get_data(as_text=True)
    menu = page[page.index('<details class="menu">') : page.index("</details>")]
    assert "Manage events" in menu and "Hours to confirm" in menu and "Log out" in menu
    assert "Manage events" not in page[: page.index('<details class="menu">')]


# -- the door screen and the calendar ------------------------------------------------------------


def test_the_door_screen_has_no_navigation_a_qr_and_reloads_as_the_code_changes(
    app, client, world, time_machine
):
    time_machine.move_to(datetime(2030, 5, 1, 1, 2, 30, tzinfo=UTC), tick=False)
    start = datetime(2030, 5, 1, 1, 30, tzinfo=UTC)
    event_id = world.event(starts_at=start, ends_at=start + timedelta(hours=2))
    log_in(client, world.staff_email)
    page = client.get(f"/staff/events/{event_id}/code", headers=EN).get_data(as_text=True)
    assert "Log out" not in page and 'class="site"' not in page  # a public screen
    with app.app_context():
        code = attendance.staff_checkin_code(world.staff(), event_id)
    assert f'id="checkin-code">{code}<' in page
    assert '<meta http-equiv="refresh" content="151">' in page  # 150 s to 01:05, then reload
    assert "A new code at 09:05" in page
    assert page.count("<svg") == 2  # the QR and the countdown
    assert f"http://localhost/events/{event_id}/checkin" in page


def test_the_calendar_page_offers_a_link_to_tap_and_asks_before_a_new_address(app, client, make):
    _id, email = make.user()
    log_in(client, email)
    page = client.get("/my/calendar", headers=EN).get_data(as_text=True)
    feed = re.search(r'id="feed" readonly value="([^"]+)"', page).group(1)
    assert f'href="webcal://{feed.split("://")[1]}"' in page
    assert "Add to my calendar" in page and ".ics" not in text(client.get("/my/calendar"))
    ask = client.get("/my/calendar?renew=1", headers=EN)
    assert "stops working at once" in text(ask)
    assert feed in client.get("/my/calendar").get_data(as_text=True)  # asking changed nothing

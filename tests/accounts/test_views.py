"""Account pages as a browser uses them: forms with CSRF, sessions, masking, languages."""

import re

import pytest

from tests.clients import log_in, post_form
from tests.factories import COMMUNITY, OTHER_COMMUNITY, PASSWORD

EN = {"Accept-Language": "en"}


def register_form(**fields):
    data = {
        "name": "王小明",
        "email": "xm@example.org",
        "phone": "13812345678",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "community": COMMUNITY,
        "consent": "y",
    }
    data.update(fields)
    return data


def test_register_logs_in_and_shows_the_profile_with_a_masked_phone(client, areas_loaded):
    page = client.get("/register?street=210102002", headers=EN).get_data(as_text=True)
    assert "文安路社区" in page and "南湖街道" in page  # the street's communities
    response = post_form(client, "/register", register_form(), headers=EN)
    # Registered and logged in; the number is verified next, with the code sent to it.
    assert response.status_code == 302 and response.location.endswith("/profile/phone")
    page = client.get("/profile", headers=EN).get_data(as_text=True)
    assert "王小明" in page and "138****5678" in page and "13812345678" not in page
    assert "Agreed to version 2026-11" in page


def options_of(page, name):
    """The option labels of one select box of a page."""
    select = re.search(rf'<select id="{name}" name="{name}"[^>]*>(.*?)</select>', page, re.S)
    return re.findall(r"<option[^>]*>([^<]*)</option>", select.group(1)) if select else None


def test_the_community_is_found_by_district_then_street_not_in_a_list_of_all(client, areas_loaded):
    page = client.get("/register", headers=EN).get_data(as_text=True)
    assert "和平区" in options_of(page, "district")
    assert options_of(page, "street") is None  # no street before a district
    assert options_of(page, "community") == ["Choose your community"]
    page = client.get("/register?district=210102", headers=EN).get_data(as_text=True)
    assert options_of(page, "street") == ["Choose a street", "太原街街道", "南湖街道", "北市场街道"]
    assert options_of(page, "community") == ["Choose your community"]
    page = client.get("/register?district=210102&street=210102002", headers=EN).get_data(
        as_text=True
    )
    assert options_of(page, "community") == ["Choose your community", "文安路社区", "三好街社区"]
    # A street of another district (the district was changed) lists no communities.
    page = client.get("/register?district=210103&street=210102002", headers=EN).get_data(
        as_text=True
    )
    assert options_of(page, "community") == ["Choose your community"]


def test_a_community_is_found_by_part_of_its_name(client, areas_loaded):
    page = client.get("/register?community_name=文安", headers=EN).get_data(as_text=True)
    assert options_of(page, "community") == ["Choose your community", "文安路社区"]
    page = client.get("/register?community_name=%25", headers=EN).get_data(as_text=True)
    assert options_of(page, "community") == ["Choose your community"]  # % is a character
    # Registering from the narrowed page keeps the choice.
    response = post_form(client, "/register?community_name=文安", register_form(), headers=EN)
    assert response.status_code == 302


def test_register_errors_are_shown_on_their_fields_and_nothing_is_lost(client, areas_loaded):
    response = post_form(
        client, "/register", register_form(consent="", confirm="different"), headers=EN
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The passwords differ." in page
    assert 'value="王小明"' in page  # what was typed is kept
    post_form(client, "/register", register_form(), headers=EN)
    client.post("/logout", data={"csrf_token": _token(client)})
    page = post_form(
        client, "/register", register_form(email="XM@example.org", phone=""), headers=EN
    ).get_data(as_text=True)
    assert "already registered" in page


def _token(client):
    from tests.clients import csrf_token

    return csrf_token(client)


def test_forms_without_a_csrf_token_are_refused(client, make):
    _id, email = make.user()
    response = client.post("/login", data={"login": email, "password": PASSWORD})
    assert response.status_code == 400
    response = client.post("/register", data=register_form())
    assert response.status_code == 400


def test_log_in_with_phone_log_out_and_wrong_password(client, make):
    make.user(phone="13900001111")
    page = post_form(
        client, "/login", {"login": "13900001111", "password": "nope"}, headers=EN
    ).get_data(as_text=True)
    assert "Wrong login or password." in page
    log_in(client, "139 0000 1111")
    assert client.get("/profile").status_code == 200
    response = post_form(client, "/logout", {})
    assert response.status_code == 302
    assert client.get("/profile").status_code == 302


def test_login_redirects_only_to_local_pages(client, make):
    _id, email = make.user()
    response = post_form(
        client, "/login?next=https://evil.example/", {"login": email, "password": PASSWORD}
    )
    assert response.location == "/home"
    client.post("/logout", data={"csrf_token": _token(client)})
    response = post_form(
        client, "/login?next=/profile/edit", {"login": email, "password": PASSWORD}
    )
    assert response.location == "/profile/edit"


@pytest.mark.parametrize(
    ("role", "home"),
    [
        ("volunteer", "/my/events"),
        ("staff", "/staff/events"),
        ("cashier", "/foundation/"),
        ("accountant", "/foundation/"),
        ("admin", "/staff/events"),
    ],
)
def test_a_login_lands_on_the_roles_own_home(client, make, role, home):
    _id, email = make.user(role=role)
    response = post_form(client, "/login", {"login": email, "password": PASSWORD})
    assert response.location == "/home"
    assert client.get("/home").location == home
    assert client.get("/login").location == "/home"  # already in: home again


def test_home_for_a_visitor_is_the_event_list(client):
    assert client.get("/home").location == "/events"


def test_changing_the_password_logs_out_a_copied_session(app, client, make):
    _id, email = make.user()
    log_in(client, email)
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    assert thief.get("/profile").status_code == 200
    response = post_form(
        client,
        "/profile/password",
        {
            "current_password": PASSWORD,
            "new_password": "a brand new one",
            "confirm": "a brand new one",
        },
    )
    assert response.status_code == 302
    assert client.get("/profile").status_code == 200
    assert thief.get("/profile").status_code == 302


def test_edit_profile(client, make):
    _id, email = make.user(phone="13900001111")
    log_in(client, email)
    page = client.get("/profile/edit", headers=EN).get_data(as_text=True)
    assert "139****1111" in page and "13900001111" not in page
    response = post_form(
        client,
        "/profile/edit",
        {
            "name": "改名",
            "email": email,
            "phone": "",
            "community": OTHER_COMMUNITY,
            "grid": "",
            "locale": "en",
        },
    )
    assert response.status_code == 302
    page = client.get("/profile").get_data(as_text=True)
    assert "改名" in page and "青年大街社区" in page and "My profile" in page


def test_changing_the_e_mail_address_on_the_profile_asks_for_the_password(client, make):
    _id, email = make.user(phone="13900001111")
    log_in(client, email)
    form = {"name": "改名", "email": "thief@example.org", "phone": "", "community": COMMUNITY}
    page = client.get("/profile/edit", headers=EN).get_data(as_text=True)
    assert 'name="current_password"' in page and 'autocomplete="current-password"' in page
    for password in ("", "not the password"):
        response = post_form(
            client, "/profile/edit", {**form, "current_password": password}, headers=EN
        )
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert "current password" in text and 'id="current_password-error"' in text
        assert "thief@example.org" not in client.get("/profile").get_data(as_text=True)
    phone = {**form, "email": email, "phone": "13900002222", "current_password": "wrong!!"}
    assert post_form(client, "/profile/edit", phone).status_code == 200
    assert "139****1111" in client.get("/profile").get_data(as_text=True)
    response = post_form(client, "/profile/edit", {**form, "current_password": PASSWORD})
    assert response.status_code == 302
    assert "thief@example.org" in client.get("/profile").get_data(as_text=True)


def test_language_switch_and_browser_default(client, areas_loaded):
    assert "登录" in client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).text
    assert "Log in" in client.get("/", headers=EN).text
    post_form(client, "/language", {"lang": "en", "next": "/register"})
    page = client.get("/", headers={"Accept-Language": "zh-CN"}).text
    assert "Log in" in page and 'lang="en"' in page
    response = post_form(client, "/language", {"lang": "zh", "next": "//evil.example/"})
    assert response.location == "/"
    assert "登录" in client.get("/", headers=EN).text


def test_party_report_in_and_staff_confirmation(app, client, make):
    _id, member = make.user()
    _id, staff = make.user(role="staff", community=COMMUNITY)
    _id, other_staff = make.user(role="staff", community=OTHER_COMMUNITY)
    log_in(client, member)
    response = post_form(
        client,
        "/profile/party",
        {
            "branch": "税务局第三党支部",
            "work_unit": "沈阳市税务局",
            "community": COMMUNITY,
            "grid": "",
            "reported_on": "2026-03-05",
        },
    )
    assert response.status_code == 302
    assert "Waiting for confirmation" in client.get("/profile/party", headers=EN).text
    assert client.get("/staff/party-members").status_code == 403

    other = app.test_client()
    log_in(other, other_staff)
    assert "税务局第三党支部" not in other.get("/staff/party-members").text
    member_id = _id - 2
    assert post_form(other, f"/staff/party-members/{member_id}/confirm", {}).status_code == 404

    manager = app.test_client()
    log_in(manager, staff)
    page = manager.get("/staff/party-members").text
    assert "税务局第三党支部" in page
    action = re.search(r'action="(/staff/party-members/\d+/confirm)"', page).group(1)
    assert post_form(manager, action, {}).status_code == 302
    assert "Confirmed" in client.get("/profile/party", headers=EN).text


def test_error_pages_are_friendly(client, areas_loaded):
    response = client.get("/no/such/page", headers=EN)
    assert response.status_code == 404 and "does not exist" in response.text
    assert "Back to the home page" in response.text


def test_pages_that_need_an_account_send_visitors_to_log_in_and_back(client, make):
    _id, email = make.user()
    response = client.get("/profile/edit?x=1", headers=EN)
    assert response.status_code == 302
    assert response.location == "/login?next=/profile/edit?x%3D1"
    assert "Please log in to see this page." in client.get(response.location, headers=EN).text
    response = post_form(client, response.location, {"login": email, "password": PASSWORD})
    assert response.location == "/profile/edit?x=1"


def test_hostile_urls_and_fields_get_4xx_not_500(client, make):
    _id, email = make.user(role="staff")
    log_in(client, email)
    assert client.get("/admin/areas/districts/%00").status_code == 400
    assert (
        post_form(client, "/staff/party-members/99999999999999999999/confirm", {}).status_code
        == 404
    )
    assert post_form(client, "/login", {"login": "a\x00b", "password": "x"}).status_code == 400


def test_a_refused_action_goes_back_to_the_page_with_the_reason(app, client, make):
    _id, member = make.user()
    staff_id, staff = make.user(role="staff", community=COMMUNITY)
    log_in(client, member)
    post_form(
        client,
        "/profile/party",
        {
            "branch": "支部",
            "work_unit": "单位",
            "community": COMMUNITY,
            "grid": "",
            "reported_on": "2026-03-05",
        },
    )
    manager = app.test_client()
    log_in(manager, staff)
    url = f"/staff/party-members/{_id}/confirm"
    post_form(manager, url, {})
    again = post_form(
        manager, url, {}, headers={"Referer": "http://localhost/staff/party-members", **EN}
    )
    assert again.status_code == 302 and again.location == "/staff/party-members"
    assert "already been reviewed" in manager.get(again.location, headers=EN).text
    evil = post_form(manager, url, {}, headers={"Referer": "https://evil.example/x"})
    assert evil.status_code == 409


def test_the_stylesheet_is_served(client):
    with client.get("/static/style.css") as response:
        assert response.status_code == 200 and "font-family" in response.text

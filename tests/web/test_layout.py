"""The base layout's header and footer are rendered once and kept (neighbors.web.layout): each
person still sees their own menu, in their language, with their own CSRF token."""

import re

from neighbors.accounts import services as accounts
from tests.clients import log_in

EN, ZH = {"Accept-Language": "en"}, {"Accept-Language": "zh"}


def header(page):
    return page[page.index('<header class="site">') : page.index("</header>")]


def tokens(page):
    return set(re.findall(r'name="csrf_token" value="([^"]+)"', page))


def test_each_person_sees_their_own_menu_in_their_language(app, client, make):
    _id, volunteer = make.user()
    _id, staff = make.user(role="staff")
    _id, admin = make.user(role="admin")
    _id, street_staff = make.user()
    with app.app_context():
        accounts.grant_role(street_staff, "staff", street_code="210102002")
    clients = {"visitor": client}
    for name, email in [
        ("volunteer", volunteer),
        ("staff", staff),
        ("admin", admin),
        ("street staff", street_staff),
    ]:
        clients[name] = app.test_client()
        log_in(clients[name], email)
    # Twice round, in turns and in both languages: the second round reads what the first kept.
    for _round in range(2):
        for name, viewer in clients.items():
            en = header(viewer.get("/privacy", headers=EN).text)
            zh = header(viewer.get("/privacy", headers=ZH).text)
            assert 'aria-current="true" disabled>English' in en, name
            assert 'aria-current="true" disabled>简体中文' in zh, name
            if name == "visitor":
                assert "Log in" in en and "登录" in zh and "Log out" not in en
                continue
            assert "Log out" in en and "退出" in zh and "Log in" not in en
            assert ("Manage events" in en) == (name != "volunteer"), name
            assert ("People and roles" in en) == (name in ("admin", "street staff")), name
            assert ("Audit log" in en) == (name == "admin"), name


def test_the_menu_carries_this_sessions_token_and_its_log_out_works(app, client, make):
    _id, first = make.user(role="staff")
    _id, second = make.user(role="staff")
    other = app.test_client()
    log_in(client, first)
    log_in(other, second)
    mine, theirs = client.get("/privacy").text, other.get("/privacy").text
    assert len(tokens(mine)) == 1 and len(tokens(theirs)) == 1
    assert tokens(mine) != tokens(theirs)
    assert re.search(r'name="csrf-token" content="([^"]+)"', mine).group(1) in tokens(mine)
    answer = other.post("/logout", data={"csrf_token": tokens(theirs).pop()})
    assert answer.status_code == 302
    assert other.get("/my/events").status_code == 302  # logged out
    assert client.get("/my/events").status_code == 200  # the other session goes on


def test_the_language_form_returns_to_this_page_escaped(client):
    client.get("/privacy?q=first")
    page = client.get('/events?q=<b>"x"').text
    assert 'name="next" value="/events?q=%3Cb%3E%22x%22"' in page or (
        'name="next" value="/events?q=&lt;b&gt;&#34;x&#34;"' in page
    )
    assert "<b>" not in header(page)


def test_links_follow_the_address_prefix_of_the_request(client):
    plain = client.get("/privacy").text
    prefixed = client.get("/privacy", base_url="http://localhost/city/").text
    again = client.get("/privacy").text
    assert 'href="/events"' in plain and 'href="/static/style.css"' in plain
    assert 'href="/city/events"' in prefixed and 'href="/city/static/style.css"' in prefixed
    assert 'href="/city/privacy"' in prefixed and 'action="/city/language"' in prefixed
    assert again == plain

"""The page cache (neighbors.core.cache): what many read alike is kept a few seconds, and it
never shows one person's page to another, never mixes languages, and never lets a sign-up
through on a count it kept."""

import re

from neighbors.core import cache
from neighbors.events import services as events
from tests.clients import csrf_token, logged_in, post_form
from tests.factories import person

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh"}


def places(page):
    return re.search(r'<p class="seats">\s*(.*?)\s*</p>', page, re.S).group(1)


def test_the_list_lags_by_its_lifetime_but_a_sign_up_never_does(app, cached_pages, factory):
    event_id = factory.event(title="最后一个位置", capacity=1)
    (first, first_email), (second, second_email) = factory.make.user(), factory.make.user()
    anonymous = app.test_client()
    assert places(anonymous.get("/events", headers=EN).text) == "1 place left"

    taker = logged_in(app, first_email)
    assert post_form(taker, f"/events/{event_id}/signup", {}).status_code == 302
    # The list may still say a place is left (it is kept), the event page never does.
    assert places(anonymous.get("/events", headers=EN).text) == "1 place left"
    assert "0 of 1 left" in anonymous.get(f"/events/{event_id}", headers=EN).text

    late = logged_in(app, second_email)
    post_form(late, f"/events/{event_id}/signup", {})
    assert "You are number 1 on the waitlist." in late.get(f"/events/{event_id}", headers=EN).text
    with app.app_context():
        cache.clear()  # the lifetime is over
    assert "Full" in places(anonymous.get("/events", headers=EN).text)
    del first, second


def test_nobody_sees_another_persons_page(app, cached_pages, factory):
    event_id = factory.event(title="读书会")
    (first, first_email), (second, second_email) = factory.make.user(), factory.make.user()
    first_client, second_client = logged_in(app, first_email), logged_in(app, second_email)
    assert post_form(first_client, f"/events/{event_id}/signup", {}).status_code == 302
    with app.app_context():
        first_name, second_name = person(first).name, person(second).name

    # The first person fills the cache with both pages; the others get their own around it.
    pages = {"first": first_client, "second": second_client, "anonymous": app.test_client()}
    for path in ("/events", f"/events/{event_id}"):
        seen = {who: client.get(path, headers=EN).text for who, client in pages.items()}
        assert "读书会" in seen["first"] and "读书会" in seen["second"]
        assert "读书会" in seen["anonymous"]
        assert "My events" in seen["first"] and "My events" in seen["second"]
        assert "My events" not in seen["anonymous"] and "Log in" in seen["anonymous"]
        for who, client in pages.items():
            # The session's own secret (a signed token's first part; its time stamp varies).
            token = csrf_token(client).split(".")[0]
            assert f'content="{token}.' in seen[who]
            assert all(token not in seen[other] for other in pages if other != who)
        for page in seen.values():
            assert first_name not in page and second_name not in page
    detail = {
        who: client.get(f"/events/{event_id}", headers=EN).text for who, client in pages.items()
    }
    assert "You are signed up." in detail["first"]
    assert "You are signed up." not in detail["second"] and ">Join<" in detail["second"]
    assert "Log in to join" in detail["anonymous"]


def test_each_language_and_filter_has_its_own_list(app, cached_pages, factory):
    factory.event(title="敬老活动", category="warmth")
    factory.event(title="科普活动", category="technology")
    client = app.test_client()
    english = client.get("/events", headers=EN).text
    chinese = client.get("/events", headers=ZH).text
    assert "Volunteer service events" in english and "Volunteer service events" not in chinese
    assert "敬老活动" in english and "科普活动" in english
    narrowed = client.get("/events?category=technology", headers=EN).text
    assert "科普活动" in narrowed and "敬老活动" not in narrowed
    # A page the person asked in one language is not answered from the other's.
    again = client.get("/events", headers=ZH).text
    assert "Volunteer service events" not in again


def test_an_edit_shows_on_the_event_page_at_once(app, cached_pages, factory):
    event_id = factory.event(title="旧标题")
    staff = logged_in(app, factory.staff_email)
    assert "旧标题" in staff.get(f"/events/{event_id}", headers=EN).text
    with app.app_context():
        events.update_event(factory.staff(), event_id, title="新标题")
    page = app.test_client().get(f"/events/{event_id}", headers=EN).text
    assert "新标题" in page and "旧标题" not in page

"""Event pages: the public list and detail, sign-up and cancel, my events, staff pages."""

import re
from datetime import timedelta

from neighbors.core.db import utcnow
from tests.clients import log_in, post_form
from tests.factories import COMMUNITY, OTHER_COMMUNITY

EN = {"Accept-Language": "en"}


def test_public_list_filters_and_pages(client, factory):
    base = utcnow() + timedelta(days=1)
    for i in range(25):
        factory.event(
            title=f"活动{i:02d}",
            starts_at=base + timedelta(hours=i),
            ends_at=base + timedelta(hours=i, minutes=30),
        )
    factory.event(
        title="别的社区活动",
        community=OTHER_COMMUNITY,
        starts_at=base,
        ends_at=base + timedelta(hours=1),
    )
    factory.event(title="草稿", publish=False)
    page = client.get("/events", headers=EN).text
    assert "活动00" in page and "别的社区活动" in page and "草稿" not in page
    more = re.search(r'href="(/events\?cursor=[^"]+)"', page).group(1)
    second = client.get(more.replace("&amp;", "&"), headers=EN).text
    assert "活动19" in second and "活动00" not in second
    page = client.get(f"/events?community={COMMUNITY}&q=活动2", headers=EN).text
    assert "活动20" in page and "活动24" in page and "活动19" not in page
    assert "别的社区活动" not in page
    assert client.get("/events?cursor=garbage", headers=EN).status_code == 422
    assert client.get("/events?date_from=not-a-date", headers=EN).status_code == 200


def test_volunteer_joins_waits_and_is_promoted(app, client, factory):
    event_id = factory.event(capacity=1)
    _first, first_email = factory.make.user()
    _second, second_email = factory.make.user()
    log_in(client, first_email)
    page = client.get(f"/events/{event_id}", headers=EN).text
    assert "1 of 1 left" in page
    assert post_form(client, f"/events/{event_id}/signup", {}).status_code == 302
    assert "You are signed up." in client.get(f"/events/{event_id}", headers=EN).text

    other = app.test_client()
    log_in(other, second_email)
    post_form(other, f"/events/{event_id}/signup", {})
    assert "You are number 1 on the waitlist." in other.get(f"/events/{event_id}", headers=EN).text
    assert "Number 1 on the waitlist" in other.get("/my/events", headers=EN).text

    post_form(client, f"/events/{event_id}/cancel-signup", {})
    assert "You are signed up." in other.get(f"/events/{event_id}", headers=EN).text
    assert "Confirmed" in other.get("/my/events", headers=EN).text


def test_a_closed_event_says_why(client, factory):
    now = utcnow()
    event_id = factory.event(starts_at=now - timedelta(hours=3), ends_at=now - timedelta(hours=1))
    _id, email = factory.make.user()
    log_in(client, email)
    response = post_form(
        client,
        f"/events/{event_id}/signup",
        {},
        headers={"Referer": f"http://localhost/events/{event_id}", **EN},
    )
    assert response.status_code == 302
    assert "sign-up is closed" in client.get(response.location, headers=EN).text


def test_anonymous_visitors_are_asked_to_log_in_to_join(client, factory):
    event_id = factory.event()
    assert "Log in to join" in client.get(f"/events/{event_id}", headers=EN).text
    response = post_form(client, f"/events/{event_id}/signup", {})
    assert response.status_code == 302 and "/login" in response.location


def test_staff_create_publish_roster_and_cancel(client, factory, make):
    log_in(client, factory.staff_email)
    page = client.get("/staff/events/new", headers=EN).text
    assert "文安路社区" in page and "青年大街社区" not in page  # only their own communities
    response = post_form(
        client,
        "/staff/events/new",
        {
            "community": COMMUNITY,
            "title": "助老理发",
            "category": "warmth",
            "venue": "服务站",
            "description": "",
            "starts_at": "2030-05-01T09:00",
            "ends_at": "2030-05-01T11:00",
            "capacity": "2",
        },
    )
    assert response.status_code == 302
    event_id = int(response.location.rsplit("/", 1)[1])
    assert "Draft" in client.get(f"/events/{event_id}", headers=EN).text
    assert client.get(f"/events/{event_id}").status_code == 200
    post_form(client, f"/staff/events/{event_id}/publish", {})
    page = client.get(f"/events/{event_id}", headers=EN).text
    assert "2030" in page and "09:00" in page  # shown in Asia/Shanghai, as typed
    assert "Publish" not in page

    response = post_form(
        client,
        f"/staff/events/{event_id}/edit",
        {
            "community": COMMUNITY,
            "title": "助老理发",
            "category": "warmth",
            "venue": "服务站",
            "description": "",
            "starts_at": "2030-05-01T09:00",
            "ends_at": "2030-05-01T08:00",
            "capacity": "2",
        },
        headers=EN,
    )
    assert "The end must be after the start." in response.text

    assert client.get(f"/staff/events/{event_id}/roster", headers=EN).status_code == 200
    response = post_form(client, f"/staff/events/{event_id}/cancel", {"reason": "场地维修"})
    assert response.status_code == 302
    assert "场地维修" in client.get(f"/events/{event_id}", headers=EN).text


def test_staff_of_another_community_and_volunteers_are_kept_out(app, client, factory, make):
    event_id = factory.event(publish=False)
    _id, other = make.user(role="staff", community=OTHER_COMMUNITY)
    log_in(client, other)
    assert client.get(f"/events/{event_id}").status_code == 404
    assert client.get(f"/staff/events/{event_id}/roster").status_code == 404
    assert post_form(client, f"/staff/events/{event_id}/publish", {}).status_code == 404
    volunteer = app.test_client()
    log_in(volunteer, make.user()[1])
    assert volunteer.get("/staff/events").status_code == 403
    assert volunteer.get("/staff/events/new").status_code == 403


def test_series_form_creates_drafts(client, factory):
    log_in(client, factory.staff_email)
    response = post_form(
        client,
        "/staff/series/new",
        {
            "community": COMMUNITY,
            "title": "社区奉献日",
            "category": "party_building",
            "venue": "党群服务站",
            "description": "",
            "starts_at": "2030-01-05T09:00",
            "ends_at": "2030-01-05T12:00",
            "capacity": "30",
            "dedication_day": "y",
            "frequency": "monthly",
            "count": "3",
        },
    )
    assert response.status_code == 302
    page = client.get("/staff/events", headers=EN).text
    assert page.count("社区奉献日") == 3


def test_forms_refuse_impossible_years(client, factory):
    log_in(client, factory.staff_email)
    response = post_form(
        client,
        "/staff/events/new",
        {
            "community": COMMUNITY,
            "title": "x",
            "category": "warmth",
            "venue": "y",
            "description": "",
            "starts_at": "0001-01-01T00:00",
            "ends_at": "0001-01-01T01:00",
            "capacity": "2",
        },
        headers=EN,
    )
    assert response.status_code == 200 and "between the years 2000 and 2099" in response.text
    assert client.get("/events?date_from=0001-01-01&date_to=9999-12-31").status_code == 200

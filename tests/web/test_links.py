"""Absolute links all come from one base URL (issue 12): the .ics file, the calendar feed, the
certificate's check link and QR code, the check-in address and e-mails agree with each other."""

import re
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

import config
from neighbors.core.db import utcnow
from neighbors.core.links import absolute_url, base_url
from neighbors.core.outbox import OutboxMessage
from neighbors.core.timezone import local_today
from neighbors.events import services as events
from neighbors.extensions import db
from neighbors.hours import services as hours
from neighbors.hours.qr import qr_svg
from tests.clients import bearer, log_in, token_for
from tests.factories import EventFactory, person

SITE = "https://neighbors.example.org"
# The address a request came to: another host and port than the site's (a proxy, a LAN address).
ELSEWHERE = "http://10.0.0.5:5077"


def ics_url(client, path):
    (entry,) = Calendar.from_ical(client.get(path).data).walk("VEVENT")
    return str(entry["url"]), str(entry["uid"])


def a_certificate(app, factory, volunteer_id):
    with app.app_context():
        record = hours.submit_service(
            person(volunteer_id),
            activity="教老人用手机",
            place="社区",
            organiser="社区",
            served_on=local_today() - timedelta(days=1),
            minutes=90,
        )
        hours.review(factory.staff(), [record.id], confirm=True)
        certificate = hours.issue_certificate(
            person(volunteer_id), local_today() - timedelta(days=7), local_today()
        )
        return certificate.serial, hours.certificate_token(certificate)


@pytest.fixture
def factory(app, make):
    return EventFactory(app, make)


@pytest.fixture(autouse=True)
def elsewhere(app, monkeypatch):
    """The test client's requests come to ELSEWHERE (SERVER_NAME only sets its default host)."""
    monkeypatch.setitem(app.config, "SERVER_NAME", ELSEWHERE.removeprefix("http://"))


@pytest.fixture
def site(app, monkeypatch):
    monkeypatch.setitem(app.config, "BASE_URL", SITE + "/")


def test_every_link_uses_the_configured_base_url(app, client, factory, site):
    event_id = factory.event()
    volunteer_id, email = factory.make.user()
    serial, token = a_certificate(app, factory, volunteer_id)
    with app.app_context():
        events.sign_up(person(volunteer_id), event_id)
    log_in(client, email)

    assert ics_url(client, f"/events/{event_id}.ics") == (
        f"{SITE}/events/{event_id}",
        f"event-{event_id}@neighbors.example.org",
    )
    page = client.get("/my/calendar").text
    feed = re.search(r'id="feed" readonly value="([^"]+)"', page).group(1)
    assert feed.startswith(f"{SITE}/calendar/")
    assert ics_url(client, feed.removeprefix(SITE))[0] == f"{SITE}/events/{event_id}"

    page = client.get(f"/my/certificates/{serial}").text
    link = f"{SITE}/certificates/verify/{token}"
    assert f'<a href="{link}">{link}</a>' in page
    assert str(qr_svg(link, fluid=True)) in page  # the QR code says the same address
    assert ELSEWHERE not in page

    api = token_for(client, email)
    response = client.post(
        "/api/v1/me/certificates",
        json={
            "from": (local_today() - timedelta(days=7)).isoformat(),
            "to": local_today().isoformat(),
        },
        headers=bearer(api),
    )
    assert response.json.get("verify_url", "").startswith(f"{SITE}/certificates/verify/")

    staff = app.test_client()
    log_in(staff, factory.staff_email)
    with app.app_context():
        other = factory.event(capacity=1)
        soon = utcnow() + timedelta(minutes=10)
        door = factory.event(starts_at=soon, ends_at=soon + timedelta(hours=2))
    for screen in ("attendance", "code"):  # where volunteers are told to type in the code
        page = staff.get(f"/staff/events/{door}/{screen}").text
        assert f"{SITE}/events/{door}/checkin" in page and ELSEWHERE not in page

    # an e-mail sent in a request (a seat freed for the next person) links to the site as well
    with app.app_context():
        first, second = factory.volunteers(2)
        events.sign_up(person(first), other)
        events.sign_up(person(second), other)
    with app.test_request_context(base_url=ELSEWHERE):
        events.cancel_signup(person(first), other)
        (message,) = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.to_address == person(second).email)
        ).all()
    assert f"{SITE}/events/{other}" in message.body


def test_without_a_base_url_links_follow_the_request_and_agree(app, client, factory, monkeypatch):
    """Development without BASE_URL: the address the browser used, for every link alike."""
    monkeypatch.setitem(app.config, "BASE_URL", config.DevelopmentConfig.BASE_URL)  # not set
    monkeypatch.setenv("PORT", "5077")
    event_id = factory.event()
    volunteer_id, email = factory.make.user()
    serial, token = a_certificate(app, factory, volunteer_id)
    log_in(client, email)
    url, uid = ics_url(client, f"/events/{event_id}.ics")
    assert url == f"{ELSEWHERE}/events/{event_id}"
    assert uid == f"event-{event_id}@127.0.0.1"  # an identifier: never from the request
    page = client.get(f"/my/certificates/{serial}").text
    assert f'href="{ELSEWHERE}/certificates/verify/{token}"' in page
    with app.app_context():  # outside a request (the scheduler): the port manage.py serves on
        assert base_url() == "http://127.0.0.1:5077"
        assert (
            absolute_url("hours.queue", overdue=1) == "http://127.0.0.1:5077/staff/hours?overdue=1"
        )

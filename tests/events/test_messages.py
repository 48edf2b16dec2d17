"""Messages to a roster: staff (or the organising coordinators) write to everyone confirmed, by
each person's channel; the
message shows on the event's page to them; limited per event; audit-logged without numbers."""

import pytest
from limits.storage import MemoryStorage
from sqlalchemy import select

from neighbors.core.audit import AuditEntry
from neighbors.core.errors import Conflict, Invalid, NotAllowed, NotFound, TooManyAttempts
from neighbors.core.outbox import OutboxMessage
from neighbors.core.sms_outbox import SmsMessage
from neighbors.events import services as events
from neighbors.extensions import db
from neighbors.organisations import services as organisations
from tests.clients import csrf_token, log_in
from tests.factories import COMMUNITY, OTHER_COMMUNITY, person

EN = {"Accept-Language": "en"}
TEXT = "明早八点在服务站门口集合，带好手套。"


def test_everyone_confirmed_is_told_by_their_channel(ctx, factory, make):
    event_id = factory.event(capacity=2)
    by_email, _ = make.user()
    by_sms, _ = make.user(email=None, phone="13900000021")
    waiting, _ = make.user()
    for user_id in (by_email, by_sms, waiting):
        events.sign_up(person(user_id), event_id)
    message = events.send_message(factory.staff(), event_id, f"  {TEXT}  ")
    assert message.recipients == 2 and message.text == TEXT
    [mail] = db.session.scalars(select(OutboxMessage)).all()
    assert mail.to_address == person(by_email).email and TEXT in mail.body
    [text] = db.session.scalars(select(SmsMessage)).all()
    assert text.phone == "13900000021" and TEXT in text.text and len(text.text) <= 70
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "event.message"))
    assert entry.detail == {"recipients": 2, "length": len(TEXT)}
    assert "13900000021" not in str(entry.detail)


def test_only_staff_of_the_community_may_write_and_only_a_short_message(ctx, factory, make):
    event_id = factory.event()
    other_staff, _ = make.user(role="staff", community=OTHER_COMMUNITY)
    with pytest.raises(NotFound):
        events.send_message(person(other_staff), event_id, TEXT)
    with pytest.raises(Invalid):
        events.send_message(factory.staff(), event_id, "长" * 301)
    with pytest.raises(Invalid):
        events.send_message(factory.staff(), event_id, "   ")
    draft_id = factory.event(publish=False)
    with pytest.raises(Conflict):
        events.send_message(factory.staff(), draft_id, TEXT)


def test_the_coordinators_of_the_organisation_that_runs_the_event_write_to_its_roster(
    ctx, factory, make
):
    team = organisations.register(
        factory.staff(), name="文安路志愿服务队", kind="volunteer_team", community_code=COMMUNITY
    )
    coordinator, _ = make.user()
    member, _ = make.user()
    organisations.add_member(factory.staff(), team.id, coordinator, "coordinator")
    organisations.add_member(factory.staff(), team.id, member, "member")
    event_id = factory.event(organisation_id=team.id)
    phone_only, _ = make.user(email=None, phone="13900000022")
    events.sign_up(person(phone_only), event_id)

    message = events.send_message(person(coordinator), event_id, TEXT)

    assert message.recipients == 1 and message.author_id == coordinator
    [text] = db.session.scalars(select(SmsMessage)).all()
    assert text.phone == "13900000022" and TEXT in text.text
    with pytest.raises(NotAllowed):  # a plain member does not run it
        events.send_message(person(member), event_id, TEXT)
    with pytest.raises(NotAllowed):  # nor do they write to the community's other events
        events.send_message(person(coordinator), factory.event(), TEXT)


def test_messages_are_limited_per_event(ctx, factory, app, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_ENABLED", True)
    monkeypatch.setitem(app.config, "ROSTER_MESSAGE_LIMIT", "2 per hour")
    monkeypatch.setitem(app.extensions, "neighbors_counters", MemoryStorage())
    app.extensions.pop("neighbors_counters", None)
    try:
        event_id = factory.event()
        events.send_message(factory.staff(), event_id, "一")
        events.send_message(factory.staff(), event_id, "二")
        with pytest.raises(TooManyAttempts):
            events.send_message(factory.staff(), event_id, "三")
        events.send_message(factory.staff(), factory.event(), "另一个活动")  # its own count
    finally:
        app.extensions.pop("neighbors_counters", None)


def test_the_roster_page_sends_and_the_event_page_shows_it_to_those_people(app, factory, make):
    with app.app_context():
        event_id = factory.event(capacity=1)
        confirmed, confirmed_email = make.user()
        waiting, waiting_email = make.user()
        events.sign_up(person(confirmed), event_id)
        events.sign_up(person(waiting), event_id)
    staff = app.test_client()
    log_in(staff, factory.staff_email)
    roster = staff.get(f"/staff/events/{event_id}/roster", headers=EN).text
    assert "Message to everyone confirmed" in roster
    sent = staff.post(
        f"/staff/events/{event_id}/messages",
        data={"text": TEXT, "csrf_token": csrf_token(staff)},
        headers=EN,
    )
    assert sent.status_code == 302
    assert TEXT in staff.get(f"/staff/events/{event_id}/roster", headers=EN).text
    for email, sees in ((confirmed_email, True), (waiting_email, False)):
        client = app.test_client()
        log_in(client, email)
        assert (TEXT in client.get(f"/events/{event_id}", headers=EN).text) is sees
    assert TEXT not in app.test_client().get(f"/events/{event_id}").text


def test_the_api_queues_a_message(app, client, factory, make):
    from tests.factories import PASSWORD

    with app.app_context():
        event_id = factory.event()
        volunteer, _ = make.user()
        events.sign_up(person(volunteer), event_id)
    login = {"login": factory.staff_email, "password": PASSWORD}
    token = client.post("/api/v1/tokens", json=login).json["token"]
    auth = {"Authorization": f"Bearer {token}"}
    answer = client.post(f"/api/v1/events/{event_id}/messages", json={"text": TEXT}, headers=auth)
    assert answer.status_code == 202 and answer.json["recipients"] == 1
    empty = client.post(f"/api/v1/events/{event_id}/messages", json={"text": ""}, headers=auth)
    assert empty.status_code == 422

"""Notices go by each person's channel: a phone-only volunteer promoted from the waitlist gets a
text message; people choose e-mail, SMS or both on their profile."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from neighbors.accounts import services as accounts
from neighbors.core.db import utcnow
from neighbors.core.errors import Invalid
from neighbors.core.outbox import OutboxMessage
from neighbors.core.sms_outbox import SmsMessage
from neighbors.events import services as events
from neighbors.extensions import db
from neighbors.jobs import tasks
from tests.clients import log_in, post_form
from tests.conftest import sent_texts
from tests.factories import PASSWORD, person

PHONE = "13912345678"
EN = {"Accept-Language": "en"}


def emails():
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def texts():
    return db.session.scalars(select(SmsMessage).order_by(SmsMessage.id)).all()


def test_a_phone_only_volunteer_promoted_from_the_waitlist_gets_a_text(
    ctx, factory, make, sms_files
):
    event_id = factory.event(capacity=1, title="社区奉献日：清扫楼道")
    (first,) = factory.volunteers(1)
    phone_only, _ = make.user(email=None, phone=PHONE, name="王大爷")
    events.sign_up(person(first), event_id)
    assert str(events.sign_up(person(phone_only), event_id).signup.status) == "waitlisted"

    events.cancel_signup(person(first), event_id)

    assert emails() == []  # nobody to e-mail: the promotion goes by SMS
    assert tasks.deliver_sms(utcnow()) == {"sent": 1, "retry": 0, "failed": 0}
    [text] = sent_texts(sms_files)
    assert text["to"] == PHONE and text["template"] == "events/promoted"
    assert "社区奉献日：清扫楼道" in text["text"]
    assert text["params"]["title"] == "社区奉献日：清扫楼道"
    assert len(text["text"]) <= 70
    assert tasks.deliver_sms(utcnow() + timedelta(minutes=5))["sent"] == 0  # once
    assert len(sent_texts(sms_files)) == 1


def test_reminders_and_cancellations_reach_each_person_by_their_channel(ctx, factory, make):
    start = utcnow() + timedelta(hours=20)
    event_id = factory.event(capacity=5, starts_at=start, ends_at=start + timedelta(hours=2))
    by_email, _ = make.user(phone="13900000001")
    by_sms, _ = make.user(phone="13900000002")
    by_both, _ = make.user(phone="13900000003")
    phone_only, _ = make.user(email=None, phone="13900000004")
    for user_id, channel in ((by_sms, "sms"), (by_both, "both")):
        user = person(user_id)
        accounts.update_profile(
            user, name=user.name, email=user.email, phone="", community_code=None,
            grid_code="", locale=None, channel=channel,
        )  # fmt: skip
    for user_id in (by_email, by_sms, by_both, phone_only):
        events.sign_up(person(user_id), event_id)

    assert events.send_reminders(utcnow(), (24, 2)) == 4
    assert sorted(m.to_address for m in emails()) == sorted(
        [person(by_email).email, person(by_both).email]
    )
    assert sorted(m.phone for m in texts()) == ["13900000002", "13900000003", "13900000004"]

    events.cancel_event(factory.staff(), event_id, "暴雨")
    assert len(emails()) == 4 and len(texts()) == 6
    assert all(m.template == "events/cancelled" for m in texts()[3:])


def test_texts_are_in_the_persons_language_and_within_70_characters(ctx, factory, make):
    event_id = factory.event(capacity=1, title="社区奉献日：为独居老人清扫楼道、更换灯泡和检查燃气")
    (first,) = factory.volunteers(1)
    zh, _ = make.user(email=None, phone="13900000005")
    en, _ = make.user(email=None, phone="13900000006")
    accounts.set_locale(person(en), "en")
    events.sign_up(person(first), event_id)
    events.sign_up(person(zh), event_id)
    events.sign_up(person(en), event_id)
    events.cancel_signup(person(first), event_id)  # zh is promoted
    events.cancel_signup(person(zh), event_id)  # en is promoted
    zh_text, en_text = (m.text for m in texts())
    assert zh_text.startswith("您已获得名额") and len(zh_text) <= 70
    assert "…" in zh_text  # the long title is cut to fit
    assert en_text.startswith("You have a place") and texts()[1].locale == "en"


def test_a_channel_needs_its_contact(ctx, factory, make):
    email_only, _ = make.user()
    user = person(email_only)
    with pytest.raises(Invalid) as refused:
        accounts.update_profile(
            user, name=user.name, email=user.email, phone="", community_code=None,
            grid_code="", locale=None, channel="sms",
        )  # fmt: skip
    assert refused.value.fields == {"channel": "Give a mobile number to be told by SMS."}
    assert person(email_only).notify_channel is None


def test_the_profile_page_and_the_api_show_and_change_the_channel(app, client, make):
    _user_id, email = make.user(phone="13900000007")
    token = client.post("/api/v1/tokens", json={"login": email, "password": PASSWORD}).json["token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json
    assert me["channels"] == ["email"]
    log_in(client, email)
    page = client.get("/profile/edit", headers=EN).get_data(as_text=True)
    assert "Tell me by" in page and 'value="both"' in page
    response = post_form(
        client,
        "/profile/edit",
        {"name": "李静", "email": email, "phone": "", "community": "210102002001",
         "grid": "", "locale": "", "channel": "both"},
    )  # fmt: skip
    assert response.status_code == 302
    assert "E-mail · SMS" in client.get("/profile", headers=EN).get_data(as_text=True)
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json
    assert me["channels"] == ["email", "sms"]

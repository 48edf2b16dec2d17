"""Organisation notices go by each person's channel: a phone-only resident whose request to join
is decided gets a text; one with e-mail an e-mail."""

from sqlalchemy import select

from neighbors.core.outbox import OutboxMessage
from neighbors.core.sms_outbox import SmsMessage
from neighbors.extensions import db
from neighbors.organisations import services as organisations
from tests.factories import COMMUNITY, person


def test_the_decision_on_a_request_to_join_reaches_the_person_by_their_channel(ctx, factory, make):
    team = organisations.register(factory.staff(), name="文安路志愿服务队",
                                  kind="volunteer_team", community_code=COMMUNITY)  # fmt: skip
    phone_only = make.user(email=None, phone="13900000031", name="李大爷")[0]
    by_email, email = make.user()
    accepted = organisations.request_to_join(person(phone_only), team.id)
    declined = organisations.request_to_join(person(by_email), team.id)

    organisations.decide_request(factory.staff(), accepted.id, accept=True)
    organisations.decide_request(factory.staff(), declined.id, accept=False)

    [text] = db.session.scalars(select(SmsMessage)).all()
    assert text.phone == "13900000031" and text.template == "organisations/joined"
    assert "文安路志愿服务队" in text.text and len(text.text) <= 70
    [mail] = db.session.scalars(select(OutboxMessage)).all()
    assert mail.to_address == email and "文安路志愿服务队" in mail.subject
    assert f"/organisations/{team.id}" in mail.body

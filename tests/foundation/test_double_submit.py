"""A money form sent twice (a double click, a reload after a slow answer) posts once: each form
carries a one-time token, used as the idempotency key, and the second send shows the first
result."""

import re
from decimal import Decimal

from sqlalchemy import func, select

from neighbors.core.timezone import local_today
from neighbors.extensions import db
from neighbors.foundation.models import Donation, Fund, JournalEntry, Subsidy
from tests.clients import EN, logged_in, post_form

TOKEN = re.compile(r'name="once" type="hidden" value="([^"]+)"')


def token_of(page):
    return TOKEN.search(page).group(1)


def count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def balance(app, code):
    with app.app_context():
        return db.session.scalar(select(Fund.balance).where(Fund.code == code))


def test_a_donation_form_sent_twice_records_one_donation(app, team):
    team.fund("EDU")
    preparer = logged_in(app, team.emails["preparer"])
    form = {
        "once": token_of(preparer.get("/foundation/donations/new").text),
        "fund": "EDU",
        "amount": "300.00",
        "received_on": local_today().isoformat(),
        "donor_kind": "person",
        "donor_name": "王先生",
        "channel": "cash",
    }
    first = post_form(preparer, "/foundation/donations/new", form, headers=EN)
    second = post_form(preparer, "/foundation/donations/new", form, headers=EN)
    assert first.status_code == second.status_code == 302
    assert count(app, Donation) == 1 and balance(app, "EDU") == Decimal("300.00")
    page = preparer.get(second.location, headers=EN).text
    year = local_today().year
    assert f"Donation recorded: acknowledgement {year}-000001." in page
    assert "it was recorded once" in page

    # The same token with other values (back, edit, send): refused, with a fresh token.
    edited = post_form(
        preparer, "/foundation/donations/new", form | {"amount": "30.00"}, headers=EN
    )
    assert edited.status_code == 200 and count(app, Donation) == 1
    assert "This form was sent already with other values" in edited.text
    assert token_of(edited.text) != form["once"]
    # A new form is a new donation.
    fresh = form | {"once": token_of(preparer.get("/foundation/donations/new").text)}
    assert post_form(preparer, "/foundation/donations/new", fresh).status_code == 302
    assert count(app, Donation) == 2


def test_a_subsidy_form_and_a_pay_button_sent_twice_act_once(app, team):
    team.fund("EDU", opening="1000.00")
    preparer = logged_in(app, team.emails["preparer"])
    form = {
        "once": token_of(preparer.get("/foundation/subsidies/new").text),
        "fund": "EDU",
        "amount": "120.50",
        "beneficiary_name": "张小明",
        "household_size": "3",
        "reason": "学费",
    }
    for _ in range(2):
        assert post_form(preparer, "/foundation/subsidies/new", form).status_code == 302
    assert count(app, Subsidy) == 1

    approver = logged_in(app, team.emails["approver"])
    page = approver.get("/foundation/subsidies").text
    url, token = re.search(
        r'action="(/foundation/subsidies/\d+/approve)".*?name="once" value="([^"]+)"', page, re.S
    ).groups()
    for _ in range(2):
        answer = post_form(approver, url, {"once": token}, headers=EN)
        assert answer.status_code == 302
    cashier = logged_in(app, team.emails["cashier"])
    listed = cashier.get("/foundation/subsidies").text
    # "Pay" leads to the page that asks first; its button carries the one-time token.
    page = cashier.get(re.search(r'href="(/foundation/subsidies/\d+/pay)"', listed).group(1)).text
    url, token = re.search(
        r'action="(/foundation/subsidies/\d+/pay)".*?name="once" value="([^"]+)"', page, re.S
    ).groups()
    posted = count(app, JournalEntry)
    answers = [
        post_form(cashier, url, {"once": token}, headers=EN | {"Referer": "/foundation/subsidies"})
        for _ in range(2)
    ]
    assert all(a.status_code == 302 for a in answers)
    assert count(app, JournalEntry) == posted + 1 and balance(app, "EDU") == Decimal("879.50")
    page = cashier.get(answers[1].location, headers=EN).text
    assert "is paid and entered in the ledger" in page
    assert "Only an approved subsidy can be paid" not in page


def test_a_new_fund_form_sent_twice_opens_one_fund(app, team):
    approver = logged_in(app, team.emails["approver"])
    form = {
        "once": token_of(approver.get("/foundation/funds/new").text),
        "code": "GEN",
        "name": "社区发展基金",
        "kind": "unrestricted",
        "opening_balance": "50000.00",
    }
    answers = [post_form(approver, "/foundation/funds/new", form, headers=EN) for _ in range(2)]
    assert [a.status_code for a in answers] == [302, 302]
    assert "The fund is open." in approver.get(answers[1].location, headers=EN).text
    assert count(app, Fund) == 1 and balance(app, "GEN") == Decimal("50000.00")


def test_a_reversal_sent_twice_reverses_once_and_shows_its_voucher(app, client, team):
    from tests.clients import bearer, token_for

    team.fund("EDU")
    wrong = team.donate("EDU", "999.00")
    approver = logged_in(app, team.emails["approver"])
    url = f"/foundation/ledger/entries/{wrong.entry_id}/reverse"
    form = {"once": token_of(approver.get(url).text), "reason": "金额录错"}
    answers = [post_form(approver, url, form, headers=EN) for _ in range(2)]
    assert [a.status_code for a in answers] == [302, 302]
    page = approver.get(answers[1].location, headers=EN).text
    assert re.search(r"Reversed by JZ\d{4}-\d{2}-00002\.", page)
    assert "reversed already" not in page
    with app.app_context():
        kinds = db.session.scalars(select(JournalEntry.kind)).all()
    assert sorted(kinds) == ["donation", "reversal"] and balance(app, "EDU") == Decimal("0.00")

    other = team.donate("EDU", "5.00")
    headers = bearer(token_for(client, team.emails["approver"])) | {"Idempotency-Key": "undo-1"}
    url = f"/api/v1/ledger/entries/{other.entry_id}/reverse"
    first, again = (client.post(url, json={"reason": "录错"}, headers=headers) for _ in range(2))
    assert first.status_code == again.status_code == 201 and first.json == again.json

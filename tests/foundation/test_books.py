"""The books as an accountant reads them: opening balances (期初) dated at the start of the
books and never counted as income, vouchers numbered per month in date order, the detail ledger
without a fund, and amounts beyond what a donation can be."""

import re
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from neighbors.core.timezone import local_today
from neighbors.extensions import db
from neighbors.foundation import exports
from neighbors.foundation.models import JournalEntry
from tests.clients import EN, assert_error, bearer, logged_in, post_form, token_for


def test_an_opening_balance_is_the_opening_not_income(app, client, team):
    """The demo's story: November's gifts are entered, then the fund is opened with what the
    foundation held before; the statement, the detail ledger and the public page must say so."""
    today = local_today()
    gift_day = today - timedelta(days=10)
    team.fund("EDU")
    team.donate("EDU", "5000.00", received_on=gift_day, publish_consent=True)
    team.fund("GEN", kind="unrestricted", opening="50000.00")
    team.donate("GEN", "2000.00", received_on=gift_day, publish_consent=True)
    start = date(gift_day.year, 1, 1)
    with app.app_context():
        opening = db.session.scalar(select(JournalEntry).where(JournalEntry.kind == "opening"))
        assert opening.entry_date == start  # the start of the books, not the day it was typed
        assert opening.voucher == f"QC{start.year}-00001"
        (_edu, gen) = exports.statement(start, today).funds
        assert (gen.opening, gen.received, gen.paid, gen.closing) == (
            Decimal("50000.00"),
            Decimal("2000.00"),
            Decimal("0.00"),
            Decimal("52000.00"),
        )

    accountant = logged_in(app, team.emails["accountant"])
    period = {"from": start.isoformat(), "to": today.isoformat()}
    rows = [
        line.split(",")
        for line in accountant.get(
            "/foundation/detail",
            query_string={"fund": "GEN", "account": "1002", "format": "csv", **period},
        )
        .data.decode("utf-8-sig")
        .strip()
        .splitlines()[1:]
    ]
    assert rows[0][0] == "opening" and rows[0][-1] == "50000.00"
    assert [(r[4], r[-1]) for r in rows if r[0] == "line"] == [("2000.00", "52000.00")]
    assert rows[-1][0] == "year_to_date" and rows[-1][4] == "2000.00"
    statement = accountant.get("/foundation/ledger", headers=EN, query_string=period).text
    assert "50,000.00" in statement and "52,000.00" in statement  # as accountants write it

    page = client.get("/disclosure", headers=EN, query_string={"year": gift_day.year}).text
    assert "2000.00" in page and "50000.00" not in page and "52000.00" not in page


def test_vouchers_are_numbered_per_month_so_a_late_entry_keeps_the_date_order(app, team):
    today = local_today()
    earlier = today.replace(day=1) - timedelta(days=1)  # last month
    team.fund("EDU")
    late = [team.donate("EDU", "1.00", received_on=today) for _ in range(2)]
    backdated = team.donate("EDU", "2.00", received_on=earlier)
    with app.app_context():
        vouchers = [db.session.get(JournalEntry, d.entry_id).voucher for d in [*late, backdated]]
    assert vouchers == [
        f"JZ{today.year}-{today.month:02d}-00001",
        f"JZ{today.year}-{today.month:02d}-00002",
        f"JZ{earlier.year}-{earlier.month:02d}-00001",  # first of its month, before today's
    ]


def test_the_detail_ledger_without_a_fund_offers_the_funds(app, team):
    team.fund("EDU")
    team.fund("GEN", kind="unrestricted")
    accountant = logged_in(app, team.emails["accountant"])
    response = accountant.get("/foundation/detail", headers=EN)
    assert response.status_code == 200
    page = response.text
    assert re.search(r'<select id="fund" name="fund">.*EDU.*GEN', page, re.S)
    assert "/foundation/detail?fund=EDU" in page and "/foundation/detail?fund=GEN" in page
    preparer = logged_in(app, team.emails["preparer"])
    assert preparer.get("/foundation/detail").status_code == 403


def test_an_amount_beyond_a_hundred_million_is_refused_as_an_amount(app, client, team):
    team.fund("EDU", opening="1000.00")
    preparer = token_for(client, team.emails["preparer"])
    huge = "999999999999.99"
    body = {"fund": "EDU", "amount": huge, "donor_name": "王先生"}
    body["received_on"] = local_today().isoformat()
    error = assert_error(
        client.post("/api/v1/donations", json=body, headers=bearer(preparer) | EN),
        422,
        "amount_too_large",
    )
    assert "100,000,000.00" in error["message"] and "amount" in error["fields"]
    body = {"fund": "EDU", "amount": huge, "beneficiary_name": "张三", "reason": "学费"}
    assert_error(
        client.post("/api/v1/subsidies", json=body, headers=bearer(preparer)),
        422,
        "amount_too_large",
    )
    page = post_form(
        logged_in(app, team.emails["preparer"]),
        "/foundation/donations/new",
        {
            "fund": "EDU",
            "amount": huge,
            "received_on": local_today().isoformat(),
            "donor_kind": "person",
            "donor_name": "王先生",
            "channel": "cash",
        },
        headers=EN,
    )
    assert page.status_code == 200 and "0.01 to 100,000,000.00 yuan" in page.text
    body = {"fund": "EDU", "amount": "100000000.00", "donor_name": "大企业"}
    body["received_on"] = local_today().isoformat()
    assert client.post("/api/v1/donations", json=body, headers=bearer(preparer)).status_code == 201

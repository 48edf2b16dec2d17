"""Foundation pages: each role sees its work, masks hold, the public page names nobody helped."""

import re
from decimal import Decimal

from neighbors.core.timezone import local_today
from tests.clients import EN, logged_in, post_form
from tests.sheets import table


def test_donation_subsidy_payment_and_ledger_pages(app, team):
    team.fund("EDU")
    preparer = logged_in(app, team.emails["preparer"])
    response = post_form(
        preparer,
        "/foundation/donations/new",
        {
            "fund": "EDU",
            "amount": "300.00",
            "received_on": local_today().isoformat(),
            "donor_kind": "person",
            "donor_name": "王先生",
            "publish_consent": "y",
            "channel": "cash",
        },
        headers=EN,
    )
    assert response.status_code == 302
    assert "300.00" in preparer.get("/foundation/donations").text
    post_form(
        preparer,
        "/foundation/subsidies/new",
        {
            "fund": "EDU",
            "amount": "120.50",
            "beneficiary_name": "张小明",
            "id_number": "21010220080101001X",
            "household_size": "3",
            "reason": "学费",
        },
    )
    page = preparer.get("/foundation/subsidies", headers=EN).text
    assert "张**" in page and "张小明" not in page and "21010220080101001X" not in page

    approver = logged_in(app, team.emails["approver"])
    page = approver.get("/foundation/subsidies", headers=EN).text
    subsidy_id = re.search(r"/foundation/subsidies/(\d+)/approve", page).group(1)
    beneficiary = re.search(r'href="(/foundation/beneficiaries/\d+)"', page).group(1)
    assert "21010220080101001X" in approver.get(beneficiary).text  # and the view is logged
    assert preparer.get(beneficiary).status_code == 403
    post_form(approver, f"/foundation/subsidies/{subsidy_id}/approve", {})
    cashier = logged_in(app, team.emails["cashier"])
    post_form(cashier, f"/foundation/subsidies/{subsidy_id}/pay", {})
    assert "179.50" in cashier.get("/foundation/", headers=EN).text

    accountant = logged_in(app, team.emails["accountant"])
    page = accountant.get("/foundation/ledger", headers=EN).text
    assert "JZ" in page and "179.50" in page
    csv_file = accountant.get("/foundation/ledger.csv")
    assert csv_file.status_code == 200 and csv_file.data.startswith("\ufeff".encode())
    response = post_form(accountant, "/foundation/ledger/verify", {}, headers=EN)
    assert "The ledger verifies" in accountant.get(response.location, headers=EN).text
    assert preparer.get("/foundation/ledger").status_code == 403


def test_the_public_disclosure_names_consenting_donors_only(app, client, team):
    team.fund("EDU")
    team.donate("EDU", "100.00", donor_name="愿意公开的人", publish_consent=True)
    team.donate("EDU", "50.00", donor_name="不愿公开的人")
    team.donate("EDU", "20.00", donor_name="匿名者", anonymous=True, publish_consent=True)
    team.subsidy("EDU", "30.00", beneficiary_name="受助的人")
    page = client.get("/disclosure", headers=EN).text
    assert "愿意公开的人" in page
    assert "不愿公开的人" not in page and "匿名者" not in page and "受助的人" not in page
    assert "170.00" in page


def test_roles_are_kept_apart(app, team, make):
    volunteer = logged_in(app, make.user()[1])
    for path in (
        "/foundation/",
        "/foundation/ledger",
        "/foundation/donations/new",
        "/foundation/ledger.csv",
    ):
        assert volunteer.get(path).status_code == 403
    accountant = logged_in(app, team.emails["accountant"])
    assert accountant.get("/foundation/funds/new").status_code == 403
    assert accountant.get("/foundation/donations/new").status_code == 403


def test_detail_ledger_runs_the_balance_and_totals_the_months(app, team):
    from datetime import timedelta

    from neighbors.foundation import services as foundation

    team.fund("EDU")
    today = local_today()
    team.donate("EDU", "100.00", received_on=today - timedelta(days=40))
    team.donate("EDU", "50.00", received_on=today - timedelta(days=10))
    subsidy = team.subsidy("EDU", "30.00")
    with app.app_context():
        foundation.approve_subsidy(team.approver, subsidy.id)
        foundation.pay_subsidy(team.cashier, subsidy.id)
    accountant = logged_in(app, team.emails["accountant"])
    period = {"from": (today - timedelta(days=20)).isoformat(), "to": today.isoformat()}
    data = accountant.get(
        "/foundation/detail",
        query_string={"fund": "EDU", "account": "1002", "format": "csv", **period},
    ).data.decode("utf-8-sig")
    rows = [line.split(",") for line in data.strip().splitlines()[1:]]
    assert rows[0][0] == "opening" and rows[0][-1] == "100.00"
    assert [r[-1] for r in rows if r[0] == "line"] == ["150.00", "120.00"]
    assert rows[-1][0] == "year_to_date" and rows[-1][-1] == "120.00"
    months = [r for r in rows if r[0] == "month"]
    assert sum(Decimal(r[4]) for r in months) == Decimal("50.00")  # debits in the period
    assert sum(Decimal(r[5]) for r in months) == Decimal("30.00")  # credits in the period
    page = accountant.get(
        "/foundation/detail", query_string={"fund": "EDU", **period}, headers=EN
    ).text
    assert "Opening balance" in page and "Year to date" in page
    assert accountant.get("/foundation/detail?fund=NOPE").status_code == 404


def test_lists_statement_and_time_restricted_funds(app, team):
    from datetime import timedelta

    from neighbors.core.errors import Conflict
    from neighbors.foundation import exports
    from neighbors.foundation import services as foundation

    team.fund("EDU")
    team.donate("EDU", "100.00", donor_name="王先生")
    team.donate("EDU", "40.00", donor_name="不想留名", anonymous=True)
    subsidy = team.subsidy(
        "EDU", "30.00", beneficiary_name="张小明", id_number="21010220080101001X"
    )
    with app.app_context():
        foundation.approve_subsidy(team.approver, subsidy.id)
        foundation.pay_subsidy(team.cashier, subsidy.id)
        statement = exports.statement(local_today().replace(month=1, day=1), local_today())
        (line,) = statement.funds
        assert (line.received, line.paid, line.released, line.closing) == (
            Decimal("140.00"),
            Decimal("30.00"),
            Decimal("30.00"),
            Decimal("110.00"),
        )
        assert statement.total("closing", "restricted") == Decimal("110.00")
        later = foundation.create_fund(
            team.approver,
            code="LATER",
            name="明年起用",
            kind="restricted",
            opening_balance="50.00",
            starts_on=local_today() + timedelta(days=30),
        )
        early = foundation.prepare_subsidy(
            team.preparer, fund_code=later.code, amount="10", beneficiary_name="李四", reason="r"
        )[0]
        try:
            foundation.approve_subsidy(team.approver, early.id)
        except Conflict as refused:
            assert refused.code == "fund_not_yet_available"
        else:
            raise AssertionError("a fund restricted in time was spent before its day")
    accountant = logged_in(app, team.emails["accountant"])
    sheet = table(accountant.get("/foundation/subsidies.xlsx").data)
    assert sheet.body[0][1] == "张**" and "21010220080101001X" not in str(sheet.body)
    text = accountant.get("/foundation/donations.csv").data.decode("utf-8-sig")
    assert "王先生" in text and "不想留名" not in text
    assert "Released from restriction" in accountant.get("/foundation/ledger", headers=EN).text


def test_the_public_page_leaves_out_custodial_funds_and_undone_mistakes(app, client, team):
    from neighbors.foundation import ledger

    team.fund("EDU")
    team.fund("CARE-LI", kind="custodial")
    team.donate("CARE-LI", "77.00", donor_name="老同事", publish_consent=True)
    wrong = team.donate("EDU", "999.00", donor_name="录错", publish_consent=False)
    with app.app_context():
        ledger.reverse(team.approver, wrong.entry_id, "金额录错")
    page = client.get("/disclosure", headers=EN).text
    assert "CARE-LI" not in page and "老同事" not in page and "77.00" not in page
    assert "999.00" not in page

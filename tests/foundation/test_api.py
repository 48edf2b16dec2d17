"""API v1 for the foundation: funds, idempotent donations, subsidies, reversals, the ledger in
every format, reconciled against the fund statement."""

import csv
import io
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from neighbors.core.timezone import local_today
from tests.clients import assert_error, bearer, token_for
from tests.sheets import table


def tokens(client, team):
    return {role: token_for(client, email) for role, email in team.emails.items()}


def donate(client, token, key=None, **fields):
    body = {
        "fund": "EDU",
        "amount": "100.00",
        "donor_name": "王先生",
        "received_on": local_today().isoformat(),
    }
    body.update(fields)
    headers = bearer(token) | ({"Idempotency-Key": key} if key else {})
    return client.post("/api/v1/donations", json=body, headers=headers)


def test_the_money_journey(client, team):
    t = tokens(client, team)
    response = client.post(
        "/api/v1/funds",
        headers=bearer(t["approver"]),
        json={"code": "EDU", "name": "助学基金", "kind": "restricted"},
    )
    assert response.status_code == 201 and response.json["balance"] == "0.00"
    assert_error(
        client.post(
            "/api/v1/funds",
            headers=bearer(t["preparer"]),
            json={"code": "X1", "name": "x", "kind": "restricted"},
        ),
        403,
        "forbidden",
    )

    first = donate(client, t["preparer"], key="gift-1")
    again = donate(client, t["preparer"], key="gift-1")
    assert first.status_code == 201 and again.status_code == 201
    assert again.json == first.json and first.json["receipt_number"].endswith("-000001")
    assert_error(
        donate(client, t["preparer"], key="gift-1", amount="5.00"), 409, "idempotency_key_reused"
    )
    assert_error(donate(client, t["preparer"], amount=100.5), 422, "invalid")  # not a string
    assert_error(donate(client, t["approver"]), 403, "forbidden")
    funds = client.get("/api/v1/funds", headers=bearer(t["accountant"])).json["items"]
    assert funds == [
        {
            "id": funds[0]["id"],
            "code": "EDU",
            "name": "助学基金",
            "kind": "restricted",
            "purpose": "",
            "balance": "100.00",
            "ends_on": None,
            "beneficiary": None,
        }
    ]

    subsidy = client.post(
        "/api/v1/subsidies",
        headers=bearer(t["preparer"]),
        json={"fund": "EDU", "amount": "60.00", "beneficiary_name": "张三", "reason": "学费"},
    ).json
    assert subsidy["status"] == "prepared"
    assert_error(
        client.post(f"/api/v1/subsidies/{subsidy['id']}/pay", headers=bearer(t["cashier"])),
        409,
        "wrong_state",
    )
    assert (
        client.post(
            f"/api/v1/subsidies/{subsidy['id']}/approve", headers=bearer(t["approver"])
        ).json["status"]
        == "approved"
    )
    assert (
        client.post(f"/api/v1/subsidies/{subsidy['id']}/pay", headers=bearer(t["cashier"])).json[
            "status"
        ]
        == "paid"
    )
    bigger = client.post(
        "/api/v1/subsidies",
        headers=bearer(t["preparer"]),
        json={"fund": "EDU", "amount": "60.00", "beneficiary_name": "李四", "reason": "学费"},
    ).json
    assert_error(
        client.post(f"/api/v1/subsidies/{bigger['id']}/approve", headers=bearer(t["approver"])),
        409,
        "insufficient_funds",
    )

    ledger = client.get("/api/v1/ledger", headers=bearer(t["accountant"])).json
    assert [e["reverses"] for e in ledger["items"]] == [None, None]  # payment, donation
    for entry in ledger["items"]:
        assert sum(Decimal(x["debit"]) for x in entry["lines"]) == sum(
            Decimal(x["credit"]) for x in entry["lines"]
        )
    assert ledger["items"][1]["id"] == first.json["entry_id"]
    donation_entry = first.json["entry_id"]
    assert_error(
        client.post(
            f"/api/v1/ledger/entries/{donation_entry}/reverse",
            headers=bearer(t["approver"]),
            json={"reason": "退回"},
        ),
        409,
        "insufficient_funds",
    )  # 60 of it is spent already
    assert_error(client.get("/api/v1/ledger", headers=bearer(t["preparer"])), 403, "forbidden")


def test_exports_reconcile_in_every_format(client, team):
    t = tokens(client, team)
    for code, kind in (("EDU", "restricted"), ("GEN", "unrestricted"), ("CARE", "custodial")):
        client.post(
            "/api/v1/funds",
            headers=bearer(t["approver"]),
            json={"code": code, "name": f"{code}=基金", "kind": kind, "opening_balance": "10.00"}
            | ({"beneficiary_name": "王五"} if kind == "custodial" else {}),
        )
    for fund, amount in (("EDU", "100.00"), ("GEN", "0.35"), ("CARE", "50.00"), ("EDU", "9.99")):
        donate(client, t["preparer"], fund=fund, amount=amount, donor_name="=cmd|' /C calc'!A0")
    subsidy = client.post(
        "/api/v1/subsidies",
        headers=bearer(t["preparer"]),
        json={"fund": "CARE", "amount": "20.00", "beneficiary_name": "王五", "reason": "代付"},
    ).json
    client.post(f"/api/v1/subsidies/{subsidy['id']}/approve", headers=bearer(t["approver"]))
    client.post(f"/api/v1/subsidies/{subsidy['id']}/pay", headers=bearer(t["cashier"]))
    closing = {
        f["code"]: Decimal(f["balance"])
        for f in client.get("/api/v1/funds", headers=bearer(t["accountant"])).json["items"]
    }
    assert closing == {"EDU": Decimal("119.99"), "GEN": Decimal("10.35"), "CARE": Decimal("40.00")}

    def bank(rows):
        totals = {}
        for row in rows:
            if row["account"] == "1002":
                totals[row["fund"]] = (
                    totals.get(row["fund"], 0)
                    + Decimal(str(row["debit"]))
                    - Decimal(str(row["credit"]))
                )
        return totals

    raw = client.get("/api/v1/ledger?format=csv", headers=bearer(t["accountant"])).data
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert bank(rows) == closing
    assert all(not row["summary"].startswith("=") for row in rows)  # neutralised

    sheet = table(client.get("/api/v1/ledger?format=xlsx", headers=bearer(t["accountant"])).data)
    # For people: no entry ids; date, voucher, summary, fund, account, its name, debit, credit.
    codes = ("date", "voucher", "summary", "fund", "account", "account_name", "debit", "credit")
    xlsx_rows = [dict(zip(codes, row, strict=True)) for row in sheet.body]
    assert all(isinstance(r["debit"], float | int) for r in xlsx_rows)
    assert {k: round(Decimal(str(v)), 2) for k, v in bank(xlsx_rows).items()} == closing

    beancount = client.get(
        "/api/v1/ledger?format=beancount", headers=bearer(t["accountant"])
    ).data.decode()
    from beancount import loader

    entries, errors, _options = loader.load_string(beancount)
    assert errors == []
    path = Path(team.make.app.instance_path) / "ledger.beancount"
    path.write_text(beancount, encoding="utf-8")
    check = subprocess.run(
        [str(Path(sys.executable).parent / "bean-check"), str(path)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    from beancount.core import realization

    real = realization.realize(entries)
    for code, amount in closing.items():
        account = realization.get(real, f"Assets:Bank:{code}")
        assert account.balance.get_currency_units("CNY").number == amount


def test_bad_dates_and_unknown_funds_are_refused(client, team):
    t = tokens(client, team)
    client.post(
        "/api/v1/funds",
        headers=bearer(t["approver"]),
        json={"code": "EDU", "name": "x", "kind": "restricted"},
    )
    for bad in ("2026-13-01", "20260101", "garbage"):
        assert_error(donate(client, t["preparer"], receipt_date=bad), 422, "invalid")
        assert_error(
            client.post(
                "/api/v1/funds",
                headers=bearer(t["approver"]),
                json={"code": "NEW", "name": "x", "kind": "restricted", "starts_on": bad},
            ),
            422,
            "invalid",
        )
    assert_error(
        client.get("/api/v1/ledger?format=csv&fund=NOPE", headers=bearer(t["accountant"])),
        404,
        "no_such_fund",
    )

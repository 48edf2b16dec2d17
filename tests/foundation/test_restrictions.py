"""What donors restrict stays restricted: money held for a named person pays only that person,
and a fund restricted in time takes and pays nothing after its end, when what is left is
released from the restriction by a reclassification voucher."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from neighbors.core.db import transaction
from neighbors.core.errors import Conflict, Invalid
from neighbors.core.timezone import local_today
from neighbors.extensions import db
from neighbors.foundation import exports, ledger
from neighbors.foundation import services as foundation
from neighbors.foundation.models import Fund, JournalEntry, Posting, Subsidy
from tests.clients import assert_error, at_once, bearer, token_for
from tests.factories import Team

SHANGHAI = ZoneInfo("Asia/Shanghai")


def pay(team, subsidy_id):
    foundation.approve_subsidy(team.approver, subsidy_id)
    return foundation.pay_subsidy(team.cashier, subsidy_id)


# -- custodial funds ---------------------------------------------------------------------------


def test_money_held_for_a_named_person_pays_only_that_person(app, client, team):
    team.fund("CARE-LI", kind="custodial", opening="1000.00", beneficiary_name="李秀英")
    preparer = token_for(client, team.emails["preparer"])
    someone_else = {"fund": "CARE-LI", "amount": "300.00", "beneficiary_name": "王五"}
    error = assert_error(
        client.post(
            "/api/v1/subsidies",
            json=someone_else | {"reason": "取暖费"},
            headers=bearer(preparer) | {"Accept-Language": "en"},
        ),
        409,
        "not_the_beneficiary",
    )
    assert "CARE-LI is held for 李** " in error["message"]
    her = client.post(
        "/api/v1/subsidies",
        json=someone_else | {"beneficiary_name": "李秀英", "reason": "取暖费"},
        headers=bearer(preparer),
    )
    assert her.status_code == 201
    with app.app_context():
        assert pay(team, her.json["id"]).status == "paid"
        fund = db.session.scalar(select(Fund).where(Fund.code == "CARE-LI"))
        assert fund.balance == Decimal("700.00")
    funds = client.get("/api/v1/funds", headers=bearer(preparer)).json["items"]
    assert funds[0]["beneficiary"] == "李**"


def test_a_custodial_fund_must_name_its_beneficiary(app, client, team):
    approver = token_for(client, team.emails["approver"])
    error = assert_error(
        client.post(
            "/api/v1/funds",
            json={"code": "CARE-X", "name": "代管", "kind": "custodial"},
            headers=bearer(approver),
        ),
        422,
        "invalid",
    )
    assert "beneficiary_name" in error["fields"]


def test_the_named_beneficiary_is_matched_by_id_number_when_given(ctx, team):
    team.fund(
        "CARE-LI",
        kind="custodial",
        opening="100.00",
        beneficiary_name="李秀英",
        beneficiary_id_number="21010219400101002X",
    )
    with pytest.raises(Conflict) as refused:  # the same name, another person
        team.subsidy("CARE-LI", "10.00", beneficiary_name="李秀英", id_number="21010219800101123X")
    assert refused.value.code == "not_the_beneficiary"
    helped = team.subsidy(
        "CARE-LI", "10.00", beneficiary_name="李秀英", id_number="21010219400101002X"
    )
    assert pay(team, helped.id).status == "paid"


def test_a_subsidy_to_someone_else_is_refused_again_at_approval_and_payment(ctx, team):
    """Subsidies prepared before the fund named its beneficiary (as in issue 12) are stopped."""
    team.fund("CARE-LI", kind="custodial", opening="1000.00", beneficiary_name="李秀英")
    team.fund("EDU", opening="1000.00")
    prepared = team.subsidy("EDU", "300.00", beneficiary_name="王五")
    approved = team.subsidy("EDU", "200.00", beneficiary_name="赵六")
    foundation.approve_subsidy(team.approver, approved.id)
    care = db.session.scalar(select(Fund.id).where(Fund.code == "CARE-LI"))
    with transaction():  # as if they had been prepared on the custodial fund, as before
        for subsidy_id in (prepared.id, approved.id):
            db.session.get(Subsidy, subsidy_id).fund_id = care
    for step, subsidy_id, who in (
        (foundation.approve_subsidy, prepared.id, team.approver),
        (foundation.pay_subsidy, approved.id, team.cashier),
    ):
        with pytest.raises(Conflict) as refused:
            step(who, subsidy_id)
        assert refused.value.code == "not_the_beneficiary"
    assert db.session.get(Fund, care).balance == Decimal("1000.00")


# -- funds restricted in time ------------------------------------------------------------------


def at(day, hour=10):
    return datetime.combine(day, datetime.min.time().replace(hour=hour), SHANGHAI)


def test_a_fund_past_its_end_takes_and_pays_nothing_and_is_released_once(
    app, ctx, team, time_machine
):
    from neighbors.jobs import scheduler, tasks

    end = date(2026, 6, 30)
    time_machine.move_to(at(date(2026, 6, 10)))
    foundation.create_fund(
        team.approver, code="WINTER", name="冬季送温暖", kind="restricted", ends_on=end
    )
    team.donate("WINTER", "500.00")
    pay(team, team.subsidy("WINTER", "100.00").id)
    waiting = team.subsidy("WINTER", "50.00")
    foundation.approve_subsidy(team.approver, waiting.id)

    time_machine.move_to(at(end + timedelta(days=1), hour=0))
    for refused_step in (
        lambda: team.donate("WINTER", "10.00"),
        lambda: team.subsidy("WINTER", "10.00"),
        lambda: foundation.pay_subsidy(team.cashier, waiting.id),
    ):
        with pytest.raises(Conflict) as refused:
            refused_step()
        assert refused.value.code == "fund_ended"
        assert "ended on 2026-06-30" in refused.value.message

    slot = at(end + timedelta(days=1), hour=0).replace(minute=20)
    first = scheduler.run_job(app, "release_ended_funds", slot=slot)
    again = scheduler.run_job(app, "release_ended_funds", slot=slot + timedelta(days=1))
    assert first.ok and first.detail["released"] == 1 and again.detail["released"] == 0
    assert tasks.release_ended_funds(slot)["released"] == 0
    (release,) = db.session.scalars(select(JournalEntry).where(JournalEntry.kind == "release"))
    assert release.entry_date == date(2026, 7, 1)
    # The gifts are still restricted income (no year has been closed): they are reclassified.
    assert [(p.account, p.debit, p.credit) for p in release.lines] == [
        ("4102", Decimal("400.00"), Decimal("0.00")),  # restricted donation income …
        ("4101", Decimal("0.00"), Decimal("400.00")),  # … becomes unrestricted
    ]
    fund = db.session.scalar(select(Fund).where(Fund.code == "WINTER"))
    assert fund.balance == Decimal("400.00") and fund.released_entry_id == release.id
    (line,) = exports.statement(date(2026, 1, 1), date(2026, 7, 1)).funds
    # spent on its purpose (100) and what was left when its time ended (400)
    assert (line.paid, line.released, line.closing) == (
        Decimal("100.00"),
        Decimal("500.00"),
        Decimal("400.00"),
    )
    assert ledger.verify().ok


def test_a_donation_to_an_ended_fund_is_a_409_with_a_plain_message(client, team):
    team.fund("WINTER", opening="50.00", ends_on=local_today() - timedelta(days=1))
    preparer = token_for(client, team.emails["preparer"])
    body = {"fund": "WINTER", "amount": "10.00", "donor_name": "王先生"}
    body["received_on"] = local_today().isoformat()
    error = assert_error(
        client.post(
            "/api/v1/donations", json=body, headers=bearer(preparer) | {"Accept-Language": "en"}
        ),
        409,
        "fund_ended",
    )
    assert error["message"].endswith("it takes no more donations.")


def test_runs_at_once_release_an_ended_fund_once(app, live_make):
    team = Team(live_make)
    team.fund("WINTER", opening="80.00", ends_on=local_today() - timedelta(days=1))
    with app.app_context():
        (fund_id,) = foundation.ended_funds_to_release()

    def release():
        with app.app_context():
            entry = foundation.release_ended_fund(fund_id)
            return entry.voucher if entry else None

    results = at_once([release for _ in range(4)])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len([r for r in results if r]) == 1, results
    with app.app_context():
        kinds = db.session.scalars(select(JournalEntry.kind)).all()
        assert sorted(kinds) == ["opening", "release"]
        assert ledger.verify().ok


def test_only_a_custodial_fund_names_a_beneficiary(ctx, team):
    """Only a custodial fund names a beneficiary; others refuse one rather than ignore it."""
    with pytest.raises(Invalid) as refused:
        team.fund("EDU", beneficiary_name="李秀英")
    assert "beneficiary_name" in refused.value.fields


def test_a_custodial_fund_opened_before_the_rule_pays_no_one_until_named(app, ctx, team):
    team.fund("CARE-OLD", kind="custodial", opening="500.00")
    with transaction():  # as migration 0009 leaves a custodial fund that was opened before it
        db.session.scalar(select(Fund).where(Fund.code == "CARE-OLD")).beneficiary_id = None
    with pytest.raises(Conflict) as refused:
        team.subsidy("CARE-OLD", "10.00", beneficiary_name="李秀英")
    assert refused.value.code == "no_named_beneficiary"

    def cli(*args):
        return app.test_cli_runner().invoke(args=["neighbors", "ledger", "name-beneficiary", *args])

    named = cli("CARE-OLD", "--name", "李秀英")
    assert named.exit_code == 0, named.output
    assert (
        pay(team, team.subsidy("CARE-OLD", "10.00", beneficiary_name="李秀英").id).status == "paid"
    )
    with pytest.raises(Conflict):
        team.subsidy("CARE-OLD", "10.00", beneficiary_name="王五")
    assert cli("CARE-OLD", "--name", "王五").exit_code == 1  # the donor's word is not changed


def account_balances(fund_code):
    """Credit minus debit per account of one fund."""
    fund = db.session.scalar(select(Fund).where(Fund.code == fund_code))
    rows = db.session.execute(
        select(Posting.account, func.sum(Posting.credit - Posting.debit))
        .where(Posting.fund_id == fund.id)
        .group_by(Posting.account)
    )
    return {account: Decimal(total) for account, total in rows}


def test_a_release_takes_the_gifts_first_then_the_opening_and_no_account_goes_below_zero(
    app, ctx, team, time_machine
):
    time_machine.move_to(at(date(2026, 6, 10)))
    foundation.create_fund(
        team.approver, code="SUMMER", name="夏季助学", kind="restricted",
        opening_balance="300.00", ends_on=date(2026, 6, 30),
    )  # fmt: skip
    team.donate("SUMMER", "100.00")
    pay(team, team.subsidy("SUMMER", "50.00").id)
    time_machine.move_to(at(date(2026, 7, 1)))
    release = foundation.release_ended_fund(
        db.session.scalar(select(Fund.id).where(Fund.code == "SUMMER"))
    )
    assert [(p.account, p.debit, p.credit) for p in release.lines] == [
        ("4102", Decimal("100.00"), Decimal("0.00")),
        ("4101", Decimal("0.00"), Decimal("100.00")),
        ("3102", Decimal("250.00"), Decimal("0.00")),
        ("3101", Decimal("0.00"), Decimal("250.00")),
    ]
    balances = account_balances("SUMMER")
    assert balances["4102"] == 0 and balances["3102"] == Decimal("50.00")  # against 50 spent
    assert balances["4101"] + balances["3101"] == Decimal("350.00")


def test_one_fund_that_cannot_be_released_does_not_stop_the_others(app, ctx, team, monkeypatch):
    from neighbors.jobs import tasks

    for code in ("A-FUND", "B-FUND"):
        team.fund(code, opening="10.00", ends_on=local_today() - timedelta(days=1))
    real = foundation.release_ended_fund
    first = min(foundation.ended_funds_to_release())

    def troubled(fund_id, today=None):
        if fund_id == first:
            raise RuntimeError("a fund in trouble")
        return real(fund_id, today)

    monkeypatch.setattr(foundation, "release_ended_fund", troubled)
    assert tasks.release_ended_funds(None)["released"] == 1


def test_only_a_restricted_fund_has_a_last_day(ctx, team):
    for kind in ("unrestricted", "custodial"):
        with pytest.raises(Invalid) as refused:
            foundation.create_fund(
                team.approver, code="ENDS", name="有期限", kind=kind,
                ends_on=local_today() + timedelta(days=30), beneficiary_name="李秀英",
            )  # fmt: skip
        assert "ends_on" in refused.value.fields


def test_an_opening_balance_after_the_books_first_year_is_refused(ctx, team, time_machine):
    time_machine.move_to(at(date(2026, 3, 1)))
    team.fund("EDU", opening="100.00")
    time_machine.move_to(at(date(2027, 3, 1)))
    with pytest.raises(Invalid) as refused:
        team.fund("NEW", opening="5000.00")
    assert refused.value.code == "books_open" and "opening_balance" in refused.value.fields
    team.fund("NEW2")  # at zero it opens; its money comes as donations
    (line,) = [f for f in exports.statement(date(2026, 1, 1), date(2026, 12, 31)).funds
               if f.code == "EDU"]  # fmt: skip
    assert line.closing == Decimal("100.00")


def test_a_release_is_final(ctx, team):
    team.fund("WINTER", opening="80.00", ends_on=local_today() - timedelta(days=1))
    (fund_id,) = foundation.ended_funds_to_release()
    release = foundation.release_ended_fund(fund_id)
    with pytest.raises(Conflict) as refused:
        foundation.reverse_entry(team.approver, release.id, "录入错误")
    assert refused.value.code == "release_final"
    assert foundation.ended_funds_to_release() == []  # and it is not released again either

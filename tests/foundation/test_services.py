"""The foundation's services: funds, donations, subsidies and the rules of the ledger."""

import pytest
from sqlalchemy import func, select, text

from neighbors.core.errors import Conflict, Invalid, NotAllowed
from neighbors.core.timezone import local_today
from neighbors.extensions import db
from neighbors.foundation import ledger
from neighbors.foundation import services as foundation
from neighbors.foundation.models import Fund, JournalEntry, Posting, SubsidyStatus
from tests.factories import yuan


def balance(code):
    return db.session.scalar(select(Fund.balance).where(Fund.code == code))


def test_donation_posts_a_balanced_voucher_and_numbers_the_acknowledgement(ctx, team):
    team.fund("EDU")
    first = team.donate("EDU", "1000.00")
    second = team.donate("EDU", "20.5")
    year = local_today().year
    assert (first.ack_number, second.ack_number) == (f"{year}-000001", f"{year}-000002")
    assert balance("EDU") == yuan("1020.50")
    lines = db.session.scalars(select(Posting).where(Posting.entry_id == first.entry_id)).all()
    assert sum(line.debit for line in lines) == sum(line.credit for line in lines) == yuan("1000")
    assert {line.account for line in lines} == {"1002", "4102"}  # bank, restricted income


def test_amounts_are_exact_yuan(ctx, team):
    team.fund("EDU")
    for bad in ("0", "-5", "1.005", "NaN", "Infinity", "abc", "1e3", None, "9999999999999"):
        with pytest.raises(Invalid):
            team.donate("EDU", bad)
    assert balance("EDU") == yuan("0")


def test_a_subsidy_needs_three_different_people_and_money_in_the_fund(ctx, team):
    team.fund("HELP", opening="500.00")
    subsidy = team.subsidy("HELP", "300.00", id_number="21010219800101123X", phone="13912345678")
    with pytest.raises(NotAllowed):
        foundation.approve_subsidy(team.preparer, subsidy.id)
    with pytest.raises(Conflict):  # a cashier cannot pay what is not approved
        foundation.pay_subsidy(team.cashier, subsidy.id)
    foundation.approve_subsidy(team.approver, subsidy.id)
    with pytest.raises(NotAllowed):  # approvers do not pay
        foundation.pay_subsidy(team.approver, subsidy.id)
    paid = foundation.pay_subsidy(team.cashier, subsidy.id)
    assert paid.status == SubsidyStatus.PAID and balance("HELP") == yuan("200.00")
    with pytest.raises(Conflict):
        foundation.pay_subsidy(team.cashier, subsidy.id)
    too_much = team.subsidy("HELP", "300.00")
    with pytest.raises(Conflict) as refused:
        foundation.approve_subsidy(team.approver, too_much.id)
    assert refused.value.code == "insufficient_funds"


def test_one_person_cannot_take_two_steps(ctx, team, make):
    team.fund("HELP", opening="500.00")
    both = make.user(role="preparer")[0]
    from neighbors.accounts import services as accounts
    from tests.factories import person

    accounts.grant_role(person(both).email, "approver")
    subsidy = foundation.prepare_subsidy(
        person(both), fund_code="HELP", amount="10", beneficiary_name="李四", reason="r"
    )[0]
    with pytest.raises(Conflict) as refused:
        foundation.approve_subsidy(person(both), subsidy.id)
    assert refused.value.code == "same_person"


def test_related_party_needs_a_second_approver(ctx, team):
    team.fund("HELP", opening="500.00")
    subsidy = team.subsidy("HELP", "100.00", related_party=True)
    foundation.approve_subsidy(team.approver, subsidy.id)
    assert subsidy.status == SubsidyStatus.PREPARED
    with pytest.raises(Conflict):
        foundation.approve_subsidy(team.approver, subsidy.id)
    foundation.approve_subsidy(team.approver2, subsidy.id)
    assert subsidy.status == SubsidyStatus.APPROVED
    assert foundation.pay_subsidy(team.cashier, subsidy.id).status == SubsidyStatus.PAID


def test_sensitive_beneficiary_fields_are_encrypted_and_their_full_view_logged(ctx, team):
    from neighbors.core.audit import AuditEntry

    team.fund("HELP", opening="500.00")
    subsidy = team.subsidy(
        "HELP", "100.00", id_number="21010219800101123X", phone="13912345678", category="低保"
    )
    row = db.session.execute(
        text("SELECT id_number_encrypted, phone_encrypted, category_encrypted FROM beneficiaries")
    ).one()
    assert not any(
        secret in (value or "")
        for value in row
        for secret in ("21010219800101123X", "13912345678", "低保")
    )
    with pytest.raises(NotAllowed):
        foundation.beneficiary_details(team.preparer, subsidy.beneficiary_id)
    details = foundation.beneficiary_details(team.approver, subsidy.beneficiary_id)
    assert details == {
        "id_number": "21010219800101123X",
        "phone": "13912345678",
        "category": "低保",
    }
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "beneficiary.full_view")
        )
        == 1
    )


def test_reversal_is_linked_once_and_balances_follow(ctx, team):
    team.fund("EDU")
    donation = team.donate("EDU", "100.00")
    with pytest.raises(NotAllowed):
        ledger.reverse(team.accountant, donation.entry_id, "录错了")
    reversal = ledger.reverse(team.approver, donation.entry_id, "录错了")
    assert reversal.reverses_id == donation.entry_id and balance("EDU") == yuan("0.00")
    with pytest.raises(Conflict):
        ledger.reverse(team.approver, donation.entry_id, "again")
    with pytest.raises(Conflict):
        ledger.reverse(team.approver, reversal.id, "undo the undo")


def test_reversing_money_already_spent_is_refused(ctx, team):
    team.fund("EDU")
    donation = team.donate("EDU", "100.00")
    subsidy = team.subsidy("EDU", "80.00")
    foundation.approve_subsidy(team.approver, subsidy.id)
    foundation.pay_subsidy(team.cashier, subsidy.id)
    with pytest.raises(Conflict) as refused:
        ledger.reverse(team.approver, donation.entry_id, "退款")
    assert refused.value.code == "insufficient_funds"
    assert balance("EDU") == yuan("20.00")


def test_idempotency_keys(ctx, team):
    team.fund("EDU")
    body = {"fund": "EDU", "amount": "50.00"}
    key = ("key-1", foundation.request_hash(body))
    first, created = foundation.record_donation(
        team.preparer,
        fund_code="EDU",
        amount="50.00",
        received_on=local_today(),
        donor_name="x",
        idempotency=key,
    )
    again, created_again = foundation.record_donation(
        team.preparer,
        fund_code="EDU",
        amount="50.00",
        received_on=local_today(),
        donor_name="x",
        idempotency=key,
    )
    assert created and not created_again and again.id == first.id
    assert balance("EDU") == yuan("50.00")
    with pytest.raises(Conflict):
        foundation.record_donation(
            team.preparer,
            fund_code="EDU",
            amount="60.00",
            received_on=local_today(),
            donor_name="x",
            idempotency=("key-1", foundation.request_hash({"x": 1})),
        )


def test_the_database_refuses_to_change_posted_entries(ctx, team):
    team.fund("EDU")
    donation = team.donate("EDU", "100.00")
    for statement in (
        "UPDATE postings SET debit = 1 WHERE entry_id = :id",
        "DELETE FROM postings WHERE entry_id = :id",
        "UPDATE journal_entries SET summary = 'x' WHERE id = :id",
        "DELETE FROM journal_entries WHERE id = :id",
    ):
        nested = db.session.begin_nested()
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(text(statement), {"id": donation.entry_id})
        nested.rollback()
    assert ledger.verify().ok


def test_verify_names_the_first_altered_entry(app, live_make):
    from tests.factories import Team

    team = Team(live_make)
    team.fund("EDU")
    first, second, third = (team.donate("EDU", amount) for amount in ("10.00", "20.00", "30.00"))
    with app.app_context():
        assert ledger.verify().ok and ledger.verify().entries == 3
        with db.engine.begin() as conn:  # someone drops the triggers and edits a line
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            else:
                conn.exec_driver_sql("DROP TRIGGER postings_no_update")
            conn.execute(
                text(
                    "UPDATE postings SET debit = 200, credit = 0 WHERE entry_id = :id "
                    "AND account = '1002'"
                ),
                {"id": second.entry_id},
            )
            conn.execute(
                text("UPDATE postings SET credit = 200 WHERE entry_id = :id AND account = '4102'"),
                {"id": second.entry_id},
            )
            if conn.dialect.name != "postgresql":
                conn.exec_driver_sql(
                    "CREATE TRIGGER postings_no_update BEFORE UPDATE ON "
                    "postings BEGIN SELECT RAISE(ABORT, 'the ledger is "
                    "append-only'); END"
                )
        db.session.remove()
        result = ledger.verify()
        assert not result.ok and result.entry.id == second.entry_id
        assert db.session.scalar(select(func.count()).select_from(JournalEntry)) == 3


def test_an_id_number_on_file_under_another_name_is_refused(ctx, team):
    team.fund("HELP", opening="500.00")
    team.subsidy("HELP", "10.00", beneficiary_name="张三", id_number="21010219800101123X")
    with pytest.raises(Conflict) as refused:
        team.subsidy("HELP", "10.00", beneficiary_name="李四", id_number="21010219800101123X")
    assert refused.value.code == "beneficiary_mismatch"


def test_zero_in_any_spelling_opens_a_fund_without_a_voucher(ctx, team):
    for number, zero in enumerate(("0", "0.0", "0.00", " 0 ", None, "")):
        foundation.create_fund(
            team.approver, code=f"Z{number}", name="z", kind="restricted", opening_balance=zero
        )
    assert db.session.scalar(select(func.count()).select_from(JournalEntry)) == 0

"""The ledger as accountants read it: debit and credit in their own columns from voucher to
voucher, a fund chooser, and each voucher printable as a 记账凭证 with its totals in capitals."""

import re

from neighbors.accounts.services import names_of
from neighbors.foundation import services as foundation
from tests.clients import EN, logged_in


def test_the_ledger_is_one_table_with_debit_and_credit_columns_and_a_fund_chooser(app, team):
    team.fund("EDU")
    team.fund("GEN", kind="unrestricted")
    team.donate("EDU", "12345.67")
    team.donate("GEN", "8.00", donor_name="李女士")
    accountant = logged_in(app, team.emails["accountant"])
    page = accountant.get("/foundation/ledger").text
    assert page.count('<table class="responsive ledger">') == 1
    head = re.search(r'<table class="responsive ledger">\s*<thead>(.*?)</thead>', page, re.S)[1]
    assert re.findall(r'<th class="num">(.*?)</th>', head) == ["借方", "贷方"]
    assert "12,345.67" in page and page.count("<tbody>") >= 3  # a row group per voucher
    only_gen = accountant.get("/foundation/ledger?fund=GEN", headers=EN).text
    assert "8.00" in only_gen and "12,345.67" not in only_gen.split("Vouchers")[-1]
    assert '<option value="GEN" selected>' in only_gen
    assert "fund=GEN" in re.search(r'href="([^"]*ledger\.xlsx[^"]*)"', only_gen)[1]


def test_a_paid_subsidy_prints_as_a_voucher_with_its_total_in_capitals_and_signatures(app, team):
    team.fund("EDU")
    donation = team.donate("EDU", "12345.67")
    subsidy = team.subsidy("EDU", "1010.00")
    with app.app_context():
        foundation.approve_subsidy(team.approver, subsidy.id)
        entry_id = foundation.pay_subsidy(team.cashier, subsidy.id).entry_id
        names = names_of(team.ids.values())
    accountant = logged_in(app, team.emails["accountant"])

    page = accountant.get(f"/foundation/ledger/entries/{entry_id}").text
    assert "记账凭证" in page and "凭证号" in page and "JZ" in page
    assert page.count("1,010.00") >= 4  # the line on each side and both totals
    assert "人民币 壹仟零壹拾元整" in page
    for role in ("preparer", "approver", "cashier"):
        assert names[team.ids[role]] in page, role
    for label in ("制单", "审核", "出纳", "记账"):
        assert label in page

    english = accountant.get(f"/foundation/ledger/entries/{donation.entry_id}", headers=EN).text
    assert "Accounting voucher" in english and "12,345.67" in english
    assert "壹万贰仟叁佰肆拾伍元陆角柒分" in english  # capitals are the same in any language
    assert names[team.ids["preparer"]] in english


def test_only_the_ledgers_readers_open_a_voucher(app, team):
    team.fund("EDU")
    donation = team.donate("EDU", "5.00")
    preparer = logged_in(app, team.emails["preparer"])
    assert preparer.get(f"/foundation/ledger/entries/{donation.entry_id}").status_code == 403
    approver = logged_in(app, team.emails["approver"])
    assert approver.get(f"/foundation/ledger/entries/{donation.entry_id}").status_code == 200
    assert approver.get("/foundation/ledger/entries/99999999").status_code == 404

"""Every XLSX export as its reader opens and prints it: openpyxl reads the formats, the frozen
header, the filter and the print titles; LibreOffice prints each to PDF (one run for all) and
pdftotext reads it back: no cell shows ###, every page holds every column (one page wide), the
small reports fit one page, and the totals printed are the ledger's."""

import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest

from neighbors.core.timezone import local_today
from neighbors.foundation import exports
from neighbors.foundation import services as foundation
from neighbors.hours import services as hours
from neighbors.mutual_aid import services as aid
from tests.clients import EN, logged_in
from tests.factories import COMMUNITY
from tests.mutual_aid.conftest import Neighbourhood
from tests.office import pdf_pages, require_office, to_pdf

pytestmark = pytest.mark.documents

LONG_NAME = "沈阳市和平区某某街道某某社区居民委员会爱心企业联合会" * 2  # wraps in its cell


def money(amount):
    return f"{amount:,.2f}"


@pytest.fixture
def books(app, team, make):
    """A year's books: two funds, many donations (one large, one from a long name), a subsidy
    paid; a community with a Party member who served and a shop that gave out rice."""
    team.fund("EDU", opening="50000.00")
    team.fund("GEN", kind="unrestricted")
    team.donate("EDU", "12345678.90", donor_name=LONG_NAME, channel="bank_transfer")
    for number in range(40):
        team.donate("GEN", f"{100 + number}.50", donor_name=f"捐赠人{number}", channel="wechat")
    subsidy = team.subsidy("EDU", "1010.00")
    hood = Neighbourhood(make)
    with app.test_request_context():
        foundation.approve_subsidy(team.approver, subsidy.id)
        foundation.pay_subsidy(team.cashier, subsidy.id)
        record = hours.submit_service(
            hood.member, activity="陪伴老人", place="文安路社区", organiser="文安路社区",
            served_on=local_today() - timedelta(days=1), minutes=600,
        )  # fmt: skip
        hours.review(hood.staff, [record.id], confirm=True)
        item = aid.add_item(
            hood.staff, community_code=COMMUNITY, name="大米 5kg", points=10, stock=9
        )
        aid.redeem(hood.staff, item_id=item.id, user_id=hood.member_id, quantity=3)
    return hood


def downloads(app, team, hood):
    """Every XLSX export of the app, by name, as its reader downloads it (in Chinese; the
    ledger in English too)."""
    accountant = logged_in(app, team.emails["accountant"])
    staff = logged_in(app, hood.staff_email)
    year = local_today().year
    month = aid.this_month()
    wanted = {
        "ledger": (accountant, "/foundation/ledger.xlsx", {}),
        "ledger-en": (accountant, "/foundation/ledger.xlsx", EN),
        "ledger-gen": (accountant, "/foundation/ledger.xlsx?fund=GEN", {}),
        "donations": (accountant, f"/foundation/donations.xlsx?year={year}", {}),
        "subsidies": (accountant, f"/foundation/subsidies.xlsx?year={year}", {}),
        "detail": (accountant, "/foundation/detail?fund=EDU&account=1002&format=xlsx", {}),
        "party": (staff, f"/staff/party-report.xlsx?year={year}", {}),
        "shop": (staff, f"/staff/shop/report.xlsx?community={COMMUNITY}&month={month}", {}),
    }
    found = {}
    for name, (client, path, headers) in wanted.items():
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (name, response.status_code)
        found[name] = response.data
    return found


def check_layout(name, data):
    """What openpyxl reads: title, frozen header, filter, print titles, A4 landscape one page
    wide, and each value stored as what it is in its format."""
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet.freeze_panes == "A4", name
    assert sheet.auto_filter.ref.startswith("A3:"), name
    assert sheet.print_title_rows == "$3:$3", name
    setup = sheet.page_setup
    assert (setup.orientation, str(setup.paperSize)) == ("landscape", "9"), name
    assert sheet.sheet_properties.pageSetUpPr.fitToPage, name
    assert str(setup.fitToWidth or 1) == "1" and str(setup.fitToHeight) == "0", name
    for column in range(1, sheet.max_column + 1):
        assert sheet.column_dimensions[openpyxl.utils.get_column_letter(column)].width, name
    for row in sheet.iter_rows(min_row=4):
        for cell in row:
            if isinstance(cell.value, datetime):
                assert cell.number_format.startswith("yyyy-mm-dd"), (name, cell.coordinate)
            elif isinstance(cell.value, float | int) and not isinstance(cell.value, bool):
                assert cell.number_format in ("#,##0.00", "#,##0"), (name, cell.coordinate)
    return sheet


def test_every_spreadsheet_prints_whole_and_its_totals_are_the_ledgers(app, team, books, tmp_path):
    require_office()
    files = downloads(app, team, books)
    sheets = {name: check_layout(name, data) for name, data in files.items()}
    assert sheets["ledger"]["C3"].value == "摘要" and sheets["ledger-en"]["C3"].value == "Summary"
    assert sheets["donations"]["E4"].value in ("银行转账", "微信支付")  # labels, not codes
    assert sheets["ledger"]["G4"].number_format == "#,##0.00"

    paths = []
    for name, data in files.items():
        path = tmp_path / f"{name}.xlsx"
        path.write_bytes(data)
        paths.append(path)
    printed = dict(zip(files, map(pdf_pages, to_pdf(paths, tmp_path)), strict=True))

    for name, pages in printed.items():
        text = "\n".join(pages)
        assert "###" not in text, f"{name}: a cell too narrow for its value"
        header = [c.value for c in sheets[name][3] if c.value]
        for number, page in enumerate(pages, start=1):  # one page wide: every column on each
            assert header[0] in page and header[-1] in page, f"{name}, page {number}"
    for small in ("subsidies", "detail", "party", "shop"):
        assert len(printed[small]) == 1, f"{small} fits one page"
    for long in ("ledger", "ledger-gen"):  # the header printed again on each page (above)
        assert len(printed[long]) > 1, long
        assert all(f"/{len(printed[long])}" in page for page in printed[long]), long
    assert LONG_NAME in "".join(printed["donations"][0].split())  # wrapped, never cut

    with app.app_context():
        lines = list(exports.ledger_lines(date(local_today().year, 1, 1), local_today()))
    debit = sum(line[7] for line in lines)
    assert debit == sum(line[8] for line in lines)
    total_line = next(line for line in printed["ledger"][-1].splitlines() if "合计" in line)
    assert total_line.split()[1:] == [money(debit), money(debit)]
    donated = Decimal("12345678.90") + sum(Decimal(f"{100 + n}.50") for n in range(40))
    assert money(donated) in printed["donations"][-1].split("合计")[-1]
    assert money(Decimal("1010.00")) in printed["subsidies"][0].split("合计")[-1]
    # The community's staff read English (their account's language).
    assert printed["party"][0].split("\nTotal")[-1].split()[:2] == ["1", "10.00"]  # 10 hours, once
    assert printed["shop"][0].split("\nTotal")[-1].split()[:3] == ["3", "30", "1"]

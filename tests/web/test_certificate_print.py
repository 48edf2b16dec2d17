"""The certificate as its reader holds it: Chromium prints it to PDF on A4 (Playwright's
page.pdf), and it is exactly one page with the whole check link readable by pdftotext (the link
wraps at the margin instead of being cut). Needs poppler-utils' pdftotext and pdfinfo."""

import re
import shutil
import subprocess
import threading
from datetime import timedelta

import pytest
from werkzeug.serving import make_server

from neighbors.accounts import identity
from neighbors.accounts import services as accounts
from neighbors.areas import services as areas
from neighbors.core.timezone import local_today
from neighbors.hours import services as hours
from tests.factories import COMMUNITY, DEMO_AREAS, PASSWORD, TEST_DATABASE_URL
from tests.hours.conftest import ID_NUMBER, served

pytestmark = pytest.mark.browser

SERVICES = 8  # a season of weekly service: the page stays one sheet


@pytest.fixture
def printed(app, committing_db, tmp_path):
    if TEST_DATABASE_URL:
        pytest.skip("the certificate's print is checked in the SQLite run")
    if not (shutil.which("pdftotext") and shutil.which("pdfinfo")):
        pytest.skip("pdftotext and pdfinfo are missing: install poppler-utils to run this test")
    with app.test_request_context():
        areas.import_areas(DEMO_AREAS)
        community = areas.community_by_code(COMMUNITY)
        staff = accounts.create_user(
            email="staff@example.org", password=PASSWORD, name="李静", role="staff",
            community_code=COMMUNITY,
        )  # fmt: skip
        volunteer = accounts.create_user(
            email="v@example.org", password=PASSWORD, name="欧阳娜娜", role="volunteer",
            community_code=COMMUNITY,
        )  # fmt: skip
        for week in range(SERVICES):
            served(volunteer.id, community.id, minutes=150, days_ago=3 + 7 * week,
                   activity="文安路社区老年人助餐服务与楼道环境整治志愿活动")  # fmt: skip
        issuer = f"community:{community.id}"
        hours.save_issuer_settings(
            staff, issuer, responsible="王建国", handler="李静", contact="024-23456789"
        )
        identity.save_identity(volunteer, id_type="resident_id", id_number=ID_NUMBER)
        certificate = hours.issue_certificate(
            volunteer, local_today() - timedelta(days=90), local_today(), issuer
        )
        serial, token = certificate.serial, hours.certificate_token(certificate)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        server = f"http://127.0.0.1:{httpd.server_port}"
        yield server, serial, token, tmp_path
    finally:
        httpd.shutdown()
        thread.join()


def test_the_certificate_prints_on_one_a4_page_with_the_whole_link(app, browser, printed):
    server, serial, token, folder = printed
    page = browser.new_context(locale="zh-CN").new_page()
    page.goto(server + "/login")
    page.locator("#login").fill("v@example.org")
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(f"{server}/my/certificates/{serial}")
    pdf = folder / "certificate.pdf"
    pdf.write_bytes(page.pdf(format="A4", print_background=True))
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    assert re.search(r"^Pages:\s+1$", info.stdout, re.M), info.stdout
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    link = f"{server}/certificates/verify/{token}"  # the address the page was served at
    assert link in re.sub(r"\s+", "", text), text
    for shown in ("志愿服务记录证明", serial, "王建国", "李静", "1101**********002X", "盖章"):
        assert shown in text, shown
    # Balanced: the check link sits at the foot of the sheet, not in its top third.
    lines = [line for line in text.splitlines() if line.strip()]
    assert "/certificates/verify/" in "".join(lines[-4:]) or token[:8] in "".join(lines[-4:])
    page.context.close()

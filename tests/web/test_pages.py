"""Every page a person reaches, in Chromium, on a phone (360x740) and a desktop (1366x900), in
Simplified Chinese and in English: axe-core finds no serious or critical violation, nothing
scrolls sideways, every link, button and field is at least 44x44 px on the phone, the page runs
no script the Content-Security-Policy refuses; the key screens are saved for review.

A new page joins by a line in PAGES: who opens it and its path ({names} are filled from IDS).
"""

import os
import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug.exceptions import HTTPException
from werkzeug.serving import make_server

from tests.conftest import empty_database
from tests.factories import TEST_DATABASE_URL
from tests.web.conftest import missing

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SCREENS = Path(os.environ.get("NEIGHBORS_SCREENSHOTS", Path(__file__).parents[2] / "test-output"))
PHONE, DESKTOP = {"width": 360, "height": 740}, {"width": 1366, "height": 900}
TAP = 44  # px: WCAG 2.5.5's target size, for older fingers
LOGINS = {  # the demo city's people (password: demo-password)
    "volunteer": "volunteer@example.org",
    "staff": "staff@example.org",
    "preparer": "preparer@example.org",
    "approver": "approver@example.org",
    "cashier": "cashier@example.org",
    "accountant": "accountant@example.org",
    "admin": "admin@example.org",
    "coordinator": "coordinator@example.org",
    "party": "party@example.org",
}


@dataclass(frozen=True)
class Page:
    name: str  # also the screenshot's name
    who: str  # "anonymous" or a key of LOGINS
    path: str  # may name {event}, {past}, {record}, … (see `ids`)
    shot: bool = False  # a key screen: saved as a screenshot for review
    status: int = 200
    axe_off: tuple = ()  # axe rules that do not apply here, each with its reason beside it


PAGES = [
    Page("home", "anonymous", "/", shot=True),
    Page("events", "anonymous", "/events", shot=True),
    Page("event", "anonymous", "/events/{event}"),
    Page("login", "anonymous", "/login", shot=True),
    Page("register", "anonymous", "/register"),
    Page("privacy", "anonymous", "/privacy"),
    Page("disclosure", "anonymous", "/disclosure"),
    Page("verify", "anonymous", "/certificates/verify/{token}"),
    Page("verify-bad", "anonymous", "/certificates/verify/forged", status=404),
    Page("not-found", "anonymous", "/nowhere", status=404),
    Page("v-event", "volunteer", "/events/{event}", shot=True),
    Page("v-cancel", "volunteer", "/events/{event}/cancel-signup", shot=True),
    Page("v-my-events", "volunteer", "/my/events", shot=True),
    Page("v-checkin", "volunteer", "/events/{event}/checkin"),
    Page("v-my-hours", "volunteer", "/my/hours", shot=True),
    Page("v-report-hours", "volunteer", "/my/hours/new"),
    Page("v-correction", "volunteer", "/my/hours/{own_record}/correction"),
    Page("v-certificates", "volunteer", "/my/certificates"),
    Page("v-certificate", "volunteer", "/my/certificates/{serial}", shot=True),
    Page("v-identity", "volunteer", "/profile/identity"),
    Page("s-certificates", "staff", "/staff/certificates", shot=True),
    Page("s-issuer", "staff", "/staff/certificates/issuer"),
    Page("s-revoke", "staff", "/staff/certificates/{serial}/revoke"),
    Page("s-national-export", "staff", "/staff/national-export"),
    Page("s-identity", "staff", "/staff/people/{volunteer}/identity"),
    Page("c-certificates", "coordinator", "/staff/certificates"),
    Page("v-calendar", "volunteer", "/my/calendar", shot=True),
    Page("v-calendar-renew", "volunteer", "/my/calendar?renew=1"),
    Page("v-profile", "volunteer", "/profile"),
    Page("v-edit-profile", "volunteer", "/profile/edit"),
    Page("v-password", "volunteer", "/profile/password"),
    Page("v-party", "volunteer", "/profile/party"),
    Page("s-events", "staff", "/staff/events", shot=True),
    Page("s-event", "staff", "/events/{past}"),
    Page("s-new-event", "staff", "/staff/events/new"),
    Page("s-new-series", "staff", "/staff/series/new"),
    Page("s-edit", "staff", "/staff/events/{event}/edit"),
    Page("s-cancel-event", "staff", "/staff/events/{event}/cancel"),
    Page("s-roster", "staff", "/staff/events/{event}/roster"),
    Page("s-attendance", "staff", "/staff/events/{past}/attendance", shot=True),
    # The door screen reloads itself as the code changes: a real-time display (WCAG 2.2.1's
    # real-time exception), read from a distance, never filled in.
    Page("s-code", "staff", "/staff/events/{ended}/code", shot=True, axe_off=("meta-refresh",)),
    Page("s-complete", "staff", "/staff/events/{ended}/complete"),
    Page("s-remove", "staff", "/staff/events/{event}/attendance/{volunteer}/remove"),
    Page("s-hours", "staff", "/staff/hours", shot=True),
    Page("s-correct", "staff", "/staff/hours/{own_record}/correct"),
    Page("s-dashboard", "staff", "/staff/dashboard", shot=True),
    Page("s-party-members", "staff", "/staff/party-members"),
    Page("s-party-report", "staff", "/staff/party-report"),
    Page("f-funds", "cashier", "/foundation/"),
    Page("f-new-fund", "approver", "/foundation/funds/new"),
    Page("f-donations", "preparer", "/foundation/donations"),
    Page("f-new-donation", "preparer", "/foundation/donations/new"),
    Page("f-subsidies", "approver", "/foundation/subsidies", shot=True),
    Page("f-new-subsidy", "preparer", "/foundation/subsidies/new"),
    Page("f-pay", "cashier", "/foundation/subsidies/{approved}/pay", shot=True),
    Page("f-reject", "approver", "/foundation/subsidies/{prepared}/reject"),
    Page("f-beneficiary", "approver", "/foundation/beneficiaries/{beneficiary}"),
    Page("f-ledger", "accountant", "/foundation/ledger", shot=True),
    Page("f-voucher", "accountant", "/foundation/ledger/entries/{entry}", shot=True),
    Page("f-detail-choose", "accountant", "/foundation/detail"),
    Page("f-detail", "accountant", "/foundation/detail?fund=GEN"),
    Page("f-reverse", "approver", "/foundation/ledger/entries/{entry}/reverse"),
    Page("a-areas", "admin", "/admin/areas/"),
    Page("a-district", "admin", "/admin/areas/districts/210102"),
    Page("a-street", "admin", "/admin/areas/streets/210102002"),
    Page("a-community", "admin", "/admin/areas/communities/210102002001"),
    Page("a-audit", "admin", "/admin/audit"),
    Page("a-people", "admin", "/admin/people/?q=刘"),
    Page("a-person", "admin", "/admin/people/{volunteer}"),
    Page("login-code", "anonymous", "/login/code"),
    Page("reply", "anonymous", "/reply/{reply}"),
    Page("v-phone", "volunteer", "/profile/phone"),
    Page("stations", "anonymous", "/stations?district=210102&street=210102002"),
    Page("station", "anonymous", "/stations/{station}"),
    Page("organisations", "anonymous", "/organisations"),
    Page("organisation", "anonymous", "/organisations/{organisation}"),
    Page("v-register-org", "volunteer", "/organisations/new"),
    Page("v-my-organisations", "volunteer", "/my/organisations"),
    Page("c-manage", "coordinator", "/organisations/{organisation}/manage", shot=True),
    Page("c-new-event", "coordinator", "/organisations/{organisation}/events/new"),
    Page("s-organisations", "staff", "/staff/organisations"),
    Page("s-organisations-hours", "staff", "/staff/organisations/hours"),
    Page("c-organisation-hours", "coordinator", "/organisations/{organisation}/hours"),
    Page("p-report-in", "party", "/organisations/{party_org}/report-in?community=210102002001"),
    Page("s-party-orgs", "staff", "/staff/party-organisations?status=confirmed", shot=True),
    Page("s-party-posts", "staff", "/staff/party-posts"),
    Page("s-party-org", "staff", "/party-organisations/{party_report}", shot=True),
    Page("s-party-feedback", "staff", "/staff/party-organisations/{party_report}/feedback"),
    Page("wishes", "anonymous", "/wishes", shot=True),
    Page("wish", "anonymous", "/wishes/{wish}"),
    Page("v-new-wish", "volunteer", "/wishes/new"),
    Page("v-my-wishes", "volunteer", "/my/wishes"),
    Page("v-my-points", "volunteer", "/my/points"),
    Page("s-wishes", "staff", "/staff/wishes"),
    Page("s-wish-fulfilled", "staff", "/wishes/{fulfilled}"),
    Page("s-mutual-aid", "staff", "/staff/mutual-aid"),
    Page("s-shop", "staff", "/staff/shop"),
    Page("s-counter", "staff", "/staff/shop/counter"),
    Page("s-slip", "staff", "/staff/shop/redemptions/{redemption}"),
]

# Run in the page: what a finger cannot hit, and what scrolls sideways.
MEASURE = """(tap) => {
  const small = [];
  const seen = el => {
    const style = getComputedStyle(el);
    return style.visibility !== 'hidden' && style.display !== 'none' && el.getClientRects().length;
  };
  for (const el of document.querySelectorAll(
      'a[href], button, input:not([type=hidden]), select, textarea, summary')) {
    if (!seen(el) || el.closest('[hidden], details:not([open]) > :not(summary)')) continue;
    // A checkbox's target is its label (the whole line), as a finger uses it.
    const target = ['checkbox', 'radio'].includes(el.type) && el.closest('label') || el;
    const box = target.getBoundingClientRect();
    if (box.width < tap - 0.5 || box.height < tap - 0.5) {
      const text = (el.innerText || el.value || el.name || el.id || '').trim().slice(0, 40);
      const size = `${Math.round(box.width)}x${Math.round(box.height)}`;
      small.push(`${el.tagName.toLowerCase()} "${text}" ${size}`);
    }
  }
  return {small, scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth};
}"""

AXE_RUN = """async (off) => {
  const rules = Object.fromEntries(off.map(id => [id, {enabled: false}]));
  const result = await axe.run(document, {resultTypes: ['violations'], rules});
  return result.violations
    .filter(v => ['serious', 'critical'].includes(v.impact))
    .map(v => {
      const where = v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ');
      return `${v.id} (${v.impact}): ${v.help} at ${where}`;
    });
}"""


def ids(app):
    """The demo city's objects that the pages name."""
    from neighbors.accounts import services as accounts
    from neighbors.attendance import services as attendance
    from neighbors.core.db import utcnow
    from neighbors.core.timezone import local_today
    from neighbors.events import services as events
    from neighbors.foundation import services as foundation
    from neighbors.hours import services as hours

    with app.app_context():
        volunteer = accounts.user_by_email("volunteer@example.org")
        staff = accounts.user_by_email("staff@example.org")
        listed, _ = events.list_events(events.EventFilter(text="小区环境整治"), limit=5)
        past, _ = events.list_events(
            events.EventFilter(text="重阳节慰问", status="completed"), limit=5
        )
        record = next(row[0] for row in hours.my_records(volunteer) if row[0].status == "confirmed")
        certificate = hours.issue_certificate(
            volunteer,
            local_today() - timedelta(days=60),
            local_today(),
            f"community:{volunteer.home_community_id}",
        )
        now = utcnow()
        ended = events.create_event(
            staff,
            community_code="210102002001",
            title="楼道清扫",
            category="society",
            venue="3号楼",
            capacity=5,
            starts_at=now - timedelta(hours=3),
            ends_at=now - timedelta(minutes=30),  # its check-in code still shows
        )
        events.publish_event(staff, ended.id)
        attendance.walk_in(staff, ended.id, "volunteer@example.org")
        approver = accounts.user_by_email("approver@example.org")
        subsidies = foundation.subsidies(approver)
        approved = next(s for s in subsidies if s.status == "approved")
        prepared = next(s for s in subsidies if s.status == "prepared")
        donation = foundation.donations(approver)[0]
        from sqlalchemy import select

        from neighbors.events.models import Signup
        from neighbors.extensions import db
        from neighbors.mutual_aid.models import Redemption, Wish
        from neighbors.organisations import services as organisations

        signup = db.session.scalar(
            select(Signup).where(Signup.user_id == volunteer.id, Signup.status == "confirmed")
        )
        from neighbors.party import reporting

        team = next(o for o, _n in organisations.directory() if o.kind == "volunteer_team")
        (party_report,) = reporting.reports_in_scope(staff)
        return {
            "party_org": party_report.organisation_id,
            "party_report": party_report.id,
            "reply": events.reply_token(signup, "coming"),
            "station": "ST210102002",
            "organisation": team.id,
            "wish": db.session.scalar(select(Wish.id).where(Wish.status == "published")),
            "fulfilled": db.session.scalar(select(Wish.id).where(Wish.status == "fulfilled")),
            "redemption": db.session.scalar(select(Redemption.id)),
            "event": listed[0].id,
            "past": past[0].id,
            "ended": ended.id,
            "volunteer": volunteer.id,
            "own_record": record.id,
            "serial": certificate.serial,
            "token": hours.certificate_token(certificate),
            "approved": approved.id,
            "prepared": prepared.id,
            "beneficiary": approved.beneficiary_id,
            "entry": donation.entry_id,
        }


@pytest.fixture(scope="module")
def site(app):
    """The demo city, served on a free port, for the whole module (emptied after)."""
    if TEST_DATABASE_URL:
        # Pages look the same on either database; CI checks them in its SQLite run, and the
        # PostgreSQL run keeps its time for what does differ.
        pytest.skip("the pages are checked in the SQLite run")
    if not AXE.exists():
        missing(f"no axe-core at {AXE}: `python3 manage.py test` installs it with npm")
    from neighbors.demo import load_demo

    try:
        with app.app_context():
            load_demo()
        values = ids(app)
        httpd = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{httpd.server_port}", values
        finally:
            httpd.shutdown()
            thread.join()
    finally:
        empty_database(app)


@pytest.fixture(scope="module")
def people(browser, site):
    """One browser context per (person, language), logged in once."""
    server, _values = site
    contexts = {}

    def open_as(who, lang):
        if (who, lang) not in contexts:
            context = browser.new_context(locale="zh-CN" if lang == "zh" else "en-US")
            page = context.new_page()
            page.goto(server + "/")
            if who != "anonymous":
                page.goto(server + "/login")
                page.locator("#login").fill(LOGINS[who])
                page.locator("#password").fill("demo-password")
                page.locator("main form button[type=submit]").click()
                page.wait_for_load_state()
                assert "/login" not in page.url, f"{who} could not log in"
            page.close()
            contexts[who, lang] = context
        return contexts[who, lang]

    yield open_as
    for context in contexts.values():
        context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("spec", PAGES, ids=[p.name for p in PAGES])
def test_page_is_usable_on_a_phone_and_a_desktop(spec, lang, site, people):
    server, values = site
    context = people(spec.who, lang)
    axe_source = AXE.read_text(encoding="utf-8")
    page = context.new_page()
    refused = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and refused.append(message.text),
    )
    problems = []
    try:
        for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            page.set_viewport_size(viewport)
            response = page.goto(server + spec.path.format(**values))
            assert response.status == spec.status, f"{spec.path}: {response.status}"
            html_lang = page.locator("html").get_attribute("lang")
            assert html_lang == ("zh-CN" if lang == "zh" else "en"), html_lang
            page.evaluate(axe_source)
            for violation in page.evaluate(AXE_RUN, list(spec.axe_off)):
                problems.append(f"{label}: axe {violation}")
            measured = page.evaluate(MEASURE, TAP)
            if measured["scrollWidth"] > measured["innerWidth"]:
                problems.append(
                    f"{label}: scrolls sideways ({measured['scrollWidth']} px in "
                    f"{measured['innerWidth']} px)"
                )
            if label == "phone":
                problems += [f"phone: smaller than {TAP} px: {s}" for s in measured["small"]]
            if spec.shot:
                SCREENS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=SCREENS / f"{spec.name}-{lang}-{label}.png")
    finally:
        page.close()
    problems += [f"refused by the CSP: {text}" for text in refused]
    assert problems == [], "\n".join(problems)


def test_the_list_names_every_page_a_person_reaches(app):
    """A GET page added to the app without a line in PAGES fails here."""
    covered = set()
    for spec in PAGES:
        adapter = app.url_map.bind("localhost")
        path = spec.path.split("?")[0].format(
            **dict.fromkeys(
                (
                    "event",
                    "past",
                    "ended",
                    "volunteer",
                    "own_record",
                    "approved",
                    "prepared",
                    "beneficiary",
                    "organisation",
                    "party_org",
                    "party_report",
                    "wish",
                    "fulfilled",
                    "redemption",
                ),
                1,
            ),
            reply="r",
            station="ST1",
            serial="S-1",
            token="t",
            entry=1,
        )
        try:
            endpoint, _args = adapter.match(path, method="GET")
        except HTTPException:  # the 404 pages name no route
            continue
        covered.add(endpoint)
    pages = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods
        and rule.endpoint not in NOT_PAGES
        and not rule.endpoint.startswith("api.")
    }
    assert pages - covered == set(), "add these pages to PAGES"


# GET routes that are no page: downloads, redirects, the API, health.
NOT_PAGES = {
    "static",
    "web.healthz",
    "web.home",
    "web.favicon",
    "events.event_ics",
    "events.calendar_feed",
    "foundation.export",
    "foundation.list_export",
    "mutual_aid.shop_report",
    "party_orgs.feedback_xlsx",
    "certificates.national_download",  # an XLSX, checked in tests/web/test_downloads.py
    "mutual_aid.wish_photo",  # a JPEG, not a page
    "accounts.accept_invitation",  # needs an invitation token; the same form as the password
}


BROKEN = """<!doctype html><html lang="en"><head><title>Broken</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>Broken</h1><a href="/x">x</a> <img src="data:,">
<label><input type="checkbox"> tiny</label>
<div style="width: 900px">too wide</div></main></body></html>"""


def test_the_checks_find_what_they_look_for(browser):
    """The checks above, on a page that breaks each rule, say so (they can fail)."""
    if not AXE.exists():
        missing(f"no axe-core at {AXE}: `python3 manage.py test` installs it with npm")
    page = browser.new_page(viewport=PHONE)
    page.set_content(BROKEN)
    page.evaluate(AXE.read_text(encoding="utf-8"))
    violations = page.evaluate(AXE_RUN, [])
    measured = page.evaluate(MEASURE, TAP)
    page.close()
    assert any(v.startswith("image-alt (critical)") for v in violations), violations
    assert measured["scrollWidth"] > measured["innerWidth"]
    assert any(s.startswith('a "x"') for s in measured["small"]), measured["small"]
    assert any(s.startswith("input") for s in measured["small"]), measured["small"]

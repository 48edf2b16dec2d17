"""Every download names its type once: one Content-Type header, one charset for text."""

import re

from werkzeug.http import parse_options_header

from neighbors.accounts import services as accounts
from neighbors.core.timezone import local_today
from tests.clients import log_in
from tests.factories import COMMUNITY, PASSWORD, EventFactory, Team

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Downloads chosen by a query string rather than by a file name in the path.
BY_QUERY = {"foundation.detail", "api.export_ledger", "api.national_export"}
# A wish's photo is an image, not a document: tests/mutual_aid/test_photos.py checks its type.
IMAGES = {"mutual_aid.wish_photo"}


def file_routes(app):
    """Every GET route whose path ends in a file name (…/ledger.csv, …/<fmt>, <id>.ics)."""
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods
        and "." in rule.rule.rsplit("/", 1)[-1]
        and rule.endpoint != "web.favicon"  # /favicon.ico only redirects to the icon
    }


def signed_in(app, email):
    client = app.test_client()
    log_in(client, email)
    return client


def test_every_download_has_one_well_formed_content_type(app, make):
    events, team = EventFactory(app, make), Team(make)
    event_id = events.event()
    team.fund("EDU")
    team.donate("EDU", "120.50")
    team.subsidy("EDU", "20.00")
    volunteer = signed_in(app, make.user()[1])
    feed = re.search(
        r'value="http://localhost(/calendar/[^"]+\.ics)"', volunteer.get("/my/calendar").text
    )
    staff, accountant = (
        signed_in(app, events.staff_email),
        signed_in(app, team.emails["accountant"]),
    )
    with app.app_context():
        token = accounts.issue_token(team.emails["accountant"], PASSWORD)[0]
    api = app.test_client()
    api.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    with app.app_context():
        from datetime import date

        from neighbors.hours import services as hours
        from neighbors.organisations import services as organisations
        from neighbors.party import reporting

        branch = organisations.register(
            events.staff(), name="党支部", kind="party_org", community_code=COMMUNITY
        ).id
        report_id = reporting.report_in(
            events.staff(), branch, community_code=COMMUNITY, starts_on=date(2026, 1, 1),
            ends_on=date(2026, 12, 31), contact_name="周", contact_email="b@example.org",
        ).id  # fmt: skip
        run_id = hours.national_export(
            events.staff(), community=COMMUNITY, period_from=date(2026, 1, 1),
            period_to=local_today(),
        )[-1].id  # fmt: skip
        staff_token = accounts.issue_token(events.staff_email, PASSWORD)[0]
    staff_api = app.test_client()
    staff_api.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {staff_token}"
    national = f"/api/v1/exports/national-system.xlsx?community={COMMUNITY}"

    downloads = [
        ("events.event_ics", volunteer, f"/events/{event_id}.ics", "text/calendar"),
        ("events.calendar_feed", volunteer, feed.group(1), "text/calendar"),
        ("party.report", staff, "/staff/party-report.csv", "text/csv"),
        ("party.report", staff, "/staff/party-report.xlsx", XLSX),
        ("foundation.export", accountant, "/foundation/ledger.csv", "text/csv"),
        ("foundation.export", accountant, "/foundation/ledger.xlsx", XLSX),
        ("foundation.export", accountant, "/foundation/ledger.beancount", "text/plain"),
        ("foundation.list_export", accountant, "/foundation/donations.csv", "text/csv"),
        ("foundation.list_export", accountant, "/foundation/donations.xlsx", XLSX),
        ("foundation.list_export", accountant, "/foundation/subsidies.csv", "text/csv"),
        ("foundation.list_export", accountant, "/foundation/subsidies.xlsx", XLSX),
        ("foundation.detail", accountant, "/foundation/detail?fund=EDU&format=csv", "text/csv"),
        ("api.export_ledger", api, "/api/v1/ledger?format=csv", "text/csv"),
        ("api.export_ledger", api, "/api/v1/ledger?format=xlsx", XLSX),
        ("api.export_ledger", api, "/api/v1/ledger?format=beancount", "text/plain"),
        ("mutual_aid.shop_report", staff, f"/staff/shop/report.xlsx?community={COMMUNITY}", XLSX),
        ("organisations.hours_by_organisation", staff, "/staff/organisations/hours.xlsx", XLSX),
        ("organisations.organisation_hours", staff, f"/organisations/{branch}/hours.xlsx", XLSX),
        ("certificates.national_download", staff, f"/staff/national-export/{run_id}.xlsx", XLSX),
        ("api.national_export", staff_api, f"{national}&from=2026-01-01&to={local_today()}", XLSX),
        (
            "party_orgs.feedback_xlsx",
            staff,
            f"/party-organisations/{report_id}/feedback.xlsx",
            XLSX,
        ),
    ]
    # A new download route must be added above (and so checked).
    assert {endpoint for endpoint, *_rest in downloads} == (file_routes(app) - IMAGES) | BY_QUERY
    for _endpoint, client, url, expected in downloads:
        response = client.get(url)
        assert response.status_code == 200, url
        response.get_data()  # the whole stream, so a streamed download fails here, not later
        (header,) = response.headers.getlist("Content-Type")
        mimetype, params = parse_options_header(header)
        assert mimetype == expected, url
        if expected.startswith("text/"):
            assert params == {"charset": "utf-8"} and header.lower().count("charset") == 1, header
        else:
            assert params == {}, header
        assert 'filename="' in response.headers["Content-Disposition"], url

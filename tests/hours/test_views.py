"""Hours pages: my hours, certificates and their check, staff queue, attendance, reports."""

import csv
import io
import re
from datetime import date, timedelta

from neighbors.core.timezone import local_today
from neighbors.hours import services as hours
from neighbors.party import members as party_members
from tests.clients import log_in, post_form
from tests.factories import person
from tests.sheets import table

EN = {"Accept-Language": "en"}


def test_volunteer_reports_service_staff_confirm_certificate_checks_out(app, client, hours_factory):
    volunteer_id, email = hours_factory.make.user()
    log_in(client, email)
    served = (local_today() - timedelta(days=1)).isoformat()
    response = post_form(
        client,
        "/my/hours/new",
        {
            "activity": "教老人用手机",
            "place": "社区活动室",
            "organiser": "文安路社区",
            "served_on": served,
            "hours": "2",
            "minutes": "30",
        },
    )
    assert response.status_code == 302
    assert "Waiting for confirmation" in client.get("/my/hours", headers=EN).text

    staff = app.test_client()
    log_in(staff, hours_factory.staff_email)
    page = staff.get("/staff/hours", headers=EN).text
    record_id = re.search(r'name="record" value="(\d+)"', page).group(1)
    response = post_form(staff, "/staff/hours/review", {"record": record_id, "decision": "confirm"})
    assert response.status_code == 302

    page = client.get("/my/hours", headers=EN).text
    assert "2.5 hours" in page
    response = post_form(
        client,
        "/my/certificates",
        {"period_from": "2026-01-01", "period_to": local_today().isoformat()},
    )
    assert response.status_code == 302
    certificate = client.get(response.location, headers=EN).text
    assert "<svg" in certificate and "2.5" in certificate
    link = re.search(r'href="http://localhost(/certificates/verify/[^"]+)"', certificate).group(1)
    anonymous = app.test_client()
    page = anonymous.get(link, headers=EN).text
    assert "This certificate is genuine." in page and "2.5" in page
    assert anonymous.get(link[:-3] + "abc").status_code == 404


def test_attendance_sheet_complete_and_party_exports(app, client, hours_factory):
    member_id, _ = hours_factory.make.user()
    with app.app_context():
        party_members.declare_party_membership(
            person(member_id),
            branch="第一党支部",
            work_unit='=HYPERLINK("x")',
            community_code="210102002001",
            grid_code="",
            reported_on=date(2026, 3, 5),
        )
    event_id = hours_factory.held_event([member_id], minutes=60)
    log_in(client, hours_factory.staff_email)
    page = client.get(f"/staff/events/{event_id}/attendance", headers=EN).text
    assert "Check in" in page
    post_form(client, f"/staff/events/{event_id}/attendance/all-present", {})
    post_form(client, f"/staff/events/{event_id}/complete", {})
    with app.app_context():
        ids = [r.id for r in hours.records_to_confirm(hours_factory.staff())]
    post_form(client, "/staff/hours/review", {"record": ids, "decision": "confirm"})

    xlsx = client.get("/staff/party-report.xlsx")
    sheet = table(xlsx.data)
    assert sheet.body[0][1] == '=HYPERLINK("x")'  # kept as the text it is
    assert sheet.sheet.cell(row=4, column=2).data_type == "s"  # text, never run as a formula
    assert sheet.body[0][6] == 1 and sheet.body[0][7] == 1  # one activity, one hour: numbers
    data = client.get("/staff/party-report.csv").data
    assert data.startswith("\ufeff".encode())
    (header, row) = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert row[1].startswith("'=") and row[7] == "1.00"
    assert client.get("/staff/dashboard", headers=EN).status_code == 200
    assert "<svg" in client.get("/staff/dashboard").text


def test_volunteers_cannot_reach_staff_pages(client, hours_factory):
    log_in(client, hours_factory.make.user()[1])
    for path in (
        "/staff/hours",
        "/staff/dashboard",
        "/staff/party-report",
        "/staff/party-report.csv",
    ):
        assert client.get(path).status_code == 403


def test_hostile_input_and_scope_on_hours_pages(app, client, hours_factory, make):
    volunteer_id, email = hours_factory.make.user()
    with app.app_context():
        record = hours.submit_service(
            person(volunteer_id),
            activity="服务",
            place="社区",
            organiser="社区",
            served_on=local_today(),
            minutes=30,
        )
        record_id = record.id
    log_in(client, hours_factory.staff_email)
    for ids in (["²"], ["99999999999999999999"], []):
        response = post_form(client, "/staff/hours/review", {"record": ids, "decision": "confirm"})
        assert response.status_code in (302, 400, 422)
    assert client.get("/staff/dashboard?year=²").status_code == 200
    assert client.get("/staff/party-report.csv?year=99999").status_code == 200

    other = app.test_client()
    log_in(other, make.user(role="staff", community="210103001001")[1])
    assert other.get(f"/staff/hours/{record_id}/correct").status_code == 404
    stranger = app.test_client()
    log_in(stranger, make.user()[1])
    assert stranger.get(f"/my/hours/{record_id}/correction").status_code == 404
    assert stranger.get(f"/staff/hours/{record_id}/correct").status_code == 403

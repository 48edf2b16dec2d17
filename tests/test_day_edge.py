"""The day's edge: at 23:30 UTC it is already 07:30 tomorrow in Shanghai, where the app's day is.

The clock is frozen at 23:30 UTC on three days running, across the turn of the year, so any
"today" taken from the host (or from UTC) instead of from the app lands on the wrong day, and
the wrong year, all the way through sign-up, completion, confirmation, a certificate and the
fund statement. CI also runs the suite with the host at UTC-12, 20 hours from Shanghai.
"""

from datetime import UTC, date, datetime

import pytest

from tests.clients import bearer, log_in, token_for
from tests.factories import COMMUNITY, Team


def at_edge(time_machine, day):
    """23:30 UTC on `day`: 07:30 the next day in Shanghai."""
    time_machine.move_to(datetime(day.year, day.month, day.day, 23, 30, tzinfo=UTC), tick=False)


@pytest.fixture
def people(make):
    staff = make.user(role="staff", community=COMMUNITY)[1]
    volunteer = make.user()[1]
    return staff, volunteer


def test_a_service_year_across_the_edge(app, client, make, people, time_machine):
    staff_login, volunteer_login = people
    team = Team(make)

    # 2026-12-30 23:30 UTC: Thursday 31 December, 07:30 in Shanghai.
    at_edge(time_machine, date(2026, 12, 30))
    staff, volunteer = token_for(client, staff_login), token_for(client, volunteer_login)
    created = client.post(
        "/api/v1/events",
        headers=bearer(staff),
        json={
            "community": COMMUNITY,
            "title": "年末送温暖",
            "category": "warmth",
            "venue": "文安路社区党群服务站",
            "starts_at": "2026-12-31T09:00:00+08:00",
            "ends_at": "2026-12-31T11:30:00+08:00",
            "capacity": 5,
        },
    )
    assert created.status_code == 201, created.json
    event_id = created.json["id"]
    client.post(f"/api/v1/events/{event_id}/publish", headers=bearer(staff))
    # "Today's" events in Shanghai: the list opens on 31 December and shows this morning's event.
    listed = client.get("/api/v1/events", query_string={"community": COMMUNITY}).json["items"]
    assert [e["id"] for e in listed] == [event_id]
    signed = client.post(f"/api/v1/events/{event_id}/signups", headers=bearer(volunteer))
    assert signed.status_code == 201 and signed.json["status"] == "confirmed"
    team.fund("EDU")
    team.donate("EDU", "800.00", received_on=date(2026, 12, 31))  # today, in Shanghai

    # 2026-12-31 23:30 UTC: Friday 1 January 2027, 07:30 in Shanghai. Last year's event is over.
    at_edge(time_machine, date(2026, 12, 31))
    staff, volunteer = token_for(client, staff_login), token_for(client, volunteer_login)
    me = client.get("/api/v1/me", headers=bearer(volunteer)).json
    attended = client.post(
        f"/api/v1/events/{event_id}/attendance",
        headers=bearer(staff),
        json={
            "user_id": me["id"],
            "checked_in_at": "2026-12-31T09:00:00+08:00",
            "checked_out_at": "2026-12-31T11:00:00+08:00",
        },
    )
    assert attended.status_code == 200, attended.json
    completed = client.post(f"/api/v1/events/{event_id}/complete", headers=bearer(staff))
    assert completed.status_code == 200 and completed.json["status"] == "completed"
    (record,) = client.get("/api/v1/me/hours", headers=bearer(volunteer)).json["items"]
    # Served on the day it happened where it happened, not on the UTC date (30 December)…
    assert record["served_on"] == "2026-12-31" and record["minutes"] == 120
    confirmed = client.post(
        f"/api/v1/service-records/{record['id']}/confirm", headers=bearer(staff)
    )
    assert confirmed.status_code == 200 and confirmed.json["status"] == "confirmed"
    assert client.get("/api/v1/me", headers=bearer(volunteer)).json["total_minutes"] == 120
    # …and a certificate may run to today, New Year's Day, which the host thinks is tomorrow.
    issued = client.post(
        "/api/v1/me/certificates",
        headers=bearer(volunteer),
        json={"from": "2026-12-01", "to": "2027-01-01"},
    )
    assert issued.status_code == 201, issued.json
    assert issued.json["total_minutes"] == 120
    assert issued.json["serial"].split("-")[1] == "2027", "issued today, in 2027"
    # The certificate page offers this year, which began this morning, as the period.
    log_in(client, volunteer_login)
    page = client.get("/my/certificates").get_data(as_text=True)
    assert page.count('value="2027-01-01"') == 2, "from and to: 1 January 2027"

    # The foundation's day: a gift received today counts in 2027, yesterday's in 2026.
    team.donate("EDU", "200.00", received_on=date(2027, 1, 1))
    tomorrow = client.post(
        "/api/v1/donations",
        headers={**bearer(token_for(client, team.emails["preparer"])), "Idempotency-Key": "d1"},
        json={"fund": "EDU", "amount": "5.00", "donor_name": "李先生", "received_on": "2027-01-02"},
    )
    assert tomorrow.status_code == 422 and "received_on" in tomorrow.json["error"]["fields"]
    accountant = app.test_client()
    log_in(accountant, team.emails["accountant"])
    # The statement for "this year" (its default period) is the year that began this morning.
    export = accountant.get("/foundation/ledger.csv")
    assert export.status_code == 200
    assert 'filename="ledger-2027-01-01-2027-01-01.csv"' in export.headers["Content-Disposition"]
    body = export.get_data(as_text=True)
    assert "200.00" in body and "800.00" not in body
    with app.test_request_context(), app.app_context():
        from neighbors.foundation import reports
        from tests.factories import person

        statement = reports.statement(person(team.ids["accountant"]), *(date(2027, 1, 1),) * 2)
    (edu,) = statement.funds
    assert (edu.opening, edu.received, edu.closing) == (800, 200, 1000)

"""Organisation pages: the directory, the public profile (contact masked), applying, joining,
the coordinator's page and the staff's queue of applications and drafts."""

import re

from neighbors.organisations import services as organisations
from tests.clients import log_in, post_form
from tests.factories import COMMUNITY, person

EN = {"Accept-Language": "en"}


def test_a_resident_applies_staff_approve_and_a_coordinator_runs_it(client, app, factory, make):
    _id, email = make.user()
    log_in(client, email)
    response = post_form(
        client,
        "/organisations/new",
        {
            "name": "书法兴趣小组",
            "kind": "social_org",
            "community": COMMUNITY,
            "credit_code": "91110000802100433C",
            "contact_name": "王老师",
            "contact_phone": "13912345678",
        },
        headers=EN,
    )
    assert response.status_code == 200 and "not a unified social credit code" in response.text
    response = post_form(
        client,
        "/organisations/new",
        {"name": "书法兴趣小组", "kind": "social_org", "community": COMMUNITY,
         "contact_name": "王老师", "contact_phone": "13912345678"},
    )  # fmt: skip
    assert response.status_code == 302
    assert "书法兴趣小组" not in client.get("/organisations").text  # not approved yet

    staff = app.test_client()
    log_in(staff, factory.staff_email)
    queue = staff.get("/staff/organisations", headers=EN).text
    organisation_id = int(re.search(r"/staff/organisations/(\d+)/approve", queue).group(1))
    assert (
        post_form(staff, f"/staff/organisations/{organisation_id}/approve", {}).status_code == 302
    )
    assert "书法兴趣小组" in client.get("/organisations").text

    visitor = app.test_client().get(f"/organisations/{organisation_id}", headers=EN).text
    assert "139****5678" in visitor and "13912345678" not in visitor
    mine = client.get(f"/organisations/{organisation_id}", headers=EN).text
    assert "13912345678" in mine and "Run this organisation" in mine

    joiner = app.test_client()
    joiner_id, joiner_email = make.user()
    log_in(joiner, joiner_email)
    post_form(joiner, f"/organisations/{organisation_id}/join", {})
    page = client.get(f"/organisations/{organisation_id}/manage", headers=EN).text
    request_id = int(re.search(r"/organisations/requests/(\d+)/accept", page).group(1))
    post_form(client, f"/organisations/requests/{request_id}/accept", {})
    assert "You are a member" in joiner.get(f"/organisations/{organisation_id}", headers=EN).text
    assert joiner.get(f"/organisations/{organisation_id}/manage").status_code == 404

    drafted = post_form(
        client,
        f"/organisations/{organisation_id}/events/new",
        {"community": COMMUNITY, "title": "写春联", "category": "culture", "venue": "活动室",
         "starts_at": "2030-01-20T09:00", "ends_at": "2030-01-20T11:00", "capacity": "10"},
    )  # fmt: skip
    assert drafted.status_code == 302
    queue = staff.get("/staff/organisations", headers=EN).text
    assert "写春联" in queue and "书法兴趣小组" in queue
    with app.app_context():
        runner = person(factory.staff_id)
        members = organisations.members(runner, organisation_id)[1]
        assert joiner_id in {m.user_id for m in members}

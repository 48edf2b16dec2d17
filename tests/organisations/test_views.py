"""Organisation pages: the directory, the public profile (contact masked), applying, joining,
the coordinator's page and the staff's queue of applications and drafts."""

import re

from neighbors.organisations import services as organisations
from tests.clients import log_in, logged_in, post_form
from tests.factories import COMMUNITY, NEIGHBOUR_COMMUNITY, OTHER_COMMUNITY, person

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


def test_the_directory_filter_offers_one_streets_communities(app, factory):
    """A city has 955 communities: the filter lists those of the chosen street (or of the
    chosen community's street), never all of them."""
    with app.app_context():
        admin = person(factory.admin_id)
        for name, kind, community in (
            ("三好街服务队", "volunteer_team", NEIGHBOUR_COMMUNITY),
            ("文安路舞蹈队", "social_org", COMMUNITY),
        ):
            organisations.register(admin, name=name, kind=kind, community_code=community)
    client = app.test_client()
    page = client.get("/organisations", headers=EN).text
    assert "三好街服务队" in page and "文安路舞蹈队" in page
    assert f'value="{COMMUNITY}"' not in page and 'name="district"' in page
    page = client.get(f"/organisations?community={COMMUNITY}", headers=EN).text
    assert "文安路舞蹈队" in page and "三好街服务队" not in page
    assert f'value="{COMMUNITY}" selected' in page and f'value="{NEIGHBOUR_COMMUNITY}"' in page
    assert f'value="{OTHER_COMMUNITY}"' not in page
    page = client.get("/organisations?district=210102&street=210102002", headers=EN).text
    assert f'value="{COMMUNITY}"' in page and f'value="{OTHER_COMMUNITY}"' not in page
    # The street was changed: the community of the other street is dropped.
    page = client.get(f"/organisations?street=210103001&community={COMMUNITY}", headers=EN).text
    assert "文安路舞蹈队" in page and "三好街服务队" in page
    assert f'value="{COMMUNITY}"' not in page
    page = client.get("/organisations?kind=volunteer_team", headers=EN).text
    assert "三好街服务队" in page and "文安路舞蹈队" not in page
    assert 'value="volunteer_team" selected' in page


def test_a_directory_filter_that_is_wrong_gets_a_plain_answer(app, cached_pages):
    client = app.test_client()
    for query in ("kind=club", "community=999999999999", "community=" + "9" * 300):
        response = client.get(f"/organisations?{query}", headers=EN)
        assert response.status_code == 200, query
        assert 'class="flash error"' in response.text, query
    # Said again to the next one who asks the same: an error is never kept.
    again = client.get("/organisations?kind=club", headers=EN)
    assert "Choose what kind of organisation it is." in again.text


def test_the_kept_directory_holds_nobodys_own(app, make, cached_pages):
    _id, email = make.user()
    anonymous = app.test_client()
    assert "Register an organisation" not in anonymous.get("/organisations", headers=EN).text
    member = logged_in(app, email)
    assert "Register an organisation" in member.get("/organisations", headers=EN).text
    assert "Register an organisation" not in anonymous.get("/organisations", headers=EN).text
    # Each language its own.
    assert "社区社会组织" in anonymous.get("/organisations?kind=social_org").text
    english = anonymous.get("/organisations?kind=social_org", headers=EN).text
    assert "Community social organisation" in english

"""People and roles on the web: admins everywhere; street staff for their street's people and
places only; every change audit-logged; a deactivated account's sessions end at once."""

import re

from sqlalchemy import select

from neighbors.accounts import services as accounts
from neighbors.core.audit import AuditEntry
from neighbors.extensions import db
from tests.clients import log_in, post_form
from tests.factories import COMMUNITY, OTHER_COMMUNITY, PASSWORD, person

EN = {"Accept-Language": "en"}


def street_staff(app, make):
    _id, email = make.user()
    with app.app_context():
        accounts.grant_role(email, "staff", street_code=COMMUNITY[:9])
    client = app.test_client()
    log_in(client, email)
    return client


def test_street_staff_find_their_people_and_give_staff_roles_in_their_street(app, make):
    here_id, _e = make.user(name="王小明")
    there_id, _e = make.user(name="王小红", community=OTHER_COMMUNITY)
    area = street_staff(app, make)
    page = area.get("/admin/people/", query_string={"q": "王小"}, headers=EN).text
    assert "王小明" in page and "王小红" not in page
    assert area.get(f"/admin/people/{there_id}").status_code == 404

    given = post_form(
        area, f"/admin/people/{here_id}", {"role": "staff", "kind": "community", "code": COMMUNITY}
    )
    assert given.status_code == 302
    refused = post_form(
        area, f"/admin/people/{here_id}",
        {"role": "staff", "kind": "community", "code": OTHER_COMMUNITY}, headers=EN,
    )  # fmt: skip
    assert "outside your street or district" in refused.text
    refused = post_form(area, f"/admin/people/{here_id}", {"role": "admin"}, headers=EN)
    assert refused.status_code == 200  # not among the roles street staff give
    with app.app_context():
        roles = {(str(g.role), g.scope.code if g.scope else None) for g in person(here_id).roles}
        assert roles == {("volunteer", None), ("staff", COMMUNITY)}
        grants = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "account.grant_role")
            .order_by(AuditEntry.id)
        ).all()
        assert [e.detail for e in grants][-1] == {"role": "staff", "community": COMMUNITY}

    community_staff = app.test_client()
    _id, email = make.user(role="staff", community=COMMUNITY)
    log_in(community_staff, email)
    assert community_staff.get("/admin/people/?q=王").status_code == 403


def test_deactivating_ends_the_sessions_and_reactivating_lets_them_back(app, make):
    target_id, target_email = make.user()
    target = app.test_client()
    log_in(target, target_email)
    assert target.get("/profile").status_code == 200
    admin_id, admin_email = make.user(role="admin")
    admin = app.test_client()
    log_in(admin, admin_email)
    page = admin.get(f"/admin/people/{target_id}", headers=EN).text
    assert "Deactivate the account" in page
    post_form(admin, f"/admin/people/{target_id}/deactivate", {})
    assert target.get("/profile").status_code == 302  # back to the login page
    again = app.test_client()
    response = post_form(again, "/login", {"login": target_email, "password": PASSWORD})
    assert response.status_code == 200  # the form again: a deactivated account cannot log in
    post_form(admin, f"/admin/people/{target_id}/reactivate", {})
    log_in(again, target_email)
    assert again.get("/profile").status_code == 200
    # Nobody changes their own account here.
    assert post_form(admin, f"/admin/people/{admin_id}/deactivate", {}).status_code == 403
    assert re.search("account.deactivate", admin.get("/admin/audit", headers=EN).text)

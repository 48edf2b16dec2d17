"""The audit log: one entry per login (or failure), denial, role change, posting, reversal,
export and full view of a sensitive field, with actor, action, object and UTC time; admins
browse and filter it; and nothing personal reaches the logs."""

import logging

from sqlalchemy import select

from neighbors.accounts import services as accounts
from neighbors.core.audit import AuditEntry
from neighbors.extensions import db
from neighbors.foundation import ledger
from neighbors.foundation import services as foundation
from tests.clients import log_in, post_form
from tests.factories import COMMUNITY, PASSWORD, Team, person


def entries(action=None):
    query = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action == action)
    return db.session.scalars(query).all()


def test_each_sensitive_act_leaves_one_entry_with_actor_object_and_utc_time(app, client, make):
    team = Team(make)
    admin_id, admin_email = make.user(role="admin")
    volunteer_id, volunteer_email = make.user()

    post_form(client, "/login", {"login": volunteer_email, "password": "wrong"})
    log_in(client, volunteer_email)
    assert client.get("/foundation/ledger").status_code == 403  # a denial
    with app.app_context():
        accounts.grant_role(volunteer_email, "staff", COMMUNITY, actor=person(admin_id))
        accounts.revoke_role(volunteer_email, "staff", COMMUNITY, actor=person(admin_id))
    team.fund("EDU", opening="100.00")
    donation = team.donate("EDU", "10.00")
    subsidy = team.subsidy("EDU", "5.00", id_number="210102199001011234", phone="13912345678")
    with app.app_context():
        ledger.reverse(team.approver, donation.entry_id, "录错了")
        foundation.beneficiary_details(team.approver, subsidy.beneficiary_id)
    approver = app.test_client()
    log_in(approver, team.emails["approver"])
    assert approver.get("/foundation/ledger.csv").status_code == 200
    assert approver.get("/foundation/subsidies.xlsx").status_code == 200

    with app.app_context():
        expected = {
            "account.login_failed": (None, "users", volunteer_id),
            "account.login": (volunteer_id, "users", volunteer_id),
            "permission.denied": (volunteer_id, None, None),
            "account.grant_role": (admin_id, "users", volunteer_id),
            "account.revoke_role": (admin_id, "users", volunteer_id),
            "ledger.reverse": (team.ids["approver"], "journal_entries", None),
            "beneficiary.full_view": (
                team.ids["approver"],
                "beneficiaries",
                subsidy.beneficiary_id,
            ),
            "ledger.export": (team.ids["approver"], None, None),
            "subsidies.export": (team.ids["approver"], None, None),
        }
        for action, (actor_id, object_type, object_id) in expected.items():
            [entry] = [e for e in entries(action) if e.actor_id == actor_id]
            assert entry.object_type == object_type, action
            if object_id is not None:
                assert entry.object_id == str(object_id), action
            assert entry.at.utcoffset().total_seconds() == 0, action
        assert len(entries("ledger.post")) == 2  # the opening balance and the donation
        assert entries("permission.denied")[0].detail == {
            "route": "/foundation/ledger",
            "method": "GET",
        }


def test_admins_browse_and_filter_the_log_and_nobody_else_sees_it(client, make):
    admin_id, admin_email = make.user(role="admin")
    _id, staff_email = make.user(role="staff")
    log_in(client, staff_email)
    assert client.get("/admin/audit").status_code == 403
    post_form(client, "/logout", {})
    log_in(client, admin_email)
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "account.login" in page and "permission.denied" in page
    only_denials = client.get("/admin/audit?action=permission.").get_data(as_text=True)
    assert "<code>permission.denied</code>" in only_denials
    assert "<code>account.login</code>" not in only_denials
    by_actor = client.get(f"/admin/audit?actor={admin_id}&action=account.login")
    assert by_actor.status_code == 200
    assert "<code>account.create</code>" not in by_actor.get_data(as_text=True)
    bad = client.get("/admin/audit?actor=-5&date_from=0000-99-99&action=" + "x" * 500)
    assert bad.status_code == 200  # bad filters are ignored, with their errors shown


def test_the_log_pages_back_through_older_entries(app, client, make):
    _id, admin_email = make.user(role="admin")
    stranger = app.test_client()
    for _ in range(110):  # two pages of failed logins after the account's creation
        post_form(stranger, "/login", {"login": "nobody@example.org", "password": "x"})
    log_in(client, admin_email)
    first = client.get("/admin/audit").get_data(as_text=True)
    assert "before=" in first
    older = first.split("before=")[1].split("&")[0].split('"')[0]
    second = client.get(f"/admin/audit?before={older}").get_data(as_text=True)
    assert "account.create" in second and "account.create" not in first


def test_nothing_personal_reaches_the_logs(app, client, make, caplog):
    caplog.set_level(logging.DEBUG)
    team = Team(make)
    _id, email = make.user(phone="13987654321")
    post_form(client, "/login", {"login": "13987654321", "password": "wrong"})
    log_in(client, email)
    client.get("/profile")
    team.fund("EDU", opening="100.00")
    team.subsidy("EDU", "5.00", id_number="210102199001011234", phone="13912345678")
    client.get("/api/v1/me", headers={"Authorization": "Bearer not-a-real-token"})
    for secret in (email, "13987654321", "13912345678", "210102199001011234", PASSWORD):
        assert secret not in caplog.text, secret

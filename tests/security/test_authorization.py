"""The authorisation matrix: every route and method of `app.url_map`, asked by every kind of
person, answers as the table below says. A route missing from the table fails the test.

Each request runs inside a savepoint that is rolled back, so every person meets the same world:
an event, a roster, hours, a certificate and a Party report-in in one community (文安路社区),
and a foundation with a fund, a donation, a subsidy and its beneficiary.
"""

from datetime import timedelta

from werkzeug.routing import AnyConverter

from neighbors.accounts import services as accounts
from neighbors.attendance import completion
from neighbors.attendance import services as attendance
from neighbors.core.db import transaction, utcnow
from neighbors.core.timezone import local_today
from neighbors.events import services as events
from neighbors.hours import services as hours
from tests.conftest import COMMUNITY, OTHER_COMMUNITY, PASSWORD, log_in
from tests.foundation.conftest import Team
from tests.hours.conftest import HoursFactory, person

PEOPLE = (
    "anonymous",
    "volunteer",
    "staff",
    "other_staff",
    "preparer",
    "approver",
    "cashier",
    "accountant",
    "admin",
)
FOUNDATION = ("preparer", "approver", "cashier", "accountant")

# Who may: "public" everyone; "user" anyone logged in; "staff" staff of any community (lists
# scoped to their own); "scoped" staff of the object's community (another community's staff
# get 404); "own" the volunteer who owns the object (anyone else gets 404); "admin"; or a tuple
# of foundation roles (admin holds them all).
ACCESS = {
    "web.index": "public",
    "web.healthz": "public",
    "web.privacy_notice": "public",
    "web.home": "public",
    "web.favicon": "public",
    "web.set_language": "public",
    "static": "public",
    "disclosure.disclosure": "public",
    "events.list_events": "public",
    "events.show_event": "public",
    "events.event_ics": "public",
    "events.calendar_feed": "public",
    "hours.verify": "public",
    "accounts.login": "public",
    "accounts.register": "public",
    "accounts.accept_invitation": "public",
    "accounts.logout": "public",
    "accounts.profile": "user",
    "accounts.edit_profile": "user",
    "party.declare": "user",
    "accounts.change_password": "user",
    "attendance.my_events": "user",
    "events.my_calendar": "user",
    "events.sign_up": "user",
    "events.cancel_signup": "own",
    "hours.my_hours": "user",
    "hours.submit_service": "user",
    "hours.certificates": "user",
    "attendance.checkin": "user",
    "hours.request_correction": "own",
    "hours.show_certificate": "own",
    "events.staff_events": "staff",
    "events.new_event": "staff",
    "events.new_series": "staff",
    "events.change_status": "scoped",
    "attendance.complete_event": "scoped",
    "events.cancel_event": "scoped",
    "events.edit_event": "scoped",
    "events.show_roster": "scoped",
    "attendance.sheet": "scoped",
    "attendance.tap": "scoped",
    "attendance.confirm_remove": "scoped",
    "attendance.all_present": "scoped",
    "attendance.walk_in": "scoped",
    "attendance.code_screen": "scoped",
    "hours.queue": "staff",
    "hours.review": "staff",
    "hours.correct": "scoped",
    "hours.dashboard": "staff",
    "party.report": "staff",
    "party.reports": "staff",
    "party.review": "scoped",
    "foundation.index": FOUNDATION,
    "foundation.donations": FOUNDATION,
    "foundation.subsidies": FOUNDATION,
    "foundation.new_donation": ("preparer",),
    "foundation.new_subsidy": ("preparer",),
    "foundation.new_fund": ("approver",),
    "foundation.subsidy_step": FOUNDATION,
    "foundation.confirm_step": FOUNDATION,
    "foundation.beneficiary": ("approver", "cashier"),
    "foundation.ledger_page": ("accountant", "approver"),
    "foundation.detail": ("accountant", "approver"),
    "foundation.export": ("accountant", "approver"),
    "foundation.list_export": ("accountant", "approver"),
    "foundation.reverse": ("approver",),
    "foundation.verify": ("accountant", "approver"),
    "areas.index": "admin",
    "areas.district": "admin",
    "areas.street": "admin",
    "areas.community": "admin",
    "admin.audit_log": "admin",
    "api.create_token": "public",
    "api.delete_token": "user",
    "api.me": "user",
    "api.list_events": "public",
    "api.get_event": "public",
    "api.create_event": "scoped",
    "api.update_event": "scoped",
    "api.change_status": "scoped",
    "api.complete_event": "scoped",
    "api.sign_up": "user",
    "api.cancel_signup": "own",
    "api.list_signups": "scoped",
    "api.record_attendance": "scoped",
    "api.check_in": "own",
    "api.review_record": "scoped",
    "api.my_hours": "user",
    "api.issue_certificate": "user",
    "api.verify_certificate": "public",
    "api.list_funds": FOUNDATION,
    "api.create_fund": ("approver",),
    "api.record_donation": ("preparer",),
    "api.prepare_subsidy": ("preparer",),
    "api.subsidy_step": FOUNDATION,
    "api.reverse_entry": ("approver",),
    "api.export_ledger": ("accountant", "approver"),
}

# Per step, the role that may take it (the others of the foundation get 403).
STEP_ROLES = {"approve": ("approver",), "pay": ("cashier",), "reject": ("approver",)}


def expected(access, who):
    """What `who` should meet: ok, login (401 or the login page), forbidden (403), missing (404)."""
    if access == "public":
        return "ok"
    if who == "anonymous":
        return "login"
    if access == "own":
        return "ok" if who == "volunteer" else "missing"
    if access == "user" or who == "admin":
        return "ok"
    if access == "admin":
        return "forbidden"
    if access in ("staff", "scoped"):
        if who == "staff":
            return "ok"
        if who == "other_staff":
            return "ok" if access == "staff" else "missing"
        return "forbidden"
    return "ok" if who in access else "forbidden"


def outcome(response):
    if response.status_code >= 500:
        return f"error {response.status_code}"
    if response.status_code == 401 or (
        response.status_code == 302 and "/login" in response.headers.get("Location", "")
    ):
        return "login"
    return {403: "forbidden", 404: "missing"}.get(response.status_code, "ok")


class World:
    """Everything the routes name, made through the services, and a client per person."""

    def __init__(self, app, make):
        factory = HoursFactory(app, make)
        team = Team(make)
        self.ids = {"staff": factory.staff_id, "admin": factory.admin_id}
        self.emails = {"staff": factory.staff_email}
        for who in ("volunteer",):
            self.ids[who], self.emails[who] = make.user()
        self.ids["other_staff"], self.emails["other_staff"] = make.user(
            role="staff", community=OTHER_COMMUNITY
        )
        for role in FOUNDATION:
            self.ids[role], self.emails[role] = team.ids[role], team.emails[role]
        self.emails["admin"] = person(factory.admin_id).email
        volunteer = person(self.ids["volunteer"])

        self.event_id = factory.event()
        events.sign_up(volunteer, self.event_id)
        held = factory.held_event([self.ids["volunteer"]])
        attendance.all_present(factory.staff(), held)
        completion.complete_event(factory.staff(), held)
        [record] = hours.queue(factory.staff())
        hours.review(factory.staff(), [record.id], confirm=True)
        pending = hours.submit_service(
            volunteer,
            activity="整理图书角",
            place="文安路社区",
            organiser="文安路社区",
            served_on=local_today() - timedelta(days=2),
            minutes=60,
        )
        self.record_id = pending.id
        self.own_record_id = record.id
        certificate = hours.issue_certificate(
            volunteer, local_today() - timedelta(days=30), local_today()
        )
        self.serial = certificate.serial
        self.certificate_token = hours.certificate_token(certificate)
        self.feed_token = events.calendar_feed(volunteer)
        accounts.declare_party_membership(
            volunteer,
            branch="第一支部",
            work_unit="市图书馆",
            community_code=COMMUNITY,
            grid_code=None,
            reported_on=local_today(),
        )
        invited, _email = make.user(email="invited@example.org")
        with transaction():  # imported without a password: invited to set one
            person(invited).password_hash = None
            self.invitation = accounts.invitation_token(person(invited))

        team.fund("EDU", opening="500.00")
        donation = team.donate("EDU", "100.00")
        self.entry_id = donation.entry_id
        subsidy = team.subsidy("EDU", "50.00", id_number="210102199001011234")
        self.subsidy_id, self.beneficiary_id = subsidy.id, subsidy.beneficiary_id

        self.tokens = {
            who: accounts.issue_token(self.emails[who], PASSWORD)[0]
            for who in PEOPLE
            if who != "anonymous"
        }

    def log_in(self, app):
        """A client per person (outside any app context: requests must not share `g`)."""
        self.clients = {}
        for who in PEOPLE:
            client = app.test_client()
            if who != "anonymous":
                log_in(client, self.emails[who])
            self.clients[who] = client

    def values(self, endpoint):
        return {
            "event_id": self.event_id,
            "user_id": self.ids["volunteer"],
            "record_id": self.own_record_id if endpoint.startswith("hours.request") else (
                self.record_id
            ),
            "entry_id": self.entry_id,
            "subsidy_id": self.subsidy_id,
            "beneficiary_id": self.beneficiary_id,
            "serial": self.serial,
            "token": {
                "events.calendar_feed": self.feed_token,
                "accounts.accept_invitation": self.invitation,
            }.get(endpoint, self.certificate_token),
            "code": {"areas.district": "210102", "areas.street": "210102002"}.get(
                endpoint, COMMUNITY
            ),
            "filename": "style.css",
        }  # fmt: skip


def bodies(world):
    """A well-formed body for each API call, so that only the person decides the answer."""
    today, start = local_today().isoformat(), (utcnow() + timedelta(days=5)).isoformat()
    return {
        "api.create_token": {"login": world.emails["volunteer"], "password": PASSWORD},
        "api.create_event": {
            "community": COMMUNITY, "title": "新活动", "category": "warmth", "capacity": 5,
            "starts_at": start, "ends_at": (utcnow() + timedelta(days=5, hours=2)).isoformat(),
        },
        "api.update_event": {"capacity": 10},
        "api.change_status": {"reason": "天气原因"},
        "api.check_in": {"code": "000000"},
        "api.record_attendance": {"user_id": world.ids["volunteer"], "checked_in_at": start},
        "api.issue_certificate": {"from": "2026-01-01", "to": today},
        "api.create_fund": {"code": "NEW", "name": "新基金", "kind": "unrestricted"},
        "api.record_donation": {
            "fund": "EDU", "amount": "10.00", "donor_name": "王先生", "received_on": today,
        },
        "api.prepare_subsidy": {
            "fund": "EDU", "amount": "10.00", "beneficiary_name": "李四", "reason": "困难补助",
        },
        "api.reverse_entry": {"reason": "录入错误"},
        "api.review_record": {"reason": "核实"},
    }  # fmt: skip


# Query strings some pages need to show anything.
QUERIES = {"foundation.detail": "?fund=EDU"}


def cases(app):
    """(endpoint, method, path) for every rule, with each value of an <any(…)> part."""
    found = []
    for rule in app.url_map.iter_rules():
        variants = [{}]
        for name, converter in rule._converters.items():
            if isinstance(converter, AnyConverter):
                variants = [{**v, name: o} for v in variants for o in converter.items]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for variant in variants:
                found.append((rule, method, variant))
    return found


def test_every_route_is_in_the_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - set(ACCESS) == set(), "add the new routes to ACCESS"
    assert set(ACCESS) - endpoints == set(), "ACCESS names routes that no longer exist"


def test_every_route_answers_every_person_as_the_table_says(app, db, make, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)  # CSRF has its own test
    with app.app_context():
        world = World(app, make)
        connection = db.session.get_bind()
    world.log_in(app)
    api_bodies = bodies(world)
    wrong = []
    for rule, method, variant in cases(app):
        endpoint = rule.endpoint
        with app.test_request_context():
            from flask import url_for

            values = {**world.values(endpoint), **variant}
            path = url_for(endpoint, **{k: v for k, v in values.items() if k in rule.arguments})
            path += QUERIES.get(endpoint, "")
        access = ACCESS[endpoint]
        if endpoint.endswith(("subsidy_step", "confirm_step")):
            access = STEP_ROLES[variant["step"]]
        for who in PEOPLE:
            savepoint = connection.begin_nested()
            try:
                if endpoint.startswith("api."):
                    token = world.tokens.get(who)
                    headers = {"Authorization": f"Bearer {token}"} if token else {}
                    client = world.clients["anonymous"]
                    body = api_bodies.get(endpoint, {})
                    response = client.open(path, method=method, headers=headers, json=body)
                else:
                    client = world.clients[who]
                    cookie = client.get_cookie("session")  # logging out must not last either
                    response = client.open(path, method=method, data={})
                    if cookie is not None:
                        client.set_cookie("session", cookie.value)
                response.close()  # a streamed download ends here, inside its savepoint
            finally:
                savepoint.rollback()
            got, want = outcome(response), expected(access, who)
            if got != want:
                wrong.append(
                    f"{method} {path} as {who}: {got} ({response.status_code}), not {want}"
                )
    assert wrong == [], "\n".join(wrong)

"""The authorisation matrix: every route and method of `app.url_map`, asked by every kind of
person, answers as the table below says. A route missing from the table fails the test.

Staff of the community's street (南湖街道) meet it as its own staff do. Each request runs inside
a savepoint that is rolled back, so every person meets the same world:
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
from neighbors.extensions import db
from neighbors.hours import services as hours
from neighbors.mutual_aid import services as aid
from neighbors.mutual_aid.models import Wish
from neighbors.organisations import services as organisations
from neighbors.party import members as party_members
from neighbors.party import reporting as party_reporting
from tests.clients import log_in
from tests.factories import (
    COMMUNITY,
    OTHER_COMMUNITY,
    PASSWORD,
    HoursFactory,
    Team,
    make_station,
    person,
    photo_bytes,
)

PEOPLE = (
    "anonymous",
    "volunteer",
    "coordinator",
    "staff",
    "street_staff",
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
# get 404); "organiser" those and the coordinators of the organisation that runs the event;
# "reviewer" staff of any community and coordinators (their queue); "area" admins and street or
# district staff (people and roles in their scope); "runs" those who run the
# organisation, its coordinators and its community's staff (anyone else gets 404); "own" the
# volunteer who owns the object (anyone else gets 404); "admin"; or a tuple of foundation roles
# (admin holds them all).
ACCESS = {
    "web.index": "public",
    "web.healthz": "public",
    "web.privacy_notice": "public",
    "web.home": "public",
    "web.favicon": "public",
    "accounts.set_language": "public",
    "static": "public",
    "disclosure.disclosure": "public",
    "events.list_events": "public",
    "events.show_station": "public",
    "stations.list_stations": "public",
    "events.show_event": "public",
    "events.event_ics": "public",
    "events.calendar_feed": "public",
    "events.reply_to_reminder": "public",
    "hours.verify": "public",
    "accounts.login": "public",
    "accounts.login_by_code": "public",
    "accounts.verify_phone": "user",
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
    "attendance.complete_event": "organiser",
    "events.cancel_event": "scoped",
    "events.edit_event": "scoped",
    "events.show_roster": "organiser",
    "events.send_message": "organiser",
    "attendance.sheet": "organiser",
    "attendance.tap": "organiser",
    "attendance.confirm_remove": "organiser",
    "attendance.all_present": "organiser",
    "attendance.walk_in": "organiser",
    "attendance.code_screen": "organiser",
    "hours.queue": "reviewer",
    "certificates.register": "reviewer",
    "certificates.issuer_settings": "reviewer",
    "certificates.national_export": "reviewer",
    "certificates.revoke": "scoped",
    "certificates.national_download": "scoped",
    "identity.edit": "user",
    "identity.staff_view": "scoped",
    "hours.review": "reviewer",
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
    "foundation.voucher": ("accountant", "approver"),
    "foundation.detail": ("accountant", "approver"),
    "foundation.export": ("accountant", "approver"),
    "foundation.list_export": ("accountant", "approver"),
    "foundation.reverse": ("approver",),
    "foundation.verify": ("accountant", "approver"),
    "mutual_aid.wish_wall": "public",
    "mutual_aid.show_wish": "public",
    "mutual_aid.new_wish": "user",
    "mutual_aid.claim_wish": "user",
    "mutual_aid.fulfil_wish": "own",
    "mutual_aid.release_wish": "scoped",
    "mutual_aid.wish_photo": "public",
    "mutual_aid.upload_photo": "scoped",
    "mutual_aid.photo_consent": "scoped",
    "mutual_aid.my_wishes": "user",
    "mutual_aid.my_points": "user",
    "mutual_aid.staff_wishes": "staff",
    "mutual_aid.vet_wish": "scoped",
    "mutual_aid.confirm_wish": "scoped",
    "mutual_aid.shop": "staff",
    "mutual_aid.dashboard": "staff",
    "mutual_aid.add_stock": "scoped",
    "mutual_aid.counter": "staff",
    "mutual_aid.slip": "scoped",
    "mutual_aid.reverse_redemption": "scoped",
    "mutual_aid.shop_report": "scoped",
    "areas.index": "admin",
    "areas.district": "admin",
    "areas.street": "admin",
    "areas.community": "admin",
    "admin.audit_log": "admin",
    "people.find_people": "area",
    "people.show_person": "area",
    "people.revoke_role": "area",
    "people.set_active": "area",
    "organisations.directory": "public",
    "organisations.profile": "public",
    "organisations.register": "user",
    "organisations.membership": "user",
    "organisations.mine": "user",
    "organisations.manage": "runs",
    "organisations.decide": "runs",
    "organisations.new_event": "runs",
    "organisations.waiting": "staff",
    "organisations.review": "scoped",
    "organisations.hours_by_organisation": "staff",
    "organisations.organisation_hours": "runs",
    "party_orgs.posts": "staff",
    "party_orgs.close_post": "scoped",
    "party_orgs.report_in": "runs",
    "party_orgs.reports": "staff",
    "party_orgs.review": "scoped",
    "party_orgs.show": "runs",
    "party_orgs.feedback_xlsx": "runs",
    "party_orgs.send_feedback": "scoped",
    "api.list_organisations": "public",
    "api.create_organisation": "user",
    "api.add_member": "runs",
    "api.create_token": "public",
    "api.send_code": "public",
    "api.confirm_phone": "user",
    "api.delete_token": "user",
    "api.me": "user",
    "api.list_events": "public",
    "api.list_stations": "public",
    "api.create_station": "scoped",
    "api.get_event": "public",
    "api.create_event": "organiser",
    "api.send_message": "organiser",
    "api.update_event": "scoped",
    "api.change_status": "scoped",
    "api.complete_event": "organiser",
    "api.sign_up": "user",
    "api.cancel_signup": "own",
    "api.list_signups": "organiser",
    "api.record_attendance": "organiser",
    "api.check_in": "own",
    "api.review_record": "scoped",
    "api.my_hours": "user",
    "api.issue_certificate": "user",
    "api.verify_certificate": "public",
    "api.national_export": "reviewer",
    "api.list_funds": FOUNDATION,
    "api.create_fund": ("approver",),
    "api.record_donation": ("preparer",),
    "api.prepare_subsidy": ("preparer",),
    "api.subsidy_step": FOUNDATION,
    "api.reverse_entry": ("approver",),
    "api.export_ledger": ("accountant", "approver"),
    "api.post_wish": "user",
    "api.list_wishes": "public",
    "api.vet_wish": "scoped",
    "api.confirm_wish": "scoped",
    "api.release_wish": "scoped",
    "api.upload_wish_photo": "scoped",
    "api.wish_photo_consent": "scoped",
    "api.claim_wish": "user",
    "api.fulfil_wish": "own",
    "api.my_points": "user",
    "api.add_shop_item": "scoped",
    "api.redeem": "scoped",
}

# Per step, the role that may take it (the others of the foundation get 403).
STEP_ROLES = {"approve": ("approver",), "pay": ("cashier",), "reject": ("approver",)}


def expected(access, who):
    """What `who` should meet: ok, login (401 or the login page), forbidden (403), missing (404)."""
    if access == "area":  # people and roles: admins, and street or district staff
        if who == "anonymous":
            return "login"
        return "ok" if who in ("admin", "street_staff") else "forbidden"
    if who == "street_staff":  # staff of the street of the world's community: as its staff
        who = "staff"
    if access == "public":
        return "ok"
    if who == "anonymous":
        return "login"
    if access == "own":
        return "ok" if who == "volunteer" else "missing"
    if access == "user" or who == "admin":
        return "ok"
    if access == "runs":
        return "ok" if who in ("staff", "coordinator") else "missing"
    if who == "coordinator" and access in ("organiser", "reviewer"):
        return "ok"
    if access == "reviewer":
        access = "staff"
    if access == "organiser":
        access = "scoped"
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
        self.ids["street_staff"], self.emails["street_staff"] = make.user()
        accounts.grant_role(self.emails["street_staff"], "staff", street_code=COMMUNITY[:9])
        accounts.revoke_role(self.emails["street_staff"], "volunteer")
        self.ids["other_staff"], self.emails["other_staff"] = make.user(
            role="staff", community=OTHER_COMMUNITY
        )
        for role in FOUNDATION:
            self.ids[role], self.emails[role] = team.ids[role], team.emails[role]
        self.emails["admin"] = person(factory.admin_id).email
        volunteer = person(self.ids["volunteer"])
        self.volunteer_grant_id = volunteer.roles[0].id

        organisation = organisations.register(
            factory.staff(),
            name="文安路志愿服务队",
            kind="volunteer_team",
            community_code=COMMUNITY,
        )
        self.organisation_id = organisation.id
        self.ids["coordinator"], self.emails["coordinator"] = make.user()
        organisations.add_member(
            factory.staff(), organisation.id, self.ids["coordinator"], "leader"
        )
        asker, _email = make.user()
        self.request_id = organisations.request_to_join(person(asker), organisation.id).id
        # 双报到: a Party organisation the coordinator leads reports in to the community.
        party_org = organisations.register(
            factory.staff(), name="市图书馆党支部", kind="party_org", community_code=COMMUNITY
        )
        organisations.add_member(factory.staff(), party_org.id, self.ids["coordinator"], "leader")
        post = party_reporting.add_post(
            factory.staff(), community_code=COMMUNITY, name="楼道清扫", people_needed=3
        )
        self.post_id = post.id
        self.report_id = party_reporting.report_in(
            person(self.ids["coordinator"]),
            party_org.id,
            community_code=COMMUNITY,
            starts_on=local_today(),
            ends_on=local_today() + timedelta(days=365),
            contact_name="周书记",
            contact_email="branch@example.org",
            claims={post.id: 2},
        ).id
        self.event_id = factory.event(organisation_id=organisation.id)
        make_station(person(factory.admin_id), code="ST-MATRIX", communities=[COMMUNITY])
        signup = events.sign_up(volunteer, self.event_id).signup
        self.reply_token = events.reply_token(signup, "coming")
        held = factory.held_event([self.ids["volunteer"]])
        attendance.all_present(factory.staff(), held)
        completion.complete_event(factory.staff(), held)
        [record] = hours.records_to_confirm(factory.staff())
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
        *_file, run = hours.national_export(
            factory.staff(), community=COMMUNITY,
            period_from=local_today() - timedelta(days=30), period_to=local_today(),
        )  # fmt: skip
        self.export_id = run.id
        self.feed_token = events.calendar_feed(volunteer)
        party_members.declare_party_membership(
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

        # Micro-wishes: one waiting for vetting, one claimed by the volunteer, one claimed by
        # another; and a shop item the volunteer redeemed (their confirmed hours paid for it).
        staff = factory.staff()
        resident, _email = make.user()
        self.wishes = {}
        for name in ("submitted", "mine", "theirs"):
            wish = aid.post_wish(staff, title=name, description="", category="daily",
                                 value_cap="50", for_user_id=resident)  # fmt: skip
            self.wishes[name] = wish.id
            if name != "submitted":
                aid.vet(staff, wish.id, publish=True)
                with transaction():  # past the Party members' first hours
                    db.session.get(Wish, wish.id).published_at -= timedelta(days=2)
        aid.claim(volunteer, self.wishes["mine"])
        other, _email = make.user()
        aid.claim(person(other), self.wishes["theirs"])
        aid.fulfil(person(other), self.wishes["theirs"], note="已送到")  # with a photo on the wall
        aid.add_photo(person(other), self.wishes["theirs"], photo_bytes())
        aid.set_consent(staff, self.wishes["theirs"], consent=True)
        item = aid.add_item(staff, community_code=COMMUNITY, name="毛巾", points=1, stock=5)
        self.item_id = item.id
        self.redemption_id = aid.redeem(staff, item_id=item.id, user_id=self.ids["volunteer"]).id

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
            "wish_id": self.wishes[
                "mine" if "fulfil" in endpoint
                else "submitted" if "vet" in endpoint
                else "theirs"
            ],
            "item_id": self.item_id,
            "redemption_id": self.redemption_id,
            "subsidy_id": self.subsidy_id,
            "beneficiary_id": self.beneficiary_id,
            "serial": self.serial,
            "token": {
                "events.calendar_feed": self.feed_token,
                "accounts.accept_invitation": self.invitation,
                "events.reply_to_reminder": self.reply_token,
            }.get(endpoint, self.certificate_token),
            "code": {
                "areas.district": "210102",
                "areas.street": "210102002",
                "events.show_station": "ST-MATRIX",
            }.get(endpoint, COMMUNITY),
            "filename": "style.css",
            "organisation_id": self.organisation_id,
            "grant_id": self.volunteer_grant_id,
            "export_id": self.export_id,
            "membership_id": self.request_id,
            "report_id": self.report_id,
            "post_id": self.post_id,
        }  # fmt: skip


def bodies(world):
    """A well-formed body for each API call, so that only the person decides the answer."""
    today, start = local_today().isoformat(), (utcnow() + timedelta(days=5)).isoformat()
    return {
        "api.create_token": {"login": world.emails["volunteer"], "password": PASSWORD},
        "api.create_event": {
            "community": COMMUNITY, "title": "新活动", "category": "warmth", "capacity": 5,
            "organisation": world.organisation_id,
            "starts_at": start, "ends_at": (utcnow() + timedelta(days=5, hours=2)).isoformat(),
        },
        "api.update_event": {"capacity": 10},
        # Staff of another community get 404: the station would serve a community not theirs.
        "api.create_station": {
            "code": "ST-NEW", "name": "新服务站", "communities": [COMMUNITY],
            "rooms": [{"name": "活动室", "capacity": 20}],
        },
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
        "api.create_organisation": {
            "name": "新社会组织", "kind": "social_org", "community": COMMUNITY,
        },
        "api.add_member": {"user_id": world.ids["volunteer"], "role": "member"},
        "api.send_message": {"text": "明早八点在服务站门口集合。"},
        "api.post_wish": {
            "title": "新书包", "category": "study", "value_cap": "60", "community": COMMUNITY,
        },
        "api.confirm_wish": {"minutes": 30},
        "api.fulfil_wish": {"note": "已送到"},
        "api.wish_photo_consent": {"consent": True},
        "api.add_shop_item": {"community": COMMUNITY, "name": "香皂", "points": 5, "stock": 3},
        "api.redeem": {"item": world.item_id, "user_id": world.ids["volunteer"], "quantity": 1},
    }  # fmt: skip


# Query strings some pages need to show anything.
QUERIES = {
    "foundation.detail": "?fund=EDU",
    "mutual_aid.shop_report": f"?community={COMMUNITY}",
}


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


WISH_CLAIMER_OR_ASKER = (
    "mutual_aid.release_wish",
    "api.release_wish",
    "mutual_aid.upload_photo",
    "api.upload_wish_photo",
    "mutual_aid.photo_consent",
    "api.wish_photo_consent",
)


def test_every_page_for_a_role_is_gated_before_it_reads_anything(app):
    """One way to gate a page: a role's page or API call refuses others with @role_required
    (401/403 before the view reads any input), not by what the view happens to call first."""
    ungated = {}
    for endpoint, access in ACCESS.items():
        if access in ("public", "user", "own", "organiser", "reviewer", "runs"):
            continue  # any signed-in person; the service decides by who it is
        if endpoint in (
            "api.review_record",
            "certificates.revoke",
            "certificates.national_download",
        ):
            # coordinators confirm their organisation's records (谁组织谁记录), revoke the
            # certificates it issued (谁记录谁证明) and download its national-system exports
            continue
        if endpoint in WISH_CLAIMER_OR_ASKER:
            continue  # the claimer may give a wish back and add its photo; the asker consents
        admitted = (
            {"staff"}
            if access in ("staff", "scoped", "area")
            else {access}
            if access == "admin"
            else set(access)
        )
        gate = getattr(app.view_functions[endpoint], "required_roles", None)
        if not gate or not {str(role) for role in gate} <= admitted:
            ungated[endpoint] = sorted(gate or ())
    assert ungated == {}


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

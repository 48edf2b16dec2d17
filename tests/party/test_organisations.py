"""双报到, the organisation's half: posts a community offers, a Party organisation reporting in
and taking them on, staff confirming, its members listed, and the year's feedback (an XLSX to its
contact, on demand and once a year by the scheduler); hours by organisation."""

import re
from datetime import date

import pytest
from sqlalchemy import select

from neighbors.areas import services as areas
from neighbors.core import mail
from neighbors.core.db import transaction
from neighbors.core.errors import Conflict, Invalid, NotFound
from neighbors.core.outbox import OutboxMessage
from neighbors.core.timezone import local_today
from neighbors.extensions import db
from neighbors.hours import services as hours
from neighbors.jobs import tasks
from neighbors.organisations import reports as organisation_reports
from neighbors.organisations import services as organisations
from neighbors.party import feedback, reporting
from neighbors.party import members as party_members
from tests.clients import log_in, post_form
from tests.factories import COMMUNITY, OTHER_COMMUNITY, person
from tests.sheets import table

EN = {"Accept-Language": "en"}


@pytest.fixture
def party(hours_factory, make):
    """A Party organisation led by a coordinator, with two members who reported in themselves
    (one confirmed), one who did not, and two posts offered by COMMUNITY."""
    with hours_factory.make.context():
        return _party(hours_factory, make)


def _party(hours_factory, make):
    staff = hours_factory.staff()
    coordinator_id, coordinator_email = make.user()
    org = organisations.register(
        staff, name="沈阳市税务局机关党委", kind="party_org", community_code=COMMUNITY
    )
    organisations.add_member(staff, org.id, coordinator_id, "coordinator")
    members = []
    for name in ("王建国", "李红", "赵不报"):
        user_id = make.user(name=name)[0]
        organisations.add_member(staff, org.id, user_id)
        members.append(user_id)
    for user_id in members[:2]:
        party_members.declare_party_membership(
            person(user_id),
            branch="第一党支部",
            work_unit="沈阳市税务局",
            community_code=COMMUNITY,
            grid_code="",
            reported_on=date(2026, 3, 5),
        )
    party_members.review_party_report(staff, members[0], confirm=True)
    posts = [
        reporting.add_post(staff, community_code=COMMUNITY, name=name, people_needed=needed)
        for name, needed in (("楼道清扫", 4), ("老年人助餐", 2))
    ]
    return {
        "org": org.id,
        "coordinator": coordinator_id,
        "coordinator_email": coordinator_email,
        "members": members,
        "posts": [post.id for post in posts],
    }


def report_in(actor, org_id, claims, **fields):
    values = dict(
        community_code=COMMUNITY,
        starts_on=date(2026, 1, 1),
        ends_on=date(2027, 12, 31),
        contact_name="周书记",
        contact_email="dangwei@tax.example.org",
        claims=claims,
    )
    values.update(fields)
    return reporting.report_in(actor, org_id, **values)


def served(factory, org_id, people_minutes):
    """A held event of the organisation, with confirmed hours for these people."""
    event_id = factory.held_event([], organisation_id=org_id)
    community = areas.community_by_code(COMMUNITY)
    with transaction():
        records = [
            hours.record_service(
                None,
                user_id=user_id,
                event_id=event_id,
                community_id=community.id,
                category="warmth",
                activity="清扫楼道",
                place="文安路",
                organiser="机关党委",
                served_on=local_today(),
                minutes=minutes,
                organisation_id=org_id,
            )
            for user_id, minutes in people_minutes
        ]
    hours.review(factory.staff(), [r.id for r in records], confirm=True)


def test_a_party_organisation_reports_in_takes_posts_and_staff_confirm(
    ctx, hours_factory, make, party
):
    staff, coordinator = hours_factory.staff(), person(party["coordinator"])
    clean, meals = party["posts"]
    with pytest.raises(Invalid) as too_many:
        report_in(coordinator, party["org"], {clean: 3, meals: 5})
    assert set(too_many.value.fields) == {f"post-{meals}"}  # it needs 2
    other_staff = person(make.user(role="staff", community=OTHER_COMMUNITY)[0])
    elsewhere = reporting.add_post(
        other_staff, community_code=OTHER_COMMUNITY, name="巡逻", people_needed=9
    )
    with pytest.raises(Invalid):  # a post of another community's list
        report_in(coordinator, party["org"], {elsewhere.id: 1})
    with pytest.raises(Invalid) as bad:
        report_in(
            coordinator, party["org"], {}, contact_email="no address", ends_on=date(2025, 1, 1)
        )
    assert set(bad.value.fields) == {"contact_email", "ends_on"}
    team = organisations.register(
        staff, name="文安路志愿服务队", kind="volunteer_team", community_code=COMMUNITY
    )
    with pytest.raises(Conflict) as not_party:
        report_in(staff, team.id, {})
    assert not_party.value.code == "not_party_org"
    with pytest.raises(NotFound):  # a volunteer who does not run it
        report_in(person(party["members"][0]), party["org"], {})

    report = report_in(coordinator, party["org"], {clean: 3, meals: 2})
    assert [(c.post.name, c.people) for c in report.claims] == [("楼道清扫", 3), ("老年人助餐", 2)]
    with pytest.raises(Conflict) as twice:
        report_in(coordinator, party["org"], {})
    assert twice.value.code == "already_reported"

    with pytest.raises(NotFound):  # another community's staff see nothing of it
        reporting.review(other_staff, report.id, confirm=True)
    assert reporting.reports_in_scope(other_staff) == []
    assert reporting.reports_in_scope(staff) == [report]
    assert reporting.review(staff, report.id, confirm=True).status == "confirmed"
    with pytest.raises(Conflict):
        reporting.review(staff, report.id, confirm=False)

    listed = reporting.reported_members(party["org"])
    assert [(name, confirmed) for _id, name, *_rest, confirmed in listed] == [
        ("李红", False),
        ("王建国", True),
    ]  # 赵不报 did not report in


def test_the_feedback_goes_to_the_contact_as_xlsx_on_demand_and_once_a_year(
    ctx, hours_factory, party
):
    staff, coordinator = hours_factory.staff(), person(party["coordinator"])
    wang, li, _zhao = party["members"]
    report = report_in(coordinator, party["org"], {party["posts"][0]: 2})
    with pytest.raises(Conflict) as early:
        feedback.send(staff, report.id, local_today().year)
    assert early.value.code == "not_confirmed"
    reporting.review(staff, report.id, confirm=True)
    served(hours_factory, party["org"], [(wang, 120), (li, 90)])
    served(hours_factory, party["org"], [(wang, 60)])

    year = local_today().year
    data = feedback.feedback(coordinator, report.id, year)
    assert [(m[0], m[4], m[5]) for m in data.members] == [("李红", 1, 90), ("王建国", 2, 180)]
    assert (data.activities, data.minutes, data.run) == (3, 270, (2, 270, 2))

    feedback.send(staff, report.id, year)
    (message,) = db.session.scalars(select(OutboxMessage)).all()
    assert message.to_address == "dangwei@tax.example.org"
    assert "沈阳市税务局机关党委" in message.subject
    sheet = table(message.attachment)
    assert "沈阳市税务局机关党委" in sheet.title[0][0] and str(year) in sheet.title[1][0]
    rows = [list(row) for row in sheet.body]
    assert rows[0][0] == "李红" and rows[0][4:] == [1, 1.5]
    assert rows[1][0] == "王建国" and rows[1][4:] == [2, 3]
    assert rows[2][4:] == [3, 4.5]  # the members in total
    assert rows[3][4:] == [2, 4.5]  # what the organisation ran
    sent = mail.build(
        "noreply@example.org", message.to_address, message.subject, message.body, message.attached
    )
    (part,) = list(sent.iter_attachments())
    assert (
        part.get_filename() == message.attachment_name and part.get_content() == message.attachment
    )

    # The scheduler sends last year's once; a second run finds nothing left to send.
    with transaction():
        report.starts_on = date(year - 1, 1, 1)
    assert tasks.party_feedback(None) == {"year": year - 1, "queued": 1}
    assert tasks.party_feedback(None) == {"year": year - 1, "queued": 0}
    assert len(db.session.scalars(select(OutboxMessage)).all()) == 2


def test_hours_by_organisation_for_staff_and_for_those_who_run_it(ctx, hours_factory, make, party):
    wang, li, _zhao = party["members"]
    served(hours_factory, party["org"], [(wang, 120), (li, 60)])
    year = local_today().year
    rows = organisation_reports.by_organisation(hours_factory.staff(), year)
    assert [(o.name, a, m, p) for o, a, m, p in rows] == [("沈阳市税务局机关党委", 1, 180, 2)]
    other_staff = person(make.user(role="staff", community=OTHER_COMMUNITY)[0])
    assert organisation_reports.by_organisation(other_staff, year) == []
    org, people, total = organisation_reports.organisation_people(
        person(party["coordinator"]), party["org"], year
    )
    assert people == [("王建国", 1, 120), ("李红", 1, 60)] and total == (1, 180, 2)
    with pytest.raises(NotFound):
        organisation_reports.organisation_people(person(li), party["org"], year)


def test_the_pages_of_the_coordinator_and_of_staff(client, app, hours_factory, party):
    log_in(client, party["coordinator_email"])
    org = party["org"]
    manage = client.get(f"/organisations/{org}/manage", headers=EN).text
    assert f"/organisations/{org}/report-in" in manage
    start = client.get(f"/organisations/{org}/report-in", headers=EN).text
    assert "Choose a district" in start and f'value="{COMMUNITY}"' not in start  # not all 955
    street = client.get(f"/organisations/{org}/report-in?street={COMMUNITY[:9]}", headers=EN)
    assert f'<option value="{COMMUNITY}"' in street.text and "楼道清扫" not in street.text
    page = client.get(f"/organisations/{org}/report-in?community={COMMUNITY}", headers=EN)
    assert page.status_code == 200 and "楼道清扫" in page.text and "it needs 4" in page.text
    clean, meals = party["posts"]
    form = {
        "community": COMMUNITY,
        "starts_on": "2026-01-01",
        "ends_on": "2027-12-31",
        "contact_name": "周书记",
        "contact_email": "dangwei@tax.example.org",
        f"post-{clean}": "3",
        f"post-{meals}": "",
    }
    refused = post_form(
        client, f"/organisations/{org}/report-in", {**form, f"post-{clean}": "9"}, headers=EN
    )
    assert refused.status_code == 200 and "Enter 1 to 4 people for 楼道清扫" in refused.text
    assert post_form(client, f"/organisations/{org}/report-in", form).status_code == 302

    staff = app.test_client()
    log_in(staff, hours_factory.staff_email)
    queue = staff.get("/staff/party-organisations", headers=EN).text
    report_id = int(re.search(r"/staff/party-organisations/(\d+)/confirm", queue).group(1))
    assert "楼道清扫 (3)" in queue
    assert (
        post_form(staff, f"/staff/party-organisations/{report_id}/confirm", {}).status_code == 302
    )
    shown = staff.get(f"/party-organisations/{report_id}", headers=EN).text
    assert "王建国" in shown and "赵不报" not in shown and "Send it to the contact" in shown
    assert (
        "Send it to the contact"
        not in client.get(f"/party-organisations/{report_id}", headers=EN).text
    )
    xlsx = client.get(f"/party-organisations/{report_id}/feedback.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    ask = staff.get(f"/staff/party-organisations/{report_id}/feedback", headers=EN).text
    assert "dangwei@tax.example.org" in ask and "cannot be called back" in ask
    sent = post_form(staff, f"/staff/party-organisations/{report_id}/feedback", {})
    assert sent.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage.attachment_name)).endswith(".xlsx")

    stranger = app.test_client()
    log_in(stranger, hours_factory.make.user()[1])
    assert stranger.get(f"/party-organisations/{report_id}").status_code == 404
    assert staff.get("/staff/organisations/hours", headers=EN).status_code == 200
    assert client.get(f"/organisations/{org}/hours.xlsx").data[:2] == b"PK"
    posts = staff.get("/staff/party-posts", headers=EN).text
    assert "老年人助餐" in posts
    assert (
        post_form(
            staff, "/staff/party-posts", {"community": COMMUNITY, "name": "", "people_needed": "0"}
        ).status_code
        == 200
    )

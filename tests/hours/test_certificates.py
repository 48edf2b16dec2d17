"""Certificates by the national rules: issued by whoever recorded the service (谁记录谁证明),
numbered without gaps per issuer and year (also under concurrency, on PostgreSQL), carrying the
issuer's signatories and the volunteer's masked ID number; the issuer's register and revocation,
which the check page and the API then show."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from neighbors.accounts import identity
from neighbors.accounts import services as accounts
from neighbors.areas import services as areas
from neighbors.core.audit import AuditEntry
from neighbors.core.errors import Conflict, Invalid, NotAllowed, NotFound
from neighbors.core.timezone import local_today
from neighbors.extensions import db
from neighbors.hours import services as hours
from neighbors.mutual_aid import services as aid
from tests.clients import EN, at_once, log_in, post_form
from tests.factories import (
    COMMUNITY,
    DEMO_AREAS,
    OTHER_COMMUNITY,
    PASSWORD,
    TEST_DATABASE_URL,
    person,
)
from tests.hours.conftest import ID_NUMBER, in_request, served


def period():
    return local_today() - timedelta(days=30), local_today()


def test_each_issuer_numbers_its_own_certificates_and_the_volunteer_chooses(ctx, world):
    volunteer, year = person(world["volunteer"]), local_today().year
    assert {key for key, _name in hours.issuers_of(volunteer)} == {
        f"community:{world['community'].id}",
        f"organisation:{world['team'].id}",
    }
    with pytest.raises(Invalid) as refused:
        hours.issue_certificate(volunteer, *period())
    assert refused.value.code == "choose_issuer"

    first = hours.issue_certificate(volunteer, *period(), f"community:{world['community'].id}")
    second = hours.issue_certificate(volunteer, *period(), f"community:{world['community'].id}")
    team = hours.issue_certificate(volunteer, *period(), f"organisation:{world['team'].id}")
    assert first.serial == f"{COMMUNITY}-{year}-000001"
    assert second.serial == f"{COMMUNITY}-{year}-000002"
    assert team.serial == f"O{world['team'].id:06d}-{year}-000001"
    assert first.issuer_name == "文安路社区" and team.issuer_name == "文安路志愿服务队"
    assert [s["activity"] for s in team.services] == ["助老探访"] and team.total_minutes == 60
    # The volunteer number is ours, stable, and passes its own check.
    assert first.volunteer_number == team.volunteer_number
    assert re.fullmatch(rf"{COMMUNITY}-0000001[0-9A-Z]", first.volunteer_number)
    # The love supermarket's counter finds the volunteer by it.
    staff = person(world["staff"])
    assert aid.find_person(staff, first.volunteer_number.lower()).id == volunteer.id


def test_the_certificate_prints_signatories_seal_masked_id_and_a_wrapping_link(app, world):
    with in_request(app):
        staff, volunteer = person(world["staff"]), person(world["volunteer"])
        issuer = f"community:{world['community'].id}"
        hours.save_issuer_settings(
            staff, issuer, responsible="王建国", handler="李静", contact="024-23456789"
        )
        identity.save_identity(volunteer, id_type="resident_id", id_number=ID_NUMBER)
        certificate = hours.issue_certificate(volunteer, *period(), issuer)
        hours.save_issuer_settings(staff, issuer, responsible="赵新", handler="", contact="")
    client = app.test_client()
    log_in(client, volunteer.email)
    page = client.get(f"/my/certificates/{certificate.serial}", headers=EN).text
    for shown in ("王建国", "李静", "024-23456789", "1101**********002X", "(seal)", "<svg"):
        assert shown in page
    assert ID_NUMBER not in page and "赵新" not in page  # issued as it stood
    assert 'class="verify"' in page and "certificate.css" in page and "style=" not in page


def test_revocation_is_confirmed_and_the_check_page_and_api_say_why(app, world, make):
    with in_request(app):
        volunteer = person(world["volunteer"])
        certificate = hours.issue_certificate(
            volunteer, *period(), f"community:{world['community'].id}"
        )
        token = hours.certificate_token(certificate)
        staff_email = person(world["staff"]).email
    staff = app.test_client()
    log_in(staff, staff_email)
    register = staff.get("/staff/certificates", headers=EN).text
    assert certificate.serial in register and volunteer.name in register

    asked = staff.get(f"/staff/certificates/{certificate.serial}/revoke", headers=EN)
    assert "Revoke certificate" in asked.text and "cannot be undone" in asked.text
    with in_request(app):
        assert hours.verify_certificate(token).revoked_at is None  # asking changed nothing
    done = post_form(
        staff,
        f"/staff/certificates/{certificate.serial}/revoke",
        {"sure": "yes", "reason": "服务记录有误"},
    )
    assert done.status_code == 302, done.text

    check = app.test_client().get(f"/certificates/verify/{token}", headers=EN).text
    assert "has been revoked" in check and "服务记录有误" in check and "is genuine." not in check
    answer = app.test_client().get(f"/api/v1/certificates/verify/{token}").json
    assert answer["revoked"] is True and answer["revoked_reason"] == "服务记录有误"
    with in_request(app):
        with pytest.raises(Conflict):
            hours.revoke_certificate(person(world["staff"]), certificate.serial, "again")
        other_staff, _email = make.user(role="staff", community=OTHER_COMMUNITY)
        with pytest.raises(NotFound):
            hours.revoke_certificate(person(other_staff), certificate.serial, "not mine")
        with pytest.raises(NotAllowed):
            hours.revoke_certificate(person(world["coordinator"]), certificate.serial, "no")
        with pytest.raises(Invalid):
            hours.revoke_certificate(person(world["staff"]), certificate.serial, " ")
        actions = db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.object_type == "certificates")
        ).all()
    assert "certificate.revoke" in actions


def test_coordinators_keep_their_organisations_register(ctx, world):
    coordinator, volunteer = person(world["coordinator"]), person(world["volunteer"])
    issued = hours.issue_certificate(volunteer, *period(), f"organisation:{world['team'].id}")
    keys = [key for key, _name in hours.managed_issuers(coordinator)]
    assert keys == [f"organisation:{world['team'].id}"]
    name, listed = hours.register(coordinator, keys[0])
    assert name == "文安路志愿服务队" and [c.serial for c in listed] == [issued.serial]
    hours.revoke_certificate(coordinator, issued.serial, "重复开具")
    with pytest.raises(NotAllowed):
        hours.managed_issuers(volunteer)
    with pytest.raises(NotAllowed):
        hours.register(coordinator, f"community:{world['community'].id}")


@pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="the serial's concurrency is proven on PostgreSQL"
)
def test_twenty_certificates_issued_at_once_are_numbered_1_to_20(app, committing_db):
    with app.app_context():
        areas.import_areas(DEMO_AREAS)
        community_id = areas.community_by_code(COMMUNITY).id
        people = []
        for i in range(20):
            user = accounts.create_user(
                email=f"c{i}@example.org", password=PASSWORD, name=f"志愿者{i}",
                role="volunteer", community_code=COMMUNITY,
            )  # fmt: skip
            served(user.id, community_id)
            people.append(user.id)

    def issue(user_id):
        def run():
            with app.test_request_context(headers=EN):
                certificate = hours.issue_certificate(person(user_id), *period())
                return certificate.serial, certificate.volunteer_number

        return run

    results = at_once([issue(user_id) for user_id in people])
    assert not [r for r in results if isinstance(r, Exception)], results
    year = local_today().year
    assert sorted(serial for serial, _number in results) == [
        f"{COMMUNITY}-{year}-{n:06d}" for n in range(1, 21)
    ]
    numbers = sorted(number for _serial, number in results)
    assert [n[len(COMMUNITY) + 1 : -1] for n in numbers] == [f"{n:07d}" for n in range(1, 21)]

"""A volunteer's identity for the national system: optional, checked (GB 11643), encrypted at
rest, found by keyed hash, shown masked; guardians' consent under 18; staff's full view logged."""

import logging
from datetime import date

import pytest
import time_machine
from sqlalchemy import text

from neighbors.accounts import identity
from neighbors.core.audit import AuditEntry
from neighbors.core.errors import Conflict, Invalid, NotFound
from neighbors.extensions import db
from tests.clients import EN, log_in, post_form
from tests.factories import OTHER_COMMUNITY, person

ADULT = "11010519491231002X"
CHILD = "110105201506010018"  # born 2015-06-01, a boy (the check character computed below)
TODAY = "2026-12-02 04:00Z"


def child_number():
    from neighbors.core.idnumbers import resident_check_char

    return CHILD[:17] + resident_check_char(CHILD[:17])


def test_a_resident_id_is_checked_encrypted_masked_and_found_by_its_hash(ctx, make):
    user_id, _email = make.user()
    with pytest.raises(Invalid) as refused:
        identity.save_identity(person(user_id), id_type="resident_id", id_number=ADULT[:-1] + "1")
    assert refused.value.code == "bad_id_number"
    saved = identity.save_identity(person(user_id), id_type="resident_id", id_number=ADULT)
    assert saved.birth_date == date(1949, 12, 31) and saved.gender == "female"
    assert saved.id_number_masked == "1101**********002X"
    stored = db.session.execute(
        text("SELECT * FROM volunteer_identities WHERE user_id = :id"), {"id": user_id}
    ).one()
    assert not [value for value in stored if isinstance(value, str) and ADULT[6:14] in value]
    assert identity.find_by_id_number(ADULT.lower()).id == user_id
    # A blank number keeps the one recorded; the same number on another account is refused.
    identity.save_identity(person(user_id), id_type="resident_id", national_number="3201-1234")
    assert identity.identity_of(user_id).id_number_masked == "1101**********002X"
    other, _email = make.user()
    with pytest.raises(Conflict):
        identity.save_identity(person(other), id_type="resident_id", id_number=ADULT)
    # No document type removes the number.
    identity.save_identity(person(user_id))
    assert identity.find_by_id_number(ADULT) is None


@time_machine.travel(TODAY, tick=False)
def test_under_18_needs_a_guardians_consent(ctx, make):
    user_id, _email = make.user()
    with pytest.raises(Invalid) as refused:
        identity.save_identity(person(user_id), id_type="resident_id", id_number=child_number())
    assert refused.value.code == "guardian_consent_needed"
    saved = identity.save_identity(
        person(user_id),
        id_type="resident_id",
        id_number=child_number(),
        guardian_name="王芳",
        guardian_phone="13812345678",
        guardian_consent_on=date(2026, 11, 1),
    )
    assert saved.birth_date == date(2015, 6, 1) and saved.gender == "male"
    assert "13812345678" not in saved.guardian_phone_encrypted
    assert identity.guardian_phone(saved) == "13812345678"


def test_staff_see_it_masked_and_the_full_view_is_logged_without_the_number(
    ctx, make, hours_factory, caplog
):
    caplog.set_level(logging.DEBUG)
    user_id, _email = make.user()
    identity.save_identity(person(user_id), id_type="resident_id", id_number=ADULT)
    staff = hours_factory.staff()
    _user, recorded = identity.identity_for_staff(staff, user_id)
    assert recorded.id_number_masked == "1101**********002X"
    assert identity.reveal_id_number(staff, user_id) == ADULT
    entries = db.session.query(AuditEntry).filter(AuditEntry.action.like("identity.%")).all()
    assert {e.action for e in entries} == {"identity.update", "identity.reveal"}
    assert not [e for e in entries if ADULT in str(e.detail)]
    assert ADULT not in caplog.text
    other_staff, _email = make.user(role="staff", community=OTHER_COMMUNITY)
    with pytest.raises(NotFound):
        identity.reveal_id_number(person(other_staff), user_id)


def test_the_page_explains_and_saves_it(app, client, make):
    _user_id, email = make.user()
    log_in(client, email)
    page = client.get("/profile/identity", headers=EN).text
    assert "Everything on this page is optional" in page and "encrypted" in page
    response = post_form(
        client,
        "/profile/identity",
        {"id_type": "resident_id", "id_number": ADULT, "gender": "", "national_number": ""},
        headers=EN,
    )
    assert response.status_code == 302, response.text
    page = client.get("/profile/identity", headers=EN).text
    assert "1101**********002X" in page and ADULT not in page
    wrong = post_form(
        client, "/profile/identity", {"id_type": "resident_id", "id_number": "123"}, headers=EN
    )
    assert wrong.status_code == 200 and "not a valid resident ID number" in wrong.text


def test_staff_show_the_whole_number_with_a_button_never_by_a_link(app, client, make):
    user_id, _email = make.user()
    with app.app_context():
        identity.save_identity(person(user_id), id_type="resident_id", id_number=ADULT)
    _staff_id, staff_email = make.user(role="staff")
    log_in(client, staff_email)
    url = f"/staff/people/{user_id}/identity"
    shown = client.get(url + "?full=1", headers=EN)  # a prefetched or shared link shows nothing
    assert ADULT not in shown.text and "1101**********002X" in shown.text
    revealed = post_form(client, url, {}, headers=EN)
    assert revealed.status_code == 200 and ADULT in revealed.text
    assert revealed.headers["Cache-Control"] == "private, no-store"
    with app.app_context():
        views = db.session.query(AuditEntry).filter_by(action="identity.reveal").count()
    assert views == 1

"""Rotating DATA_KEY: old data stays readable and findable, `neighbors keys rotate` moves it."""

import pytest
from sqlalchemy import select

from neighbors import create_app
from neighbors.accounts import services as accounts
from neighbors.accounts.models import User
from neighbors.core import keys, privacy
from neighbors.core.audit import AuditEntry
from neighbors.core.errors import Conflict, NotAuthenticated
from neighbors.extensions import db
from neighbors.foundation import services as foundation
from neighbors.foundation.models import Beneficiary
from tests.clients import log_in
from tests.factories import PASSWORD, Team

OLD_KEY = "testing-data-key"  # TestingConfig's: the data below is written under it
NEW_KEY = "a brand new data key"
PHONE = "13900001111"
ID_NUMBER = "21010220080101001X"


@pytest.fixture
def team(make):
    return Team(make)


@pytest.fixture
def use_keys(app, monkeypatch):
    """Reconfigure the keys for this test, as a restart with new settings would."""

    def use(current, old=()):
        monkeypatch.setitem(app.config, "DATA_KEY", current)
        monkeypatch.setitem(app.config, "OLD_DATA_KEYS", tuple(old))

    return use


def personal_data(team):
    """A volunteer who logs in with a phone, and a beneficiary with every sensitive field."""
    user_id, email = team.make.user(phone=PHONE)
    team.fund("EDU")
    subsidy = team.subsidy(
        "EDU", "100.00", id_number=ID_NUMBER, phone="13712345678", category="低保"
    )
    return user_id, email, subsidy.beneficiary_id


def stored(model, row_id):
    """The row as the database holds it now (not as this session last saw it)."""
    return db.session.scalars(
        select(model).where(model.id == row_id).execution_options(populate_existing=True)
    ).one()


def rotate(app, *args):
    db.session.commit()  # end this test's read transaction: the command works beside it
    return app.test_cli_runner().invoke(args=["neighbors", "keys", "rotate", *args])


def test_rotation_keeps_data_readable_then_moves_it_to_the_new_key(ctx, app, team, use_keys):
    user_id, _email, beneficiary_id = personal_data(team)
    before_user, before_person = stored(User, user_id), stored(Beneficiary, beneficiary_id)
    old_user = (before_user.phone_encrypted, before_user.phone_hash)
    old_person = (before_person.id_number_encrypted, before_person.id_number_hash)

    use_keys(NEW_KEY, old=[OLD_KEY])
    # Before the rotation: read, logged in and found under the old key.
    assert accounts.authenticate(PHONE, PASSWORD).id == user_id
    assert accounts.phone_of(stored(User, user_id)) == PHONE
    details = foundation.beneficiary_details(team.approver, beneficiary_id)
    assert details == {"id_number": ID_NUMBER, "phone": "13712345678", "category": "低保"}
    again = team.subsidy("EDU", "50.00", id_number=ID_NUMBER)
    assert again.beneficiary_id == beneficiary_id  # the same person, not a second one
    with pytest.raises(Conflict):  # nor can the number be registered a second time
        accounts.create_user(
            email=None, password=PASSWORD, name="另一人", role="volunteer", phone=PHONE
        )
    # Written during the rotation: under the new key already, left alone by the command.
    new_id, _ = team.make.user(phone="13900002222")
    new_phone = stored(User, new_id).phone_encrypted

    result = rotate(app, "--batch-size", "2")
    assert result.exit_code == 0, result.output
    # The volunteer and the beneficiary; of every row with personal data, the new user's too.
    rows = len(db.session.scalars(select(User.id).where(User.phone_hash.is_not(None))).all())
    assert f"2 of {rows + 1} rows changed." in result.output
    assert "users: 2/" in result.output  # progress, batch by batch
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "keys.rotate")).one()
    assert entry.detail == {"rows": 2, "skipped": 0}  # counts only: no personal data

    use_keys(NEW_KEY)  # the old key removed
    after_user, after_person = stored(User, user_id), stored(Beneficiary, beneficiary_id)
    assert after_user.phone_encrypted != old_user[0] and after_user.phone_hash != old_user[1]
    assert after_person.id_number_encrypted != old_person[0]
    assert after_person.id_number_hash != old_person[1]
    assert stored(User, new_id).phone_encrypted == new_phone
    assert accounts.authenticate(PHONE, PASSWORD).id == user_id
    assert accounts.phone_of(after_user) == PHONE
    assert foundation.beneficiary_details(team.approver, beneficiary_id) == details
    assert team.subsidy("EDU", "20.00", id_number=ID_NUMBER).beneficiary_id == beneficiary_id

    second = rotate(app)
    assert second.exit_code == 0, second.output
    assert f"0 of {rows + 1} rows changed." in second.output
    assert stored(User, user_id).phone_encrypted == after_user.phone_encrypted


def test_without_the_old_key_old_data_shows_as_unreadable(ctx, app, team, use_keys):
    user_id, email, beneficiary_id = personal_data(team)
    token = stored(User, user_id).phone_encrypted
    use_keys(NEW_KEY)  # the old key dropped before the rotation ran

    with pytest.raises(privacy.Undecryptable):
        privacy.decrypt(token)
    user = stored(User, user_id)
    assert privacy.mask_phone(accounts.phone_of(user)) == privacy.UNREADABLE
    assert set(foundation.beneficiary_details(team.approver, beneficiary_id).values()) == {
        privacy.UNREADABLE
    }
    with pytest.raises(NotAuthenticated):  # the phone is not found; the e-mail still works
        accounts.authenticate(PHONE, PASSWORD)
    assert accounts.authenticate(email, PASSWORD).id == user_id

    # Saving the profile keeps the number as stored, so restoring the old key recovers it.
    accounts.update_profile(
        user, name="新名字", email=email, phone="", community_code=None, grid_code="", locale=None
    )
    assert stored(User, user_id).phone_encrypted == token

    result = rotate(app)
    assert result.exit_code == 1
    assert f"users {user_id}: phone_encrypted cannot be decrypted" in result.output
    assert f"beneficiaries {beneficiary_id}: id_number_encrypted" in result.output
    assert "keep OLD_DATA_KEYS" in result.output
    assert stored(User, user_id).phone_encrypted == token  # left as it was

    use_keys(NEW_KEY, old=[OLD_KEY])  # the old key put back: everything is there again
    assert accounts.phone_of(stored(User, user_id)) == PHONE


def test_pages_show_a_dash_for_data_no_key_can_read(app, team, use_keys):
    user_id, email, beneficiary_id = personal_data(team)
    use_keys(NEW_KEY)

    volunteer = app.test_client()
    log_in(volunteer, email)
    page = volunteer.get("/profile", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and privacy.UNREADABLE in page.text
    token = volunteer.post("/api/v1/tokens", json={"login": email, "password": PASSWORD})
    me = volunteer.get("/api/v1/me", headers={"Authorization": f"Bearer {token.json['token']}"})
    assert me.status_code == 200 and me.json["phone"] == privacy.UNREADABLE

    approver = app.test_client()
    log_in(approver, team.emails["approver"])
    page = approver.get(f"/foundation/beneficiaries/{beneficiary_id}")
    assert page.status_code == 200
    assert page.text.count(privacy.UNREADABLE) == 3 and ID_NUMBER not in page.text


def test_lookup_hashes_and_encryption_follow_the_keys(ctx, use_keys):
    under_old = privacy.lookup_hash(PHONE)
    token = privacy.encrypt(PHONE)
    use_keys(NEW_KEY, old=[OLD_KEY, NEW_KEY, "older"])
    hashes = privacy.lookup_hashes(PHONE)
    assert len(hashes) == 3 and hashes[1] == under_old  # current first, repeated keys once
    assert privacy.lookup_hash(PHONE) == hashes[0] != under_old
    assert privacy.decrypt(token) == PHONE and not privacy.is_current(token)
    assert privacy.is_current(privacy.encrypt(PHONE))
    use_keys(OLD_KEY)
    assert privacy.lookup_hashes(PHONE) == [under_old]  # caches follow the configured keys


def test_every_encrypted_column_is_rotated(app):
    declared = {
        (model.__tablename__, column)
        for model in keys.encrypted_models()
        for column in model.ENCRYPTED
    }
    encrypted = {
        (table.name, column.name)
        for table in db.metadata.sorted_tables
        for column in table.columns
        if column.name.endswith("_encrypted")
    }
    assert encrypted == declared
    for model in keys.encrypted_models():
        assert set(model.LOOKUP_HASHES.values()) <= set(model.ENCRYPTED)


def test_old_data_keys_come_from_the_environment_as_a_json_list(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    monkeypatch.setenv("NEIGHBORS_OLD_DATA_KEYS", '["first old key", "second"]')
    app = create_app({"ENV": "testing", "DATABASE_URL": url})
    assert app.config["OLD_DATA_KEYS"] == ("first old key", "second")
    monkeypatch.setenv("NEIGHBORS_OLD_DATA_KEYS", "not a list")
    with pytest.raises(RuntimeError, match="OLD_DATA_KEYS must be a list"):
        create_app({"ENV": "testing", "DATABASE_URL": url})
    monkeypatch.delenv("NEIGHBORS_OLD_DATA_KEYS")
    assert create_app({"ENV": "testing", "DATABASE_URL": url}).config["OLD_DATA_KEYS"] == ()

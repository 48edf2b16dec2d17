"""Accounts: registration, login, passwords, roles and scope, Party report-in, imports, tokens."""

import contextlib
from datetime import date, timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from neighbors.accounts import services as accounts
from neighbors.accounts.models import ApiToken, User
from neighbors.core.audit import AuditEntry
from neighbors.core.db import transaction
from neighbors.core.errors import (
    Conflict,
    Invalid,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    TooManyAttempts,
)
from neighbors.core.outbox import OutboxMessage
from neighbors.core.sms_outbox import SmsMessage
from neighbors.core.tabular import ImportFailed
from neighbors.core.timezone import local_today
from neighbors.extensions import db
from neighbors.party import members as party_members
from neighbors.party.models import ReportStatus
from tests.factories import COMMUNITY, OTHER_COMMUNITY, PASSWORD


def register(**fields):
    values = dict(
        name="王小明",
        email="Xiaoming@Example.org",
        phone="138 1234 5678",
        password=PASSWORD,
        community_code=COMMUNITY,
        consent=True,
    )
    values.update(fields)
    return accounts.register(**values)


def user(user_id):
    return db.session.get(User, user_id)


def verified(created):
    """The number registered with, verified by the code sent to it (then it is a login)."""
    phone = accounts.phone_of(created)
    accounts.request_code(phone, "verify", actor=created)
    code = db.session.scalars(select(SmsMessage).order_by(SmsMessage.id.desc())).first()
    return accounts.verify_phone(created, phone, code.params["code"])


def test_register_records_consent_and_keeps_the_phone_encrypted(ctx, areas_loaded):
    created = register()
    stored = user(created.id)
    assert stored.email == "xiaoming@example.org"
    assert stored.home_community.code == COMMUNITY
    assert stored.privacy_consent_version == "2026-11" and stored.privacy_consent_at
    assert [str(g.role) for g in stored.roles] == ["volunteer"]
    assert "13812345678" not in (stored.phone_encrypted + stored.phone_hash)
    assert accounts.phone_of(stored) == "13812345678"
    assert stored.password_hash.startswith("$argon2id$")


@pytest.mark.parametrize(
    "login", ["xiaoming@example.org", "XIAOMING@example.org", "13812345678", "+86 138-1234-5678"]
)
def test_log_in_with_email_or_phone(ctx, areas_loaded, login):
    created = verified(register())
    assert accounts.authenticate(login, PASSWORD).id == created.id


def test_wrong_password_unknown_login_and_inactive_all_fail_alike(ctx, areas_loaded):
    created = register()
    messages = set()
    for login, password in (
        ("xiaoming@example.org", "wrong password"),
        ("nobody@example.org", PASSWORD),
        ("", ""),
    ):
        with pytest.raises(NotAuthenticated) as failure:
            accounts.authenticate(login, password)
        messages.add(failure.value.message)
    assert len(messages) == 1
    failures = db.session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "account.login_failed")
    )
    assert failures == 3
    with transaction():
        user(created.id).active = False
    with pytest.raises(NotAuthenticated):
        accounts.authenticate("xiaoming@example.org", PASSWORD)


def test_registration_rules(ctx, areas_loaded):
    with pytest.raises(Invalid) as failure:
        register(consent=False)
    assert "consent" in failure.value.fields
    with pytest.raises(Invalid) as failure:
        register(email="", phone="")
    assert set(failure.value.fields) == {"email", "phone"}
    with pytest.raises(Invalid) as failure:
        register(phone="12345")
    assert "phone" in failure.value.fields
    with pytest.raises(Invalid):
        register(password="short")
    with pytest.raises(NotFound):
        register(community_code="000")
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_an_email_or_phone_registers_once(ctx, areas_loaded):
    register()
    with pytest.raises(Conflict) as failure:
        register(phone="")
    assert "email" in failure.value.fields
    with pytest.raises(Conflict) as failure:
        register(email="other@example.org", phone="+8613812345678")
    assert "phone" in failure.value.fields


def test_change_password_ends_every_session(ctx, areas_loaded):
    created = register()
    phone, laptop = (accounts.start_session(user(created.id)).get_id() for _ in range(2))
    assert accounts.user_for_session(phone).id == created.id
    with pytest.raises(Invalid) as failure:
        accounts.change_password(user(created.id), "not it", "a new password")
    assert "current_password" in failure.value.fields
    assert accounts.user_for_session(phone) is not None  # a wrong password changes nothing
    accounts.change_password(accounts.user_for_session(phone), PASSWORD, "a new password")
    assert accounts.user_for_session(phone) is None and accounts.user_for_session(laptop) is None
    assert accounts.authenticate("xiaoming@example.org", "a new password").id == created.id


def test_a_session_ends_at_logout_and_after_its_days(app, ctx, areas_loaded, monkeypatch):
    created = register()
    ended, kept = (accounts.start_session(user(created.id)).get_id() for _ in range(2))
    accounts.end_session(ended)
    assert accounts.user_for_session(ended) is None
    assert accounts.user_for_session(kept).id == created.id
    for forged in (f"{created.id}:guess", f"{created.id + 1}:{kept.split(':')[1]}", "", "x:y"):
        assert accounts.user_for_session(forged) is None
    monkeypatch.setitem(app.config, "SESSION_DAYS", 0)
    assert accounts.user_for_session(kept) is None


@pytest.fixture
def throttled(app, monkeypatch):
    """The login throttle on, with counts of its own (the suite's app has rate limits off)."""
    from limits.storage import MemoryStorage

    monkeypatch.setitem(app.config, "RATELIMIT_ENABLED", True)
    monkeypatch.setitem(app.config, "LOCKOUT_THRESHOLD", 3)
    monkeypatch.setitem(app.config, "LOGIN_SLOWDOWN_AFTER", 100)
    monkeypatch.setitem(app.extensions, "neighbors_counters", MemoryStorage())


def test_repeated_failures_lock_the_address_out_of_the_login(ctx, areas_loaded, throttled):
    created = register()
    here, there = "203.0.113.9", "198.51.100.7"
    for _ in range(2):
        with pytest.raises(NotAuthenticated):
            accounts.authenticate("xiaoming@example.org", "wrong", address=here)
    # A success resets the count (typed another way, it is still the same login).
    assert accounts.authenticate(" XiaoMing@example.org", PASSWORD, address=here)
    for _ in range(2):
        with pytest.raises(NotAuthenticated):
            accounts.authenticate("xiaoming@example.org", "wrong", address=here)
    with pytest.raises(TooManyAttempts) as locked:
        accounts.authenticate("xiaoming@example.org", "wrong", address=here)
    assert 14 * 60 < locked.value.retry_after <= 15 * 60
    with pytest.raises(TooManyAttempts):  # even the right password, from that address
        accounts.authenticate("xiaoming@example.org", PASSWORD, address=here)
    assert accounts.authenticate("xiaoming@example.org", PASSWORD, address=there).id == created.id
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions.count("account.locked") == 1 and actions.count("account.login_failed") == 5


def test_failures_from_anywhere_slow_a_login_down_briefly(
    app, ctx, areas_loaded, throttled, monkeypatch, time_machine
):
    time_machine.move_to("2026-12-01 08:00:00+00:00", tick=False)
    monkeypatch.setitem(app.config, "LOGIN_SLOWDOWN_AFTER", 2)
    register()
    waits = []
    for number in range(8):  # each guess from a new address: no address is ever locked
        address = f"203.0.113.{number}"
        try:
            accounts.authenticate("xiaoming@example.org", "wrong", address=address)
        except TooManyAttempts as error:
            waits.append(error.retry_after)
            time_machine.shift(error.retry_after)
            with pytest.raises(NotAuthenticated):  # heard once the wait is over
                accounts.authenticate("xiaoming@example.org", "wrong", address=address)
        except NotAuthenticated:
            pass
    assert waits == [1, 2, 4, 8, 16, 30]  # doubling, to LOGIN_SLOWDOWN_MAX_SECONDS at most
    with pytest.raises(TooManyAttempts):
        accounts.authenticate("xiaoming@example.org", PASSWORD, address="198.51.100.7")
    time_machine.shift(30)
    assert accounts.authenticate("xiaoming@example.org", PASSWORD, address="198.51.100.7")


def test_update_profile_keeps_phone_when_blank_and_checks_grid(ctx, make):
    user_id, _email = make.user(phone="13900001111")
    accounts.update_profile(
        user(user_id),
        name="新名字",
        email="new@example.org",
        phone="",
        community_code=OTHER_COMMUNITY,
        grid_code="",
        locale="en",
        current_password=PASSWORD,
    )
    changed = user(user_id)
    assert (changed.name, changed.email, changed.locale) == ("新名字", "new@example.org", "en")
    assert accounts.phone_of(changed) == "13900001111"
    assert changed.home_community.code == OTHER_COMMUNITY
    with pytest.raises(Invalid):  # a grid of another community
        accounts.update_profile(
            user(user_id),
            name="x",
            email="new@example.org",
            phone="",
            community_code=OTHER_COMMUNITY,
            grid_code=COMMUNITY + "01",
            locale=None,
        )
    accounts.update_profile(
        user(user_id),
        name="x",
        email="new@example.org",
        phone="",
        community_code=OTHER_COMMUNITY,
        grid_code=OTHER_COMMUNITY + "01",
        locale=None,
    )
    assert user(user_id).grid.code == OTHER_COMMUNITY + "01"


def test_changing_a_login_on_the_profile_needs_the_current_password(ctx, make):
    user_id, email = make.user(phone="13900001111")
    same = {"community_code": COMMUNITY, "grid_code": "", "locale": None}
    new_email = {"email": "thief@example.org", "phone": ""}
    new_phone = {"email": email, "phone": "139 0000 2222"}
    no_email = {"email": "", "phone": ""}  # removing the address is changing it
    for changes in (new_email, new_phone, no_email):
        for password in (None, "", "not the password"):
            with pytest.raises(Invalid) as refused:
                accounts.update_profile(
                    user(user_id), name="改名", **changes, **same, current_password=password
                )
            assert set(refused.value.fields) == {"current_password"}
            assert "password" in refused.value.fields["current_password"]
    unchanged = user(user_id)
    assert unchanged.email == email and accounts.phone_of(unchanged) == "13900001111"
    assert unchanged.name != "改名"  # nothing at all was saved
    # The name (and the same logins, the phone typed another way) need no password.
    accounts.update_profile(
        user(user_id), name="改名", email=email.upper(), phone="+86 13900001111", **same
    )
    assert user(user_id).name == "改名"
    accounts.update_profile(
        user(user_id),
        name="改名",
        email="new@example.org",
        phone="13900002222",
        **same,
        current_password=PASSWORD,
    )
    changed = user(user_id)
    assert changed.email == "new@example.org" and accounts.phone_of(changed) == "13900002222"
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions.count("account.update_profile") == 2


def test_the_current_password_cannot_be_guessed_from_a_session_either(ctx, make, throttled):
    user_id, email = make.user()
    same = {"name": "x", "phone": "", "community_code": COMMUNITY, "grid_code": "", "locale": None}
    for _ in range(2):
        with pytest.raises(Invalid):
            accounts.change_password(user(user_id), "a guess", "a new password")
    with pytest.raises(TooManyAttempts):  # the third wrong one, on either page
        accounts.update_profile(user(user_id), email="x@example.org", **same, current_password="g")
    with pytest.raises(TooManyAttempts):  # then even the right one, for a while
        accounts.change_password(user(user_id), PASSWORD, "a new password")
    assert user(user_id).email == email
    assert accounts.authenticate(email, PASSWORD, address="198.51.100.7")  # logging in is not


def declare(user_id, community=COMMUNITY):
    return party_members.declare_party_membership(
        user(user_id),
        branch="税务局第三党支部",
        work_unit="沈阳市税务局",
        community_code=community,
        grid_code="",
        reported_on=date(2026, 3, 5),
    )


def test_party_report_in_is_confirmed_by_staff_of_that_community_only(ctx, make):
    member_id, _ = make.user()
    staff_id, _ = make.user(role="staff", community=COMMUNITY)
    other_staff_id, _ = make.user(role="staff", community=OTHER_COMMUNITY)
    volunteer_id, _ = make.user()
    declare(member_id)

    assert [m.user_id for m in party_members.party_reports(user(staff_id), "declared")] == [
        member_id
    ]
    assert party_members.party_reports(user(other_staff_id), "declared") == []
    with pytest.raises(NotAllowed):
        party_members.party_reports(user(volunteer_id))
    with pytest.raises(NotFound):
        party_members.review_party_report(user(other_staff_id), member_id, confirm=True)
    with pytest.raises(NotAllowed):
        party_members.review_party_report(user(volunteer_id), member_id, confirm=True)

    party_members.review_party_report(user(staff_id), member_id, confirm=True)
    member = user(member_id).party
    assert member.status == ReportStatus.CONFIRMED and member.reviewed_by_id == staff_id
    with pytest.raises(Conflict):
        party_members.review_party_report(user(staff_id), member_id, confirm=False)

    declare(member_id)  # a change goes back for confirmation
    assert user(member_id).party.status == ReportStatus.DECLARED


def test_party_report_in_date_cannot_be_in_the_future(ctx, make):
    member_id, _ = make.user()
    with pytest.raises(Invalid) as failure:
        party_members.declare_party_membership(
            user(member_id),
            branch="支部",
            work_unit="单位",
            community_code=COMMUNITY,
            grid_code="",
            reported_on=local_today() + timedelta(days=30),
        )
    assert "reported_on" in failure.value.fields


def test_create_user_roles(ctx, areas_loaded):
    staff = accounts.create_user(
        email="s@example.org",
        password=PASSWORD,
        name="李静",
        role="staff",
        community_code=COMMUNITY,
    )
    grant = user(staff.id).roles[0]
    assert (str(grant.role), grant.community.code) == ("staff", COMMUNITY)
    with pytest.raises(Invalid):
        accounts.create_user(email="t@example.org", password=PASSWORD, name="x", role="staff")
    with pytest.raises(Invalid):
        accounts.create_user(email="t@example.org", password=PASSWORD, name="x", role="boss")
    accounts.grant_role("s@example.org", "staff", OTHER_COMMUNITY)
    accounts.grant_role("s@example.org", "staff", OTHER_COMMUNITY)
    assert sorted(g.community.code for g in user(staff.id).roles) == [COMMUNITY, OTHER_COMMUNITY]
    accounts.revoke_role("s@example.org", "staff", COMMUNITY)
    assert [g.community.code for g in user(staff.id).roles] == [OTHER_COMMUNITY]
    with pytest.raises(NotFound):
        accounts.revoke_role("s@example.org", "admin")


USERS_CSV = (
    "name,email,phone,password,role,community\n"
    "刘洋,liu@example.org,13800000011,,volunteer,{c}\n"
    "陈红,chen@example.org,,a long password,staff,{c}\n"
)


def test_import_users_from_csv_sends_invitations_without_passwords(ctx, areas_loaded, tmp_path):
    path = tmp_path / "users.csv"
    path.write_text(USERS_CSV.format(c=COMMUNITY), encoding="utf-8-sig")
    created, invitations = accounts.import_users(path)
    assert created == 2 and [email for email, _link in invitations] == ["liu@example.org"]
    liu = db.session.scalar(select(User).where(User.email == "liu@example.org"))
    assert liu.password_hash is None
    message = db.session.scalar(select(OutboxMessage))
    assert message.to_address == "liu@example.org"
    token = message.body.split("/invitation/")[1].split()[0]
    accounts.accept_invitation(token, "my own password")
    assert accounts.authenticate("13800000011", "my own password").id == liu.id
    with pytest.raises(NotFound):  # an invitation works once
        accounts.accept_invitation(token, "another password")
    assert accounts.authenticate("chen@example.org", "a long password")


def test_import_users_from_xlsx_is_all_or_nothing_with_line_numbers(ctx, areas_loaded, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["name", "email", "phone", "password", "role", "community"])
    sheet.append(
        ["刘洋", "liu@example.org", 13800000011, "a long password", "volunteer", COMMUNITY]
    )
    sheet.append(["", "x@example.org", None, "a long password", "volunteer", COMMUNITY])
    sheet.append(["陈红", "LIU@example.org", None, "a long password", "volunteer", COMMUNITY])
    sheet.append(["赵敏", "zhao@example.org", None, "a long password", "volunteer", "999"])
    sheet.append(["孙强", "sun@example.org", None, "short", "volunteer", COMMUNITY])
    sheet.append(["周芳", None, None, None, "volunteer", COMMUNITY])
    path = tmp_path / "users.xlsx"
    book.save(path)
    with pytest.raises(ImportFailed) as failure:
        accounts.import_users(path)
    assert [line for line, _message in failure.value.errors] == [3, 4, 5, 6, 7]
    assert db.session.scalar(select(func.count()).select_from(User)) == 0

    book.remove(sheet)
    sheet = book.create_sheet()
    sheet.append(["name", "email", "phone", "password", "role", "community"])
    sheet.append(
        ["刘洋", "liu@example.org", 13800000011, "a long password", "volunteer", COMMUNITY]
    )
    book.save(path)
    assert accounts.import_users(path) == (1, [])
    assert accounts.authenticate("13800000011", "a long password")


def test_api_tokens_are_stored_hashed_expire_and_revoke(app, ctx, make):
    user_id, email = make.user()
    raw, token = accounts.issue_token(email, PASSWORD)
    assert raw not in token.token_hash
    assert accounts.user_for_token(raw).id == user_id
    assert accounts.user_for_token(raw + "x") is None
    accounts.revoke_token(raw)
    assert accounts.user_for_token(raw) is None

    raw, token = accounts.issue_token(email, PASSWORD)
    stored = db.session.get(ApiToken, token.id)
    with transaction():
        stored.expires_at = stored.expires_at - timedelta(days=365)
    assert accounts.user_for_token(raw) is None
    with pytest.raises(NotAuthenticated):
        accounts.issue_token(email, "wrong password")


def test_full_width_phone_digits_are_the_same_number(ctx, areas_loaded):
    verified(register(phone="１３８１２３４５６７８"))
    assert accounts.authenticate("13812345678", PASSWORD)
    with pytest.raises(Conflict):
        register(email="other@example.org", phone="13812345678")


def test_staff_cannot_confirm_their_own_report_in_and_volunteers_learn_nothing(ctx, make):
    staff_id, _ = make.user(role="staff", community=COMMUNITY)
    volunteer_id, _ = make.user()
    declare(staff_id)
    with pytest.raises(NotAllowed):
        party_members.review_party_report(user(staff_id), staff_id, confirm=True)
    for target in (staff_id, 999999):  # the same answer whether a record exists or not
        with pytest.raises(NotAllowed):
            party_members.review_party_report(user(volunteer_id), target, confirm=True)


def test_moving_home_drops_the_old_grid(ctx, make):
    user_id, email = make.user()
    accounts.update_profile(
        user(user_id),
        name="x",
        email=email,
        phone="",
        community_code=COMMUNITY,
        grid_code=COMMUNITY + "01",
        locale=None,
    )
    accounts.update_profile(
        user(user_id),
        name="x",
        email=email,
        phone="",
        community_code=OTHER_COMMUNITY,
        grid_code=COMMUNITY + "01",
        locale=None,
    )
    assert user(user_id).home_community.code == OTHER_COMMUNITY and user(user_id).grid is None


def test_an_address_the_owner_logged_in_from_is_not_slowed_down_by_strangers(
    app, ctx, areas_loaded, throttled, monkeypatch
):
    monkeypatch.setitem(app.config, "LOGIN_SLOWDOWN_AFTER", 2)
    register()
    home, elsewhere = "198.51.100.7", "192.0.2.44"
    assert accounts.authenticate("xiaoming@example.org", PASSWORD, address=home)
    for number in range(4):  # strangers, each from an address of their own
        with contextlib.suppress(NotAuthenticated, TooManyAttempts):
            accounts.authenticate("xiaoming@example.org", "wrong", address=f"203.0.113.{number}")
    with pytest.raises(TooManyAttempts):  # a new address waits out the slow-down …
        accounts.authenticate("xiaoming@example.org", PASSWORD, address=elsewhere)
    # … the owner's own does not: strangers' guesses cannot keep them out, however often
    assert accounts.authenticate("xiaoming@example.org", PASSWORD, address=home)


def test_guessing_the_current_password_is_counted_apart_from_logins(
    app, ctx, areas_loaded, throttled, monkeypatch
):
    monkeypatch.setitem(app.config, "LOGIN_SLOWDOWN_AFTER", 2)
    user = register()
    # Failed logins typed as anything at all, the user's id included, never slow down or lock
    # the current-password check of a signed-in user …
    for typed in (str(user.id), f"signed-in:{user.id}", f"reauth:{user.id}"):
        for _ in range(3):
            with contextlib.suppress(NotAuthenticated, TooManyAttempts):
                accounts.authenticate(typed, "wrong", address="203.0.113.9")
    accounts.change_password(user, PASSWORD, "a new long password")
    # … and guesses there lock that check (LOCKOUT_THRESHOLD: 3), not the login.
    for _ in range(3):
        with contextlib.suppress(Invalid, TooManyAttempts):
            accounts.change_password(user, "wrong", "another long password")
    with pytest.raises(TooManyAttempts):
        accounts.change_password(user, "a new long password", "another long password")
    assert accounts.authenticate("xiaoming@example.org", "a new long password", address="::1")

"""Service hours through the services: minutes, records, confirmation, corrections, totals,
certificates, check-in codes, Party reports and dashboards."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neighbors.attendance import completion
from neighbors.attendance import services as attendance
from neighbors.core.db import transaction, utcnow
from neighbors.core.errors import Conflict, Invalid, NotAllowed, NotFound
from neighbors.core.timezone import local_today
from neighbors.events import services as events
from neighbors.events.models import Event, Signup
from neighbors.extensions import db
from neighbors.hours import reports
from neighbors.hours import services as hours
from neighbors.hours.models import RecordStatus, ServiceRecord
from neighbors.party import reports as party_reports
from tests.factories import OTHER_COMMUNITY, person

BASE = datetime(2030, 5, 1, 1, 0, tzinfo=UTC)
moments = st.integers(min_value=-300, max_value=600).map(lambda m: BASE + timedelta(minutes=m))


@given(
    start=moments, length=st.integers(1, 480), came=st.none() | moments, left=st.none() | moments
)
def test_minutes_are_the_overlap_of_presence_and_event(start, length, came, left):
    end = start + timedelta(minutes=length)
    minutes = completion.attended_minutes(start, end, came, left)
    assert 0 <= minutes <= length
    if came is None:
        assert minutes == 0
    else:
        present_until = min(left or end, end)
        overlap = (present_until - max(came, start)).total_seconds() // 60
        assert minutes == max(int(overlap), 0)


def complete(factory, event_id):
    return completion.complete_event(factory.staff(), event_id)


def test_completing_makes_records_for_those_who_came_and_marks_no_shows(ctx, hours_factory):
    a, b, c = hours_factory.volunteers(3)
    event_id = hours_factory.held_event([a, b, c], minutes=120)
    event = db.session.get(Event, event_id)
    staff = hours_factory.staff()
    attendance.record_attendance(
        staff,
        event_id,
        a,
        event.starts_at - timedelta(minutes=30),
        event.ends_at + timedelta(minutes=30),
    )  # capped to 120
    attendance.record_attendance(
        staff,
        event_id,
        b,
        event.starts_at + timedelta(minutes=45),
        event.starts_at + timedelta(minutes=90),
    )  # 45
    complete(hours_factory, event_id)
    records = {r.user_id: r for r in db.session.query(ServiceRecord).all()}
    assert {u: r.minutes for u, r in records.items()} == {a: 120, b: 45}
    assert all(r.status == RecordStatus.PENDING for r in records.values())
    no_shows = {s.user_id for s in db.session.query(Signup).filter_by(no_show=True)}
    assert no_shows == {c}
    with db.session.begin_nested():
        pass
    assert completion.records_for_event(staff, db.session.get(Event, event_id)) == 0  # once only


def test_confirm_reject_in_bulk_within_scope(ctx, hours_factory, make):
    a, b = hours_factory.volunteers(2)
    event_id = hours_factory.held_event([a, b])
    attendance.all_present(hours_factory.staff(), event_id)
    complete(hours_factory, event_id)
    ids = [r.id for r in hours.records_to_confirm(hours_factory.staff())]
    assert len(ids) == 2
    other_id, _ = make.user(role="staff", community=OTHER_COMMUNITY)
    with pytest.raises(NotFound):
        hours.review(person(other_id), ids, confirm=True)
    with pytest.raises(NotAllowed):
        hours.review(person(a), ids, confirm=True)
    hours.review(hours_factory.staff(), ids[:1], confirm=True)
    with pytest.raises(Conflict):  # all or nothing: one is no longer pending
        hours.review(hours_factory.staff(), ids, confirm=False)
    hours.review(hours_factory.staff(), ids[1:], confirm=False, reason="没来")
    assert hours.totals(a).all_time + hours.totals(b).all_time == 120


def test_corrections_replace_without_editing_and_both_stay(ctx, hours_factory):
    (a,) = hours_factory.volunteers(1)
    record = hours.submit_service(
        person(a),
        activity="义务理发",
        place="社区",
        organiser="理发店",
        served_on=local_today() - timedelta(days=2),
        minutes=90,
    )
    with pytest.raises(Conflict):  # pending records are reviewed, not corrected
        hours.request_correction(person(a), record.id, minutes=60, reason="记错了")
    hours.review(hours_factory.staff(), [record.id], confirm=True)
    correction = hours.request_correction(person(a), record.id, minutes=60, reason="记错了")
    assert hours.totals(a).all_time == 90  # until staff confirm the correction
    hours.review(hours_factory.staff(), [correction.id], confirm=True)
    assert hours.totals(a).all_time == 60
    rows = hours.my_records(person(a))
    assert [(r.minutes, counts, corrected) for r, counts, corrected in rows] == [
        (60, True, False),
        (90, False, True),
    ]
    assert db.session.get(ServiceRecord, record.id).minutes == 90  # never edited
    with pytest.raises(Conflict):
        hours.correct_record(hours_factory.staff(), record.id, minutes=30, reason="again")


def test_volunteer_submission_rules(ctx, hours_factory):
    (a,) = hours_factory.volunteers(1)
    with pytest.raises(Invalid) as bad:
        hours.submit_service(
            person(a),
            activity="",
            place="x",
            organiser="y",
            served_on=local_today() + timedelta(days=3),
            minutes=0,
        )
    assert set(bad.value.fields) == {"activity", "served_on", "minutes"}


def test_overdue_counts_working_days():
    friday = date(2026, 11, 27)
    assert friday.weekday() == 4
    assert hours.overdue_before(friday) == date(2026, 11, 13)  # two weeks of Mon–Fri back


def test_star_levels(ctx):
    assert hours.star_level(0) == (0, 100 * 60)
    assert hours.star_level(300 * 60) == (2, 600 * 60)
    assert hours.star_level(2000 * 60) == (5, None)


def test_certificates_verify_and_forgeries_fail(ctx, hours_factory):
    (a,) = hours_factory.volunteers(1)
    with pytest.raises(Invalid):
        hours.issue_certificate(person(a), date(2026, 1, 1), local_today())
    record = hours.submit_service(
        person(a),
        activity="助老",
        place="社区",
        organiser="社区",
        served_on=local_today() - timedelta(days=1),
        minutes=150,
    )
    hours.review(hours_factory.staff(), [record.id], confirm=True)
    certificate = hours.issue_certificate(
        person(a), local_today() - timedelta(days=30), local_today()
    )
    assert certificate.total_minutes == 150 and len(certificate.services) == 1
    token = hours.certificate_token(certificate)
    assert hours.verify_certificate(token).serial == certificate.serial
    for forged in (token[:-1] + ("A" if token[-1] != "A" else "B"), "nonsense", ""):
        with pytest.raises(NotFound):
            hours.verify_certificate(forged)


def test_check_in_with_the_rotating_code(ctx, hours_factory):
    a, b = hours_factory.volunteers(2)
    now = utcnow()
    event_id = hours_factory.event(
        starts_at=now + timedelta(minutes=10), ends_at=now + timedelta(hours=2)
    )
    events.sign_up(person(a), event_id)
    event = db.session.get(Event, event_id)
    code = attendance.checkin_code(event)
    codes = {attendance.checkin_code(event, now - timedelta(minutes=5 * i)) for i in range(12)}
    assert len(codes) >= 10  # it rotates every five minutes
    stale = attendance.checkin_code(event, now - timedelta(minutes=20))
    if stale not in (code, attendance.checkin_code(event, now - timedelta(minutes=5))):
        with pytest.raises(Invalid):  # a code from twenty minutes ago no longer works
            attendance.check_in_with_code(person(a), event_id, stale)
    with pytest.raises(Invalid):
        attendance.check_in_with_code(person(a), event_id, "000000" if code != "000000" else "1")
    with pytest.raises(NotFound):
        attendance.check_in_with_code(person(b), event_id, code)
    signup = attendance.check_in_with_code(person(a), event_id, code)
    assert signup.checked_in_at and not signup.checked_out_at
    with pytest.raises(Conflict) as repeat:  # a second tap straight away is not leaving
        attendance.check_in_with_code(person(a), event_id, code)
    assert repeat.value.code == "already_checked_in"
    with transaction():  # twenty minutes later
        db.session.get(Signup, signup.id).checked_in_at -= timedelta(minutes=20)
    assert attendance.check_in_with_code(person(a), event_id, code).checked_out_at
    with pytest.raises(Conflict):
        attendance.check_in_with_code(person(a), event_id, code)
    later = db.session.get(
        Event,
        hours_factory.event(
            starts_at=now + timedelta(days=2), ends_at=now + timedelta(days=2, hours=1)
        ),
    )
    events.sign_up(person(b), later.id)
    with pytest.raises(Conflict):  # too early
        attendance.check_in_with_code(person(b), later.id, attendance.checkin_code(later))


def test_a_walk_in_grows_a_full_event(ctx, hours_factory):
    a, b = hours_factory.volunteers(2)
    event_id = hours_factory.held_event([a])
    signup = attendance.walk_in(hours_factory.staff(), event_id, person(b).email)
    event = db.session.get(Event, event_id)
    assert signup.walk_in and signup.checked_in_at
    assert (event.capacity, event.confirmed_count) == (2, 2)


def test_party_report_and_dashboard(ctx, hours_factory):
    from neighbors.party import members as party_members

    a, b = hours_factory.volunteers(2)
    for user_id, unit in ((a, "沈阳市税务局"), (b, "沈阳市图书馆")):
        party_members.declare_party_membership(
            person(user_id),
            branch="第一党支部",
            work_unit=unit,
            community_code="210102002001",
            grid_code="",
            reported_on=date(2026, 3, 5),
        )
    today = local_today()
    for minutes in (600, 600, 600, 600, 600):
        record = hours.submit_service(
            person(a),
            activity="服务",
            place="社区",
            organiser="社区",
            served_on=today,
            minutes=minutes,
        )
        hours.review(hours_factory.staff(), [record.id], confirm=True)
    rows = party_reports.party_report(hours_factory.staff(), today.year)
    assert [(r.work_unit, r.activities, r.minutes, r.meets_targets) for r in rows] == [
        ("沈阳市图书馆", 0, 0, False),
        ("沈阳市税务局", 5, 3000, True),
    ]
    data = reports.dashboard(hours_factory.staff(), today.year)
    month = next(m for m in data.months if m[0].month == today.month)
    assert month[1:] == (3000, 1)
    assert data.top == [(person(a).name, 3000)]
    assert data.areas == []  # streets and districts are for admins


def test_dashboard_top_is_the_ten_with_most_minutes_in_order(ctx, hours_factory):
    """The ten are summed by person, most first (ties by who came first), each with a name."""
    people = hours_factory.volunteers(12)
    today = local_today()
    for n, user_id in enumerate(people):
        for _ in range(2):
            record = hours.submit_service(
                person(user_id),
                activity="服务",
                place="社区",
                organiser="社区",
                served_on=today,
                minutes=30 * (1 + n // 2),
            )
            hours.review(hours_factory.staff(), [record.id], confirm=True)
    data = reports.dashboard(hours_factory.staff(), today.year)
    expected = sorted(((60 * (1 + n // 2), user_id) for n, user_id in enumerate(people)),
                      key=lambda pair: (-pair[0], pair[1]))[:10]  # fmt: skip
    assert data.top == [(person(user_id).name, minutes) for minutes, user_id in expected]


statuses = st.sampled_from(list(RecordStatus))


@pytest.fixture
def volunteer(make):
    return make.user()[0]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    plan=st.lists(
        st.tuples(
            st.integers(1, 600), statuses, st.none() | st.tuples(st.integers(1, 600), statuses)
        ),
        max_size=8,
    )
)
def test_totals_are_confirmed_records_with_confirmed_corrections_in_their_place(
    ctx, volunteer, plan
):
    user_id = volunteer
    community = person(user_id).home_community_id
    nested = db.session.begin_nested()
    expected = 0
    for minutes, status, correction in plan:
        record = ServiceRecord(
            user_id=user_id,
            community_id=community,
            activity="x",
            served_on=local_today(),
            minutes=minutes,
            status=status,
        )
        db.session.add(record)
        db.session.flush()
        counted = minutes if status == RecordStatus.CONFIRMED else 0
        if correction:
            new_minutes, new_status = correction
            db.session.add(
                ServiceRecord(
                    user_id=user_id,
                    community_id=community,
                    activity="x",
                    served_on=local_today(),
                    minutes=new_minutes,
                    status=new_status,
                    supersedes_id=record.id,
                    reason="r",
                )
            )
            if new_status == RecordStatus.CONFIRMED:
                counted = new_minutes  # a confirmed correction replaces what it corrects
        expected += counted
    db.session.flush()
    assert hours.totals(user_id).all_time == expected
    nested.rollback()


def test_late_attendance_becomes_hours_and_recorded_hours_are_not_touched(ctx, hours_factory):
    a, b = hours_factory.volunteers(2)
    event_id = hours_factory.held_event([a])
    staff = hours_factory.staff()
    attendance.all_present(staff, event_id)
    complete(hours_factory, event_id)
    attendance.walk_in(staff, event_id, person(b).email)  # remembered after completion
    assert {r.user_id for r in db.session.query(ServiceRecord)} == {a, b}
    with pytest.raises(Conflict) as refused:
        attendance.tap(staff, event_id, a, "clear")
    assert refused.value.code == "hours_recorded"


def test_all_present_waits_for_the_start(ctx, hours_factory):
    event_id = hours_factory.event()
    with pytest.raises(Conflict):
        attendance.all_present(hours_factory.staff(), event_id)


def test_a_rejected_correction_does_not_block_the_next(ctx, hours_factory):
    (a,) = hours_factory.volunteers(1)
    record = hours.submit_service(
        person(a),
        activity="义务理发",
        place="社区",
        organiser="店",
        served_on=local_today(),
        minutes=90,
    )
    hours.review(hours_factory.staff(), [record.id], confirm=True)
    first = hours.request_correction(person(a), record.id, minutes=60, reason="记错了")
    hours.review(hours_factory.staff(), [first.id], confirm=False, reason="照片显示是 90 分钟")
    second = hours.request_correction(person(a), record.id, minutes=80, reason="再核对")
    hours.review(hours_factory.staff(), [second.id], confirm=True)
    assert hours.totals(a).all_time == 80
    assert db.session.get(ServiceRecord, first.id).review_note == "照片显示是 90 分钟"


def test_staff_do_not_confirm_their_own_hours(ctx, hours_factory, make):
    staff = hours_factory.staff()
    record = hours.submit_service(
        staff, activity="值班", place="社区", organiser="社区", served_on=local_today(), minutes=600
    )
    with pytest.raises(NotAllowed):
        hours.review(staff, [record.id], confirm=True)
    colleague_id, _ = make.user(role="staff", community="210102002001")
    hours.review(person(colleague_id), [record.id], confirm=True)
    with pytest.raises(NotAllowed):
        hours.correct_record(staff, record.id, minutes=1440, reason="多算点")

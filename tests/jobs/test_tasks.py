"""The job functions, called directly at chosen times, and the once-per-scheduled-time claim."""

from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func, select, update

from neighbors.accounts import services as accounts
from neighbors.accounts.models import User
from neighbors.attendance import completion
from neighbors.attendance import services as attendance
from neighbors.core.db import transaction, utcnow
from neighbors.core.outbox import OutboxMessage
from neighbors.events import services as events
from neighbors.events.models import Event, EventStatus, Reminder, Signup
from neighbors.extensions import db
from neighbors.foundation.models import LedgerHead
from neighbors.hours.models import RecordStatus, ServiceRecord
from neighbors.jobs import scheduler, tasks
from neighbors.jobs.models import JobRun
from tests.factories import OTHER_COMMUNITY, HoursFactory, Team, person


@pytest.fixture
def factory(app, make):
    return HoursFactory(app, make)


def mail():
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def speaks(user_id, locale):
    with transaction():
        person(user_id).locale = locale


def event_with_people(factory, confirmed, waiting=0):
    people = factory.volunteers(confirmed + waiting)
    event_id = factory.event(capacity=confirmed)
    for user_id in people:
        events.sign_up(person(user_id), event_id)
    return event_id, db.session.get(Event, event_id).starts_at, people


def test_reminders_go_a_day_and_two_hours_before_once_each_to_confirmed_people(ctx, factory):
    event_id, start, (zh, en, waiting) = event_with_people(factory, confirmed=2, waiting=1)
    speaks(en, "en")
    assert events.send_reminders(start - timedelta(hours=25), (24, 2)) == 0
    assert events.send_reminders(start - timedelta(hours=23), (24, 2)) == 2
    assert events.send_reminders(start - timedelta(hours=22), (24, 2)) == 0  # once
    assert events.send_reminders(start - timedelta(minutes=119), (24, 2)) == 2
    assert events.send_reminders(start - timedelta(minutes=30), (24, 2)) == 0
    messages = mail()
    addresses = {db.session.get(User, i).email: i for i in (zh, en, waiting)}
    assert sorted(addresses[m.to_address] for m in messages) == sorted([zh, zh, en, en])
    english = [m for m in messages if addresses[m.to_address] == en]
    chinese = [m for m in messages if addresses[m.to_address] == zh]
    assert all(m.subject.startswith("Reminder: 社区奉献日") for m in english)
    assert all(m.subject.startswith("活动提醒：社区奉献日") for m in chinese)
    assert f"/events/{event_id}" in chinese[0].body


def test_an_event_already_within_two_hours_gets_only_the_two_hour_reminder(ctx, factory):
    event_id, start, _people = event_with_people(factory, confirmed=1)
    assert events.send_reminders(start - timedelta(hours=1), (24, 2)) == 1
    sent = db.session.scalars(select(Reminder.hours_before)).all()
    assert sent == [2]


def test_a_moved_event_is_reminded_again_and_a_cancelled_one_not_at_all(ctx, factory):
    moved, start, _people = event_with_people(factory, confirmed=1)
    cancelled, _start, _people = event_with_people(factory, confirmed=1)
    events.cancel_event(factory.staff(), cancelled, "下雨")
    cancellations = len(mail())
    assert events.send_reminders(start - timedelta(hours=20), (24, 2)) == 1
    new_start = start + timedelta(days=1)
    events.update_event(
        factory.staff(), moved, starts_at=new_start, ends_at=new_start + timedelta(hours=2)
    )
    assert events.send_reminders(new_start - timedelta(hours=20), (24, 2)) == 1
    assert len(mail()) == cancellations + 2


def test_past_events_are_completed_with_no_shows_and_pending_hours(ctx, factory):
    came, stayed_away = factory.volunteers(2)
    event_id = factory.held_event([came, stayed_away])
    event = db.session.get(Event, event_id)
    attendance.record_attendance(factory.staff(), event_id, came, event.starts_at)
    recent = factory.held_event(factory.volunteers(1))
    now = utcnow() + timedelta(hours=11)  # 12 hours after the first ended, 11 the second
    with transaction():
        db.session.get(Event, recent).ends_at += timedelta(hours=1)
    assert tasks.complete_past_events(now) == {"completed": 1}  # AUTO_COMPLETE_AFTER_HOURS=12
    assert db.session.get(Event, event_id).status == EventStatus.COMPLETED
    assert db.session.get(Event, recent).status == EventStatus.PUBLISHED
    no_show = db.session.scalars(select(Signup.user_id).where(Signup.no_show.is_(True))).all()
    assert no_show == [stayed_away]
    [record] = db.session.scalars(select(ServiceRecord)).all()
    assert record.user_id == came and record.status == RecordStatus.PENDING
    assert record.minutes == 120
    assert completion.complete_past_events(now, timedelta(hours=12)) == 0  # done already


def test_the_weekly_digest_tells_each_staff_member_about_their_own_overdue_records(
    ctx, factory, make
):
    staff_id = factory.staff_id
    speaks(staff_id, "en")
    other_staff, _email = make.user(role="staff", community=OTHER_COMMUNITY)
    for _ in range(2):
        factory.held_event(factory.volunteers(1))
    for event in db.session.scalars(select(Event)):
        attendance.all_present(factory.staff(), event.id)
        completion.complete_event(factory.staff(), event.id)
    assert tasks.overdue_digest(utcnow()) == {"queued": 0}  # not overdue yet
    assert tasks.overdue_digest(utcnow() + timedelta(days=20)) == {"queued": 1}
    [message] = mail()
    assert message.to_address == factory.staff_email
    assert message.subject == "2 service records wait for confirmation"
    assert "/staff/hours?overdue=1" in message.body


def test_street_staff_hear_of_overdue_records_in_every_community_of_their_street(
    ctx, factory, make
):
    street_id, street_email = make.user()
    accounts.grant_role(street_email, "staff", street_code="210102002")
    speaks(street_id, "en")
    for _ in range(3):
        factory.held_event(factory.volunteers(1))
    for event in db.session.scalars(select(Event)):
        attendance.all_present(factory.staff(), event.id)
        completion.complete_event(factory.staff(), event.id)
    assert tasks.overdue_digest(utcnow() + timedelta(days=20)) == {"queued": 2}
    to_street = [message for message in mail() if message.to_address == street_email]
    assert [message.subject for message in to_street] == ["3 service records wait for confirmation"]


def test_a_ledger_that_does_not_verify_alerts_every_admin(ctx, make):
    team = Team(make)
    admin, admin_email = make.user(role="admin")
    team.fund("EDU")
    team.donate("EDU", "10.00")
    assert tasks.verify_ledger(utcnow()) == {"ok": True, "entries": 1}
    assert mail() == []
    with transaction():  # an entry vanishes from the end of the chain
        db.session.execute(update(LedgerHead).values(entries=LedgerHead.entries + 1))
    assert tasks.verify_ledger(utcnow())["ok"] is False
    [alert] = mail()
    assert alert.to_address == admin_email and "ledger" in alert.subject.lower() + alert.body


def test_a_scheduled_time_runs_once_however_often_it_is_claimed(app, ctx):
    slot = datetime(2026, 11, 27, 2, 30, tzinfo=UTC)
    first = scheduler.run_job(app, "verify_ledger", slot=slot)
    assert first.ok and first.detail == {"ok": True, "entries": 0}
    assert scheduler.run_job(app, "verify_ledger", slot=slot) is None
    assert scheduler.run_job(app, "verify_ledger", slot=slot + timedelta(days=1)).ok
    assert db.session.scalar(select(func.count()).select_from(JobRun)) == 2


def test_a_failing_job_is_recorded_and_the_next_time_runs(app, ctx, monkeypatch):
    def broken(now):
        raise RuntimeError("boom")

    monkeypatch.setitem(tasks.JOBS, "prune", broken)
    slot = datetime(2026, 11, 27, 3, 15, tzinfo=UTC)
    failed = scheduler.run_job(app, "prune", slot=slot)
    assert failed.ok is False and failed.detail == {"error": "RuntimeError"}
    assert failed.finished_at is not None
    monkeypatch.undo()
    assert scheduler.run_job(app, "prune", slot=slot + timedelta(days=1)).ok


@pytest.mark.parametrize(
    "fields, now, expected",
    [
        ({"minute": "*"}, "12:00:17.5", "12:00:00"),
        ({"second": "*/2"}, "12:00:05.3", "12:00:04"),
        ({"hour": "2", "minute": "30"}, "02:30:10", "02:30:00"),
    ],
)
def test_a_run_belongs_to_the_time_its_trigger_fired(fields, now, expected):
    trigger = CronTrigger(timezone=UTC, **fields)

    def at(clock):
        return datetime.fromisoformat(f"2026-11-27T{clock}+00:00")

    assert scheduler.fire_time(trigger, at(now)) == at(expected)


def test_a_schedule_naming_an_unknown_job_is_refused(app, monkeypatch):
    monkeypatch.setitem(app.config, "SCHEDULE", {"send_remindrs": {"minute": "*"}})
    with pytest.raises(ValueError, match="send_remindrs"):
        scheduler.schedule(app)
    monkeypatch.setitem(app.config, "SCHEDULE", {"prune": None})
    assert "prune" not in scheduler.schedule(app) and "deliver_outbox" in scheduler.schedule(app)

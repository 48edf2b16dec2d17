"""The job functions. Each takes the time it runs at, calls services and returns a summary.

They are small and safe to run again: the outbox and reminders keep their own records of what
was sent, completed events are skipped, and the scheduler claims each scheduled time once.
"""

import logging
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from neighbors.accounts import services as accounts
from neighbors.attendance import completion
from neighbors.core import outbox, sms_outbox
from neighbors.core.db import transaction
from neighbors.core.timezone import local_today
from neighbors.events import services as events
from neighbors.extensions import db
from neighbors.foundation import reports
from neighbors.foundation import services as foundation
from neighbors.hours import services as hours
from neighbors.jobs.models import JobRun
from neighbors.mutual_aid import services as aid
from neighbors.party import feedback as yearly_feedback

logger = logging.getLogger(__name__)

JOB_RUNS_KEEP = timedelta(days=90)
# A change committed just after the last settling began may carry an earlier time: look back
# this much before it (settling is idempotent, so seeing a change twice costs nothing).
SETTLE_OVERLAP = timedelta(minutes=10)

# When each job runs: cron fields in DISPLAY_TIMEZONE (config SCHEDULE overrides, by name).
SCHEDULE = {
    # Half a minute apart, so that a reminder queued on the minute goes out within the minute.
    "deliver_outbox": {"minute": "*", "second": "30"},
    # Three times a minute: a sign-in code should not wait long.
    "deliver_sms": {"minute": "*", "second": "10,30,50"},
    "send_reminders": {"minute": "*", "second": "0"},
    "complete_past_events": {"minute": "7,37"},
    "verify_ledger": {"hour": "2", "minute": "30"},
    # Just after midnight: a fund that ended yesterday is released today, dated today.
    "release_ended_funds": {"hour": "0", "minute": "20"},
    "overdue_digest": {"day_of_week": "mon", "hour": "8", "minute": "0"},
    "expire_wish_claims": {"minute": "12"},
    "settle_points": {"minute": "*/10"},
    "prune": {"hour": "3", "minute": "15"},
    # Once a year, when the year's confirmations are in: last year's 双报到 feedback.
    "party_feedback": {"month": "1", "day": "15", "hour": "9", "minute": "0"},
}


def deliver_outbox(now):
    """Send the e-mails that are due."""
    return outbox.deliver(now)


def deliver_sms(now):
    """Send the text messages that are due."""
    return sms_outbox.deliver(now)


def send_reminders(now):
    """Remind the people confirmed for events starting within 24 and within 2 hours."""
    return {"queued": events.send_reminders(now, current_app.config["REMINDER_HOURS"])}


def complete_past_events(now):
    """Complete events that ended hours ago: no-shows are marked, hours become pending records."""
    after = timedelta(hours=current_app.config["AUTO_COMPLETE_AFTER_HOURS"])
    return {"completed": completion.complete_past_events(now, after)}


def verify_ledger(now):
    """Check the ledger's hash chain and fund balances; tell every admin when it fails."""
    result = reports.verify()
    if not result.ok:
        logger.error("the ledger does not verify: %s", result.message)
        _alert_admins(result.message)
    return {"ok": result.ok, "entries": result.entries}


def release_ended_funds(now):
    """Release the remaining balance of every fund restricted in time whose last day has passed
    from the restriction: one reclassification voucher per fund, ever."""
    vouchers = []
    for fund_id in foundation.ended_funds_to_release():
        try:
            entry = foundation.release_ended_fund(fund_id)
        except Exception:  # one fund's trouble must not stop the others, night after night
            logger.exception("fund %s could not be released", fund_id)
            continue
        if entry is not None:
            vouchers.append(entry.voucher)
    return {"released": len(vouchers), "vouchers": vouchers}


def _alert_admins(problem):
    with transaction():
        for admin in accounts.active_admins():
            with outbox.language_of(admin):
                outbox.queue(
                    admin.email,
                    _("The foundation's ledger does not verify"),
                    _(
                        "The nightly check of the ledger failed:\n\n%(problem)s\n\nRun "
                        "`flask --app wsgi neighbors ledger verify` to see it again, and compare "
                        "the database with the last backup before anything is posted.\n",
                        problem=problem,
                    ),
                )


def overdue_digest(now):
    """Tell staff how many service records in their communities wait too long."""
    return {"queued": hours.queue_overdue_digests(now)}


def expire_wish_claims(now):
    """Claims on micro-wishes not fulfilled within WISH_CLAIM_DAYS go back to the wall."""
    return {"released": aid.expire_claims(now)}


def settle_points(now):
    """Volunteer points for service recorded, confirmed or corrected since the last run that
    succeeded: only those people are read (everyone owed anything on the first run)."""
    last = db.session.scalar(
        select(func.max(JobRun.started_at)).where(
            JobRun.job == "settle_points", JobRun.ok.is_(True)
        )
    )
    since = last - SETTLE_OVERLAP if last is not None else None
    return {"settled": aid.settle_everyone(since=since), "incremental": since is not None}


def party_feedback(now):
    """Send last year's feedback table to each Party organisation that reported in."""
    year = local_today().year - 1
    return {"year": year, "queued": yearly_feedback.send_yearly(year)}


def prune(now):
    """Delete sent e-mails and text messages after OUTBOX_KEEP_DAYS, ended or expired login
    sessions, and job runs after 90 days."""
    keep = timedelta(days=current_app.config["OUTBOX_KEEP_DAYS"])
    messages = outbox.prune(now, keep) + sms_outbox.prune(now, keep)
    sessions = accounts.prune_sessions(now)
    with transaction():
        runs = db.session.execute(
            delete(JobRun).where(JobRun.started_at < now - JOB_RUNS_KEEP)
        ).rowcount
    return {"messages": messages, "sessions": sessions, "job_runs": runs}


JOBS = {
    job.__name__: job
    for job in (
        deliver_outbox,
        deliver_sms,
        send_reminders,
        complete_past_events,
        verify_ledger,
        release_ended_funds,
        overdue_digest,
        expire_wish_claims,
        settle_points,
        party_feedback,
        prune,
    )
}

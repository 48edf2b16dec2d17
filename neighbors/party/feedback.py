"""The year's feedback to a Party organisation that reported in: its members' activities and
hours, each and in total, and what the organisation itself ran; an XLSX that goes to its
contact through the outbox, once a year by the scheduler and on demand from the staff page."""

import logging
from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from neighbors.core import audit, outbox
from neighbors.core.db import transaction
from neighbors.core.errors import Conflict, NotFound
from neighbors.core.exports import XLSX, Column, Report, xlsx_bytes
from neighbors.core.permissions import require_community_staff
from neighbors.extensions import db
from neighbors.hours import reports as hours_reports
from neighbors.hours import services as hours
from neighbors.party import reporting
from neighbors.party.models import OrganisationReport, ReportStatus

logger = logging.getLogger(__name__)


@dataclass
class Feedback:
    report: OrganisationReport
    year: int
    members: list  # [(name, branch, community, confirmed, activities, minutes)]
    activities: int  # all the members' activities, in total
    minutes: int
    run: tuple  # the organisation's own events in the year: (activities, minutes, people)


def feedback(actor, report_id, year):
    """The feedback table of a report-in for a year, for staff of the community and those who
    run the organisation. Raises NotAuthenticated, NotFound."""
    return _build(reporting.report_for(actor, report_id), year)


def _build(report, year):
    members = reporting.reported_members(report.organisation_id)
    served = hours.served_in_year([member[0] for member in members], year)
    rows = []
    for user_id, name, branch, community, _reported_on, confirmed in members:
        activities, minutes = served.get(user_id, (0, 0))
        rows.append((name, branch, community, confirmed, activities, minutes))
    run = hours_reports.organisation_totals(year, organisation_ids=[report.organisation_id])
    return Feedback(
        report,
        year,
        rows,
        sum(row[4] for row in rows),
        sum(row[5] for row in rows),
        run.get(report.organisation_id, (0, 0, 0)),
    )


def table(data):
    """The feedback's columns and rows: one a member, their total, and the organisation's own."""
    columns = [
        Column(_("Name")),
        Column(_("Party branch")),
        Column(_("Community reported to")),
        Column(_("Report-in confirmed")),
        Column(_("Activities"), "int"),
        Column(_("Hours"), "number"),
    ]
    body = [
        [
            name,
            branch,
            community,
            _("Yes") if confirmed else _("No"),
            activities,
            hours_reports.decimal_hours(minutes),
        ]
        for name, branch, community, confirmed, activities, minutes in data.members
    ]
    body.append(
        [
            _("Members in total"),
            "",
            "",
            "",
            data.activities,
            hours_reports.decimal_hours(data.minutes),
        ]
    )
    body.append(
        [
            _("Activities the organisation ran (%(num)s people)", num=data.run[2]),
            "",
            data.report.community.name,
            "",
            data.run[0],
            hours_reports.decimal_hours(data.run[1]),
        ]
    )
    return columns, body


def workbook(data):
    """The feedback table as XLSX bytes, titled by the community that gives it."""
    columns, body = table(data)
    organisation = data.report.organisation.name
    name = _("Yearly feedback: %(organisation)s", organisation=organisation)
    report = Report(data.report.community.name, name, str(data.year), columns)
    return xlsx_bytes(report, body)


def filename(data):
    return f"party-feedback-{data.report.organisation_id}-{data.year}.xlsx"


def send(actor, report_id, year):
    """Staff of the community send a year's feedback to the organisation's contact now.

    Raises NotAllowed, NotFound, Conflict (`not_confirmed`)."""
    with transaction():
        report = reporting.report_for(actor, report_id)
        require_community_staff(actor, report.community_id)
        if report.status != ReportStatus.CONFIRMED:
            message = _("Confirm the report-in first: feedback goes to confirmed ones.")
            raise Conflict(message, code="not_confirmed")
        _queue(report, year)
        audit.record(actor, "party.org_feedback", report, year=year)
    return report


def _queue(report, year):
    """The e-mail with the XLSX attached, in the site's language (the contact has no account)."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        data = _build(report, year)
        subject = _(
            "%(community)s: the %(year)s feedback for %(organisation)s",
            community=report.community.name,
            year=year,
            organisation=report.organisation.name,
        )
        body = _(
            "Dear %(name)s,\n\nAttached is the %(year)s feedback of %(community)s for "
            "%(organisation)s: the activities and hours of each member who reported in, their "
            "total, and the activities the organisation ran.\n",
            name=report.contact_name,
            year=year,
            community=report.community.name,
            organisation=report.organisation.name,
        )
        outbox.queue(report.contact_email, subject, body, (filename(data), XLSX, workbook(data)))


def send_yearly(year):
    """The scheduler's run: each confirmed report-in whose agreement covered part of the year
    and whose feedback for it has not gone yet gets it, each in its own unit of work.
    Returns how many were queued."""
    ids = db.session.scalars(
        select(OrganisationReport.id).where(
            OrganisationReport.status == ReportStatus.CONFIRMED,
            OrganisationReport.starts_on <= date(year, 12, 31),
            OrganisationReport.ends_on >= date(year, 1, 1),
            (OrganisationReport.feedback_year.is_(None))
            | (OrganisationReport.feedback_year < year),
        )
    ).all()
    sent = 0
    for report_id in ids:
        try:
            with transaction():
                report = db.session.get(OrganisationReport, report_id, with_for_update=True)
                if report is None or (report.feedback_year or 0) >= year:
                    continue  # another run took it
                _queue(report, year)
                report.feedback_year = year
                audit.record(None, "party.org_feedback", report, year=year)
            sent += 1
        except NotFound:  # pragma: no cover - a community removed meanwhile
            logger.warning("report-in %s: feedback not sent", report_id)
    return sent

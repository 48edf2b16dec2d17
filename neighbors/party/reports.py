"""The Party report: each member reporting to the staff's communities, with their confirmed
service in a year against the targets; for the page and its CSV and XLSX downloads."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _

from neighbors.core import audit
from neighbors.core.exports import Column, Report, owners
from neighbors.core.permissions import Role, require_role
from neighbors.hours import services as hours
from neighbors.party import members as party_members


@dataclass
class PartyRow:
    name: str
    work_unit: str
    branch: str
    community: str
    reported_on: date
    confirmed: bool
    activities: int
    minutes: int
    meets_targets: bool


def party_report(actor, year, work_unit=None, export=None):
    """Every Party member reporting to the actor's communities (a rejected report-in excepted),
    with their confirmed service in the year against the targets, sorted by work unit and
    branch: the feedback table, for all units or one. With an export format, the download is
    written to the audit log.

    Raises NotAllowed.
    """
    require_role(actor, Role.STAFF)
    if export:
        audit.record_export(actor, "party_report", format=export, year=year, unit=bool(work_unit))
    members = party_members.reporting_members(actor, work_unit)
    served = hours.served_in_year([member[0] for member in members], year)
    config = current_app.config
    rows = []
    for user_id, name, unit, branch, community, reported_on, confirmed in members:
        activities, minutes = served.get(user_id, (0, 0))
        rows.append(
            PartyRow(
                name,
                unit,
                branch,
                community,
                reported_on,
                bool(confirmed),
                activities,
                minutes,
                activities >= config["PARTY_TARGET_ACTIVITIES"]
                and minutes >= config["PARTY_TARGET_HOURS"] * 60,
            )
        )
    return rows


def party_table(rows, year, unit=None):
    """The feedback table as a report (its title: the communities, the year, the unit) and
    its rows, for CSV and XLSX."""
    columns = [
        Column(_("Name")),
        Column(_("Work unit")),
        Column(_("Party branch")),
        Column(_("Community")),
        Column(_("Report-in date"), "date"),
        Column(_("Report-in confirmed")),
        Column(_("Activities"), "int", total=True),
        Column(_("Hours"), "number", total=True),
        Column(_("Evaluation")),
    ]
    body = [
        [
            r.name,
            r.work_unit,
            r.branch,
            r.community,
            r.reported_on,
            _("Yes") if r.confirmed else _("No"),
            r.activities,
            (Decimal(r.minutes) / 60).quantize(Decimal("0.01")),
            _("Meets the targets") if r.meets_targets else _("Below the targets"),
        ]
        for r in rows
    ]
    period = f"{year}" + (f" · {unit}" if unit else "")
    owner = owners(row.community for row in rows)
    return Report(owner, _("Party members' service"), period, columns), body

"""Hours and activities by organisation: a table of the organisations of the staff's
communities, and one organisation's people for those who run it; each with its XLSX."""

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from neighbors.core import audit
from neighbors.core.exports import Column, Report, owners
from neighbors.core.permissions import Role, managed_community_ids, require_role
from neighbors.extensions import db
from neighbors.hours import reports as hours_reports
from neighbors.organisations.labels import KIND_LABELS
from neighbors.organisations.models import Organisation
from neighbors.organisations.services import run_organisation


def by_organisation(actor, year, export=None):
    """Confirmed service at the events each organisation ran in the actor's communities in a
    year, most hours first: [(organisation, activities, minutes, people)], in two queries.

    Raises NotAllowed."""
    require_role(actor, Role.STAFF)
    if export:
        audit.record_export(actor, "organisation_hours", format=export, year=year)
    totals = hours_reports.organisation_totals(year, community_ids=managed_community_ids(actor))
    organisations = db.session.scalars(
        select(Organisation)
        .where(Organisation.id.in_(list(totals)))
        .options(joinedload(Organisation.community))
    ).all()
    rows = [(o, *totals[o.id]) for o in organisations]
    return sorted(rows, key=lambda row: (-row[2], row[0].name))


def organisation_people(actor, organisation_id, year, export=None):
    """One organisation's year for those who run it: (organisation, [(name, activities,
    minutes)], (activities, minutes, people) in total). Raises NotAuthenticated, NotFound."""
    organisation = run_organisation(actor, organisation_id)
    if export:
        audit.record_export(actor, "organisation_people", organisation=organisation.id, year=year)
    people = hours_reports.organisation_people(organisation.id, year)
    total = hours_reports.organisation_totals(year, organisation_ids=[organisation.id])
    return organisation, people, total.get(organisation.id, (0, 0, 0))


def organisations_table(rows, year):
    """by_organisation's rows as a report for XLSX: (report, rows)."""
    columns = [
        Column(_("Organisation")),
        Column(_("Kind")),
        Column(_("Community")),
        Column(_("Activities"), "int", total=True),
        Column(_("Hours"), "number", total=True),
        Column(_("People"), "int", total=True),
    ]
    body = [
        [
            o.name,
            str(KIND_LABELS[o.kind]),
            o.community.name,
            activities,
            hours_reports.decimal_hours(minutes),
            people,
        ]
        for o, activities, minutes, people in rows
    ]
    owner = owners(o.community.name for o, *_counts in rows)
    return Report(owner, _("Hours by organisation"), str(year), columns), body


def people_table(people, total):
    """organisation_people's columns and rows, and the total, for XLSX."""
    columns = [Column(_("Name")), Column(_("Activities"), "int"), Column(_("Hours"), "number")]
    body = [
        [name, activities, hours_reports.decimal_hours(minutes)]
        for name, activities, minutes in people
    ]
    body.append(
        [
            _("In total (%(num)s people)", num=total[2]),
            total[0],
            hours_reports.decimal_hours(total[1]),
        ]
    )
    return columns, body

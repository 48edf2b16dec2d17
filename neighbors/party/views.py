"""Party pages: a member's report-in, the staff's report-ins to confirm, and the Party report."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from neighbors.areas import services as areas
from neighbors.core.errors import DomainError
from neighbors.core.exports import CSV, XLSX, csv_bytes, download, xlsx_bytes
from neighbors.core.permissions import Role
from neighbors.core.replicas import reads_from_replica
from neighbors.party import members as party_members
from neighbors.party import reports
from neighbors.party.forms import PartyForm
from neighbors.party.models import ReportStatus
from neighbors.web import role_required
from neighbors.web.forms import communities_by_street, grid_choices, show_error, year_arg

bp = Blueprint("party", __name__, template_folder="templates")

REPORT_STATUS_LABELS = {
    ReportStatus.DECLARED: _l("Waiting for confirmation"),
    ReportStatus.CONFIRMED: _l("Confirmed"),
    ReportStatus.REJECTED: _l("Rejected"),
}


@bp.app_context_processor
def inject_labels():
    return {"report_status_label": lambda status: REPORT_STATUS_LABELS[ReportStatus(status)]}


@bp.route("/profile/party", methods=["GET", "POST"])
@login_required
def declare():
    member = current_user.party
    community = member.community if member else current_user.home_community
    form = PartyForm(
        obj=member,
        community=community.code if community else None,
        grid=(
            member.grid.code
            if member and member.grid
            else current_user.grid.code
            if current_user.grid
            else ""
        ),
    )
    form.community.choices = communities_by_street(areas.community_choices())
    form.grid.choices = grid_choices(areas.grids_of(community.id) if community else [])
    if form.validate_on_submit():
        try:
            party_members.declare_party_membership(
                current_user,
                branch=form.branch.data,
                work_unit=form.work_unit.data,
                community_code=form.community.data,
                grid_code=form.grid.data,
                reported_on=form.reported_on.data,
            )
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_("Your report-in has been sent to the community for confirmation."), "success")
            return redirect(url_for("party.declare"))
    return render_template("party/declare.html", form=form, member=member)


@bp.get("/staff/party-members", endpoint="reports")
@role_required(Role.STAFF)
def reports_to_confirm():
    status = request.args.get("status") or "declared"
    if status not in ("declared", "confirmed", "rejected"):
        status = "declared"
    members = party_members.party_reports(current_user, status)
    return render_template("party/reports.html", members=members, status=status)


@bp.post("/staff/party-members/<int:user_id>/<any(confirm, reject):decision>")
@role_required(Role.STAFF)
def review(user_id, decision):
    member = party_members.review_party_report(current_user, user_id, confirm=decision == "confirm")
    if decision == "confirm":
        flash(_("The report-in of %(name)s is confirmed.", name=member.user.name), "success")
    else:
        flash(_("The report-in of %(name)s is rejected.", name=member.user.name), "success")
    return redirect(url_for("party.reports"))


@bp.get("/staff/party-report")
@bp.get("/staff/party-report.<any(csv, xlsx):fmt>")
@role_required(Role.STAFF)
@reads_from_replica
def report(fmt=None):
    year = year_arg()
    unit = (request.args.get("unit") or "").strip()[:200] or None
    rows = reports.party_report(current_user, year, work_unit=unit, export=fmt)
    if fmt is None:
        units = sorted({row.work_unit for row in rows})
        return render_template("party/report.html", rows=rows, year=year, units=units)
    report, body = reports.party_table(rows, year, unit)
    name = f"party-members-{year}.{fmt}"
    if fmt == "csv":
        return download(csv_bytes([c.header for c in report.columns], body), CSV, name)
    return download(xlsx_bytes(report, body), XLSX, name)

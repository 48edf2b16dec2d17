"""Service hours pages: my hours and certificates, verification, staff confirmation and
dashboards."""

import re

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from neighbors.core.errors import Conflict, DomainError, Invalid, NotFound
from neighbors.core.links import absolute_url
from neighbors.core.permissions import Role
from neighbors.core.privacy import mask_name
from neighbors.core.replicas import reads_from_replica
from neighbors.core.timezone import local_today
from neighbors.events.labels import CATEGORY_LABELS
from neighbors.hours import reports
from neighbors.hours import services as hours
from neighbors.hours.forms import CertificateForm, CorrectionForm, ServiceForm
from neighbors.hours.models import RecordStatus
from neighbors.hours.qr import qr_svg
from neighbors.web import day, hours_unit, role_required
from neighbors.web.forms import show_error, year_arg

bp = Blueprint("hours", __name__, template_folder="templates")

RECORD_STATUS_LABELS = {
    RecordStatus.PENDING: _l("Waiting for confirmation"),
    RecordStatus.CONFIRMED: _l("Confirmed"),
    RecordStatus.REJECTED: _l("Rejected"),
}


@bp.app_context_processor
def inject_labels():
    return {"record_status_label": lambda status: RECORD_STATUS_LABELS[RecordStatus(status)]}


@bp.app_template_filter("month_item")
def month_item(row):
    month, minutes, _people = row
    return format_date(month, "MMM"), minutes


@bp.app_template_filter("category_item")
def category_item(row):
    category, minutes = row
    if category is None:  # service reported by volunteers, outside the six lines
        return _("Other"), minutes
    return str(CATEGORY_LABELS[category]).split("：")[0].split(":")[0], minutes


@bp.app_template_filter("hours")
def format_hours(minutes):
    """125 minutes -> 2.08 (hours, as certificates and reports count them)."""
    return f"{(minutes or 0) / 60:.2f}".rstrip("0").rstrip(".") if minutes else "0"


# -- volunteers --------------------------------------------------------------------------------


@bp.get("/my/hours")
@login_required
@reads_from_replica
def my_hours():
    return render_template(
        "hours/my_hours.html",
        totals=hours.totals(current_user.id),
        records=hours.my_records(current_user),
    )


@bp.route("/my/hours/new", methods=["GET", "POST"])
@login_required
def submit_service():
    form = ServiceForm()
    if form.validate_on_submit():
        try:
            hours.submit_service(
                current_user,
                activity=form.activity.data,
                place=form.place.data,
                organiser=form.organiser.data,
                served_on=form.served_on.data,
                minutes=form.total_minutes(),
            )
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_("Sent to your community's staff for confirmation."), "success")
            return redirect(url_for("hours.my_hours"))
    return render_template("hours/submit.html", form=form)


@bp.route("/my/hours/<int:record_id>/correction", methods=["GET", "POST"])
@login_required
def request_correction(record_id):
    record = hours.own_record(current_user, record_id)
    return _correction_page(
        record,
        lambda **values: hours.request_correction(current_user, record_id, **values),
        _("Your correction has been sent for confirmation."),
        "hours.my_hours",
        staff=False,
    )


def _correction_page(record, save, done, back, staff):
    """The correction form of one record, for the volunteer's request or the staff's fix."""
    form = CorrectionForm(
        data={"hours": record.minutes // 60, "minutes": record.minutes % 60}
        if request.method == "GET"
        else None
    )
    if form.validate_on_submit():
        try:
            save(minutes=form.total_minutes(), reason=form.reason.data)
        except (Invalid, Conflict) as error:
            show_error(form, error)
        else:
            flash(done, "success")
            return redirect(url_for(back))
    return render_template("hours/correction.html", form=form, record=record, staff=staff)


@bp.route("/my/certificates", methods=["GET", "POST"])
@login_required
def certificates():
    form = CertificateForm(
        data=None
        if request.method == "POST"
        else {
            "period_from": local_today().replace(month=1, day=1),
            "period_to": local_today(),
        }
    )
    form.issuer.choices = [("", _("Choose…")), *hours.issuers_of(current_user)]
    if form.validate_on_submit():
        try:
            certificate = hours.issue_certificate(
                current_user, form.period_from.data, form.period_to.data, form.issuer.data
            )
        except DomainError as error:
            show_error(form, error)
        else:
            return redirect(url_for("hours.show_certificate", serial=certificate.serial))
    return render_template(
        "hours/certificates.html", form=form, issued=hours.my_certificates(current_user)
    )


@bp.get("/my/certificates/<serial>")
@login_required
def show_certificate(serial):
    certificate = hours.my_certificate(current_user, serial)
    link = absolute_url("hours.verify", token=hours.certificate_token(certificate))
    return render_template(
        "hours/certificate.html",
        certificate=certificate,
        link=link,
        qr=qr_svg(link, fluid=True),
        number=certificate.volunteer_number,
    )


@bp.get("/certificates/verify/<token>")
def verify(token):
    try:
        certificate = hours.verify_certificate(token)
    except NotFound:
        return render_template("hours/verify.html", certificate=None), 404
    return render_template(
        "hours/verify.html", certificate=certificate, name=mask_name(certificate.name)
    )


# -- staff -------------------------------------------------------------------------------------


@bp.get("/staff/hours")
@login_required
def queue():
    overdue = request.args.get("overdue") == "1"
    records = hours.records_to_confirm(current_user, overdue_only=overdue)
    return render_template(
        "hours/queue.html", records=records, overdue=overdue, is_overdue=hours.is_overdue
    )


@bp.post("/staff/hours/review")
@login_required
def review():
    ids = [int(v) for v in request.form.getlist("record") if re.fullmatch(r"[0-9]{1,9}", v)]
    decision = request.form.get("decision")
    if decision not in ("confirm", "reject"):
        ids = []  # nothing is decided without a decision; the service still checks who asks
    if ids and decision == "reject" and request.form.get("sure") != "yes":
        return _confirm_rejection(ids, request.form.get("reason", ""))
    try:
        done = hours.review(
            current_user, ids, confirm=decision == "confirm", reason=request.form.get("reason")
        )
    except Invalid:
        flash(_("Tick the records first."), "error")
        return redirect(url_for("hours.queue"))
    flash(
        _("%(n)s record(s) confirmed.", n=len(done))
        if decision == "confirm"
        else _("%(n)s record(s) rejected.", n=len(done)),
        "success",
    )
    return redirect(url_for("hours.queue"))


def _confirm_rejection(ids, reason):
    """Rejecting asks first (the ticked records, by name), on the same form: no script."""
    chosen = [r for r in hours.records_to_confirm(current_user) if r.id in set(ids)]
    if not chosen:
        flash(_("Tick the records first."), "error")
        return redirect(url_for("hours.queue"))
    fields = [("record", r.id) for r in chosen] + [("decision", "reject"), ("sure", "yes")]
    return render_template(
        "confirm.html",
        title=_("Reject service hours"),
        details=[
            (r.user.name, f"{r.activity} · {day(r.served_on)} · {hours_unit(r.minutes)}")
            for r in chosen
        ],
        question=ngettext("Reject %(num)s record?", "Reject %(num)s records?", len(chosen)),
        consequence=_(
            "The hours do not count and the volunteer sees the reason; to count them later, "
            "they report the service again."
        ),
        reason_label=_("Reason (the volunteer sees it)"),
        reason=reason,
        action=url_for("hours.review"),
        fields=fields,
        yes=_("Yes, reject"),
        back_url=url_for("hours.queue"),
        back_label=_("No, go back"),
    )


@bp.route("/staff/hours/<int:record_id>/correct", methods=["GET", "POST"])
@role_required(Role.STAFF)
def correct(record_id):
    record = hours.record_for_staff(current_user, record_id)
    return _correction_page(
        record,
        lambda **values: hours.correct_record(current_user, record_id, **values),
        _("The record is corrected; the old one stays visible."),
        "hours.queue",
        staff=True,
    )


@bp.get("/staff/dashboard")
@role_required(Role.STAFF)
@reads_from_replica
def dashboard():
    year = year_arg()
    return render_template(
        "hours/dashboard.html", year=year, data=reports.dashboard(current_user, year)
    )

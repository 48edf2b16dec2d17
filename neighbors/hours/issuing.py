"""Pages of those who issue certificates (community staff, organisations' coordinators): the
register of issued certificates, revocation, who signs them, and the national-system export."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from neighbors.core.errors import DomainError
from neighbors.core.exports import XLSX, download, xlsx_bytes
from neighbors.core.timezone import local_today
from neighbors.hours import services as hours
from neighbors.hours.forms import IssuerForm, NationalExportForm
from neighbors.web.forms import show_error, year_arg

bp = Blueprint("certificates", __name__, template_folder="templates")


def _issuer(managed):
    """The ?issuer= asked for, else the first the person keeps ("" when they keep none)."""
    return request.args.get("issuer") or (managed[0][0] if managed else "")


@bp.get("/staff/certificates")
@login_required
def register():
    managed = hours.managed_issuers(current_user)
    issuer, year = _issuer(managed), year_arg()
    name, issued = hours.register(current_user, issuer, year) if issuer else ("", [])
    return render_template(
        "hours/register.html", managed=managed, issuer=issuer, name=name, issued=issued, year=year
    )


@bp.route("/staff/certificates/<serial>/revoke", methods=["GET", "POST"])
@login_required
def revoke(serial):
    certificate = hours.certificate_for_issuer(current_user, serial)
    back = url_for(".register", issuer=hours.issuer_key(certificate))
    reason = request.form.get("reason", "")
    if request.method == "POST" and request.form.get("sure") != "yes":
        return redirect(url_for(".revoke", serial=serial))  # asked first, on the page
    if request.method == "POST":
        try:
            hours.revoke_certificate(current_user, serial, reason)
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(_("Certificate %(serial)s is revoked.", serial=serial), "success")
            return redirect(back)
    return render_template(
        "confirm.html",
        title=_("Revoke a certificate"),
        details=[
            (_("Serial number"), certificate.serial),
            (_("Volunteer"), certificate.name),
            (_("Period"), f"{certificate.period_from} – {certificate.period_to}"),
        ],
        question=_("Revoke certificate %(serial)s?", serial=serial),
        consequence=_(
            "Anyone who checks it (its QR code or link) is told it is revoked, and why. This "
            "cannot be undone: the volunteer can be given a new certificate."
        ),
        reason_label=_("Reason (shown to whoever checks the certificate)"),
        reason=reason,
        action=url_for(".revoke", serial=serial),
        fields=[("sure", "yes")],
        yes=_("Yes, revoke"),
        back_url=back,
        back_label=_("No, go back"),
    )


@bp.route("/staff/certificates/issuer", methods=["GET", "POST"])
@login_required
def issuer_settings():
    issuer = _issuer(hours.managed_issuers(current_user))
    name, settings = hours.issuer_settings(current_user, issuer) if issuer else ("", None)
    form = IssuerForm(obj=settings)
    if issuer and form.validate_on_submit():
        try:
            hours.save_issuer_settings(
                current_user,
                issuer,
                responsible=form.responsible.data,
                handler=form.handler.data,
                contact=form.contact.data,
            )
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_("Saved: the next certificates carry these names."), "success")
            return redirect(url_for(".register", issuer=issuer))
    return render_template("hours/issuer.html", form=form, name=name, issuer=issuer)


@bp.route("/staff/national-export", methods=["GET", "POST"])
@login_required
def national_export():
    managed = hours.managed_issuers(current_user)
    today = local_today()
    form = NationalExportForm(
        data=None
        if request.method == "POST"
        else {"issuer": _issuer(managed), "period_from": today.replace(day=1), "period_to": today}
    )
    form.issuer.choices = managed
    if form.validate_on_submit():
        try:
            _report, _rows, run = hours.national_export(
                current_user,
                issuer=form.issuer.data,
                period_from=form.period_from.data,
                period_to=form.period_to.data,
                only_new=form.only_new.data,
            )
        except DomainError as error:
            show_error(form, error)
        else:
            flash(
                _("Exported %(n)s service(s): download the spreadsheet below.", n=run.records),
                "success",
            )
            return redirect(url_for(".national_export", issuer=form.issuer.data, ready=run.id))
    exports = hours.last_exports(current_user, form.issuer.data) if form.issuer.data else []
    return render_template(
        "hours/national_export.html",
        form=form,
        exports=exports,
        ready=request.args.get("ready", type=int),
    )


@bp.get("/staff/national-export/<int:export_id>.xlsx")
@login_required
def national_download(export_id):
    report, rows, run = hours.export_file(current_user, export_id)
    name = f"national-system-{run.period_from:%Y%m%d}-{run.period_to:%Y%m%d}-{run.id}.xlsx"
    return download(xlsx_bytes(report, rows), XLSX, name)

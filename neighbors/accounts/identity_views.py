"""Pages of a volunteer's identity for the national system: one's own (all optional, explained
on the page), and the masked view of community staff, whose full view is audit-logged."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from neighbors.accounts import identity
from neighbors.accounts.forms import IdentityForm
from neighbors.accounts.models import Gender, IdType
from neighbors.core.errors import DomainError, NotFound
from neighbors.core.permissions import Role
from neighbors.web import role_required
from neighbors.web.forms import show_error

bp = Blueprint("identity", __name__, template_folder="templates")

ID_TYPE_LABELS = {
    IdType.RESIDENT_ID: _l("Resident ID card (居民身份证)"),
    IdType.HK_MACAO_PERMIT: _l("Mainland travel permit for Hong Kong and Macao residents"),
    IdType.TAIWAN_PERMIT: _l("Mainland travel permit for Taiwan residents"),
    IdType.PASSPORT: _l("Passport"),
    IdType.FOREIGN_PERMANENT: _l("Foreigner's permanent residence ID card"),
}
GENDER_LABELS = {Gender.MALE: _l("Male"), Gender.FEMALE: _l("Female")}


@bp.app_context_processor
def inject_labels():
    return {
        "id_type_label": lambda value: ID_TYPE_LABELS.get(value, ""),
        "gender_label": lambda value: GENDER_LABELS.get(value, ""),
    }


@bp.route("/profile/identity", methods=["GET", "POST"])
@login_required
def edit():
    mine = identity.identity_of(current_user.id)
    form = IdentityForm(obj=mine, guardian_phone=identity.guardian_phone(mine) or "")
    form.id_number.data = "" if request.method == "GET" else form.id_number.data
    form.id_type.choices = [("", _("None")), *ID_TYPE_LABELS.items()]
    form.gender.choices = [("", _("Not given")), *GENDER_LABELS.items()]
    if form.validate_on_submit():
        try:
            identity.save_identity(
                current_user,
                id_type=form.id_type.data or "",
                id_number=form.id_number.data or "",
                gender=form.gender.data or "",
                birth_date=form.birth_date.data,
                guardian_name=form.guardian_name.data or "",
                guardian_phone=form.guardian_phone.data or "",
                guardian_consent_on=form.guardian_consent_on.data,
                national_number=form.national_number.data or "",
            )
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_("Your identity details have been saved."), "success")
            return redirect(url_for("accounts.profile"))
    return render_template(
        "accounts/identity.html",
        form=form,
        mine=mine,
        number=identity.volunteer_number(current_user, mine),
    )


@bp.route("/staff/people/<int:user_id>/identity", methods=["GET", "POST"])
@role_required(Role.STAFF)
def staff_view(user_id):
    person, recorded = identity.identity_for_staff(current_user, user_id)
    full = None
    if request.method == "POST":  # shown on purpose (a button, never a link), and logged
        try:
            full = identity.reveal_id_number(current_user, user_id)
        except NotFound as error:
            if error.code != "no_id_number":
                raise
            flash(error.message, "error")
    page = render_template(
        "accounts/staff_identity.html", person=person, recorded=recorded, full=full
    )
    return page, {"Cache-Control": "private, no-store"}

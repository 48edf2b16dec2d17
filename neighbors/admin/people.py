"""People and roles on the web: admins, and street and district staff for their communities,
find people, give and take roles, deactivate and reactivate accounts."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from neighbors.accounts import people
from neighbors.accounts import services as accounts
from neighbors.admin.forms import GrantForm
from neighbors.core.errors import DomainError
from neighbors.core.permissions import Role, has_role
from neighbors.core.privacy import mask_phone
from neighbors.web import ROLE_LABELS, role_required
from neighbors.web.forms import options, show_error

bp = Blueprint("people", __name__, template_folder="templates", url_prefix="/admin/people")


@bp.get("/")
@role_required(Role.STAFF)
def find_people():
    text = request.args.get("q", "")
    found = people.find_people(current_user, text)
    return render_template("admin/people.html", people=found, text=text)


@bp.route("/<int:user_id>", methods=["GET", "POST"])
@role_required(Role.STAFF)
def show_person(user_id):
    user = people.person(current_user, user_id)
    form = GrantForm()
    roles = Role if has_role(current_user, Role.ADMIN) else people.AREA_ROLES
    form.role.choices = options((str(role), ROLE_LABELS[role]) for role in roles)
    if form.validate_on_submit():
        try:
            people.grant(current_user, user_id, form.role.data, form.kind.data, form.code.data)
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_("The role is given."), "success")
            return redirect(url_for("people.show_person", user_id=user_id))
    phone = accounts.phone_of(user)
    return render_template(
        "admin/person.html", person=user, form=form, phone=mask_phone(phone) if phone else ""
    )


@bp.post("/<int:user_id>/roles/<int:grant_id>/revoke")
@role_required(Role.STAFF)
def revoke_role(user_id, grant_id):
    people.revoke(current_user, user_id, grant_id)
    flash(_("The role is taken away."), "success")
    return redirect(url_for("people.show_person", user_id=user_id))


@bp.post("/<int:user_id>/<any(deactivate, reactivate):action>")
@role_required(Role.STAFF)
def set_active(user_id, action):
    people.set_active(current_user, user_id, action == "reactivate")
    if action == "reactivate":
        flash(_("The account is active again."), "success")
    else:
        flash(_("The account is deactivated: its sessions have ended."), "success")
    return redirect(url_for("people.show_person", user_id=user_id))

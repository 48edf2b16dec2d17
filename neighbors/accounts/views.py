"""Account pages: register, log in and out, profile, password, invitation."""

import logging

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from neighbors.accounts import services as accounts
from neighbors.accounts.forms import (
    InvitationForm,
    LoginForm,
    PasswordForm,
    ProfileForm,
    RegisterForm,
)
from neighbors.accounts.models import ReportStatus
from neighbors.areas import services as areas
from neighbors.core.errors import DomainError, TooManyAttempts
from neighbors.core.privacy import mask_phone
from neighbors.core.ratelimit import login_limits, registrations
from neighbors.web import login_redirect, safe_next
from neighbors.web.errors import retry_after
from neighbors.web.forms import communities_by_street, grid_choices, options, show_error

logger = logging.getLogger(__name__)

bp = Blueprint("accounts", __name__, template_folder="templates")

REPORT_STATUS_LABELS = {
    ReportStatus.DECLARED: _l("Waiting for confirmation"),
    ReportStatus.CONFIRMED: _l("Confirmed"),
    ReportStatus.REJECTED: _l("Rejected"),
}


@bp.app_context_processor
def inject_labels():
    return {"report_status_label": lambda status: REPORT_STATUS_LABELS[ReportStatus(status)]}


def ask_to_log_in():
    """Flask-Login's answer to a visitor on a page that needs an account."""
    flash(_("Please log in to see this page."), "error")
    return login_redirect()


def _start_session(user, remember=False):
    """A fresh session for the login, keeping only the chosen language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    login_user(accounts.start_session(user), remember=remember)


@bp.route("/register", methods=["GET", "POST"])
@registrations
@login_limits
def register():
    if current_user.is_authenticated:
        return redirect(url_for("accounts.profile"))
    form = RegisterForm()
    form.community.choices = communities_by_street(areas.community_choices())
    if form.validate_on_submit():
        try:
            user = accounts.register(
                name=form.name.data,
                email=form.email.data,
                phone=form.phone.data,
                password=form.password.data,
                community_code=form.community.data,
                consent=form.consent.data,
                locale=session.get("lang"),
            )
        except DomainError as error:
            show_error(form, error)
        else:
            _start_session(user)
            flash(_("Welcome, %(name)s. Your account is ready.", name=user.name), "success")
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/register.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@login_limits
def login():
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(
                form.login.data, form.password.data, address=request.remote_addr
            )
        except TooManyAttempts as error:
            show_error(form, error)
            page = render_template("accounts/login.html", form=form)
            return page, 429, retry_after(error)
        except DomainError as error:
            show_error(form, error)
        else:
            _start_session(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")) or url_for("web.home"))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        accounts.end_session(current_user.get_id())
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have logged out."), "success")
    return redirect(url_for("web.index"))


@bp.get("/profile")
@login_required
def profile():
    return render_template(
        "accounts/profile.html",
        user=current_user,
        phone=mask_phone(accounts.phone_of(current_user)),
    )


@bp.route("/profile/edit", methods=["GET", "POST"])
@login_required
def edit_profile():
    user = current_user
    form = ProfileForm(
        obj=user,
        community=user.home_community.code if user.home_community else None,
        grid=user.grid.code if user.grid else "",
        locale=user.locale or "",
    )
    form.community.choices = communities_by_street(areas.community_choices())
    form.grid.choices = grid_choices(
        areas.grids_of(user.home_community_id) if user.home_community_id else []
    )
    form.locale.choices = options(
        current_app.config["LANGUAGES"].items(), blank=_("Same as my browser")
    )
    if form.validate_on_submit():
        try:
            accounts.update_profile(
                user,
                name=form.name.data,
                email=form.email.data,
                phone=form.phone.data,
                community_code=form.community.data,
                grid_code=form.grid.data,
                locale=form.locale.data,
                current_password=form.current_password.data,
            )
        except DomainError as error:
            show_error(form, error)
        else:
            session.pop("lang", None)
            flash(_("Your profile has been saved."), "success")
            return redirect(url_for("accounts.profile"))
    phone = mask_phone(accounts.phone_of(user))
    return render_template("accounts/edit_profile.html", form=form, phone=phone)


@bp.route("/profile/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            user = accounts.change_password(
                current_user, form.current_password.data, form.new_password.data
            )
        except DomainError as error:
            show_error(form, error)
        else:
            _start_session(user)
            flash(
                _("Your password has been changed. Other devices have been logged out."), "success"
            )
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/password.html", form=form)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token):
    user = accounts.user_for_invitation(token)
    form = InvitationForm()
    if form.validate_on_submit():
        try:
            user = accounts.accept_invitation(token, form.password.data)
        except DomainError as error:
            show_error(form, error)
        else:
            _start_session(user)
            flash(_("Your password is set. Welcome, %(name)s.", name=user.name), "success")
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/invitation.html", form=form, user=user)

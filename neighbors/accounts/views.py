"""Account pages: register, log in and out, profile, password, invitation, language."""

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
from flask_login import current_user, login_required, login_user, logout_user
from wtforms import SelectChoice

from neighbors.accounts import services as accounts
from neighbors.accounts.forms import (
    CodeForm,
    InvitationForm,
    LoginForm,
    PasswordForm,
    ProfileForm,
    RegisterForm,
)
from neighbors.areas import services as areas
from neighbors.areas.picker import AreaPickerForm, narrow
from neighbors.core.errors import DomainError, TooManyAttempts
from neighbors.core.privacy import mask_phone
from neighbors.core.ratelimit import login_limits, registrations
from neighbors.web import login_redirect, safe_next
from neighbors.web.errors import retry_after
from neighbors.web.forms import grid_choices, options, show_error

logger = logging.getLogger(__name__)

bp = Blueprint("accounts", __name__, template_folder="templates")


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
    # 955 communities are too many for one list: the picker above the form narrows it.
    picker = AreaPickerForm(request.args)
    picked = narrow(request.args, picker, community=request.form.get("community"))
    form.community.choices = [SelectChoice("", _("Choose your community")), *picked.communities]
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
            if user.phone_hash is not None:  # registration verifies the number
                return _send_verification(user, form.phone.data)
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/register.html", form=form, picker=picker, picked=picked)


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


@bp.route("/login/code", methods=["GET", "POST"])
@login_limits
def login_by_code():
    """Sign in with a code sent by SMS to one's verified number (or to the number one registered
    with, which the code then verifies): first the number, then the code."""
    if current_user.is_authenticated:
        return redirect(url_for("accounts.profile"))
    form, status, code_sent = CodeForm(), 200, False
    if form.validate_on_submit():
        try:
            if form.send.data:
                accounts.request_code(form.phone.data, "login", address=request.remote_addr)
                flash(_("If this number has an account, a code is on its way."), "success")
                code_sent = True
            else:
                code_sent = True  # a wrong code: ask again for it
                user = accounts.sign_in_with_code(
                    form.phone.data, form.code.data, address=request.remote_addr
                )
                _start_session(user)
                return redirect(safe_next(request.args.get("next")) or url_for("accounts.profile"))
        except DomainError as error:
            show_error(form, error)
            status = 429 if isinstance(error, TooManyAttempts) else 200
            code_sent = code_sent and "phone" not in error.fields
            headers = retry_after(error)
            return _code_page(form, code_sent), status, headers
    return _code_page(form, code_sent), status


def _code_page(form, code_sent):
    sent_to = mask_phone((form.phone.data or "").strip())
    return render_template(
        "accounts/login_code.html", form=form, code_sent=code_sent, sent_to=sent_to
    )


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
        channels=accounts.channels_of(current_user),
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
        channel=user.notify_channel or "",
    )
    picker = AreaPickerForm(request.args)
    chosen = request.form.get("community") or form.community.data
    picked = narrow(request.args, picker, community=chosen)
    form.community.choices = picked.communities
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
                channel=form.channel.data or "",
            )
        except DomainError as error:
            show_error(form, error)
        else:
            session.pop("lang", None)
            flash(_("Your profile has been saved."), "success")
            return redirect(url_for("accounts.profile"))
    phone = mask_phone(accounts.phone_of(user))
    return render_template(
        "accounts/edit_profile.html", form=form, phone=phone, picker=picker, picked=picked
    )


def _send_verification(user, phone):
    try:
        accounts.request_code(phone, "verify", address=request.remote_addr, actor=user)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(_("We sent a code to your mobile number: enter it to verify the number."), "success")
    return redirect(url_for("accounts.verify_phone"))


@bp.route("/profile/phone", methods=["GET", "POST"])
@login_required
def verify_phone():
    """Verify one's mobile number, or change it to a new one, with a code sent to it."""
    user = current_user
    form, status, code_sent, headers = CodeForm(), 200, False, {}
    if form.validate_on_submit():
        number = form.phone.data or accounts.phone_of(user)
        try:
            if form.send.data:
                accounts.request_code(number, "verify", address=request.remote_addr, actor=user)
                flash(_("A code is on its way to %(phone)s.", phone=mask_phone(number)), "success")
                code_sent = True
            else:
                code_sent = True
                accounts.verify_phone(
                    user,
                    number,
                    form.code.data,
                    address=request.remote_addr,
                    current_password=form.current_password.data,
                )
                flash(_("Your mobile number is verified."), "success")
                return redirect(url_for("accounts.profile"))
        except DomainError as error:
            show_error(form, error)
            status = 429 if isinstance(error, TooManyAttempts) else 200
            code_sent = code_sent and "phone" not in error.fields
            headers = retry_after(error)
    page = render_template(
        "accounts/verify_phone.html",
        form=form,
        code_sent=code_sent,
        phone=mask_phone(accounts.phone_of(user)),
        verified=user.phone_verified_at is not None,
    )
    return page, status, headers


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


@bp.post("/language")
def set_language():
    """The language of the pages: kept in the session, and on the profile when signed in."""
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated:
            accounts.set_locale(current_user, lang)
    return redirect(safe_next(request.form.get("next")) or url_for("web.index"))

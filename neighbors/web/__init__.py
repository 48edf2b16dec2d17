"""The web shell: home page, health check, layout, page gates and error pages. It imports no
feature: features build on it."""

import logging
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, format_datetime, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from neighbors.core import health
from neighbors.core.errors import Invalid
from neighbors.core.links import absolute_url
from neighbors.core.permissions import Role, has_role, role_gate
from neighbors.core.timezone import to_local

logger = logging.getLogger(__name__)

bp = Blueprint("web", __name__, template_folder="templates")


def role_required(*roles):
    """Pages: refuse before reading any input unless the user holds one of the roles."""
    return role_gate(lambda: current_user, *roles)


ROLE_LABELS = {
    Role.VOLUNTEER: _l("Volunteer"),
    Role.STAFF: _l("Community staff"),
    Role.PREPARER: _l("Foundation preparer"),
    Role.APPROVER: _l("Foundation approver"),
    Role.CASHIER: _l("Foundation cashier"),
    Role.ACCOUNTANT: _l("Foundation accountant"),
    Role.ADMIN: _l("Administrator"),
}


@bp.app_context_processor
def inject_navigation():
    return {
        "Role": Role,
        "has_role": has_role,
        "role_label": lambda role: ROLE_LABELS[Role(role)],
        "languages": current_app.config["LANGUAGES"],
        "current_language": get_locale().language if get_locale() else "zh",
    }


bp.add_app_template_global(absolute_url, "absolute_url")
bp.add_app_template_filter(format_date, "format_date")
bp.add_app_template_filter(format_datetime, "format_datetime")


@bp.app_template_filter("when")
def when(moment):
    """2030-05-01 (Wed) 09:00 in the display zone and the reader's language."""
    return format_datetime(moment, "yyyy-MM-dd (EEE) HH:mm") if moment else ""


@bp.app_template_filter("timespan")
def timespan(start, end):
    """A start and an end; the end's date only when it is another day."""
    same_day = to_local(start).date() == to_local(end).date()
    return f"{when(start)} – {format_datetime(end, 'HH:mm' if same_day else 'yyyy-MM-dd HH:mm')}"


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@bp.before_app_request
def refuse_nul_characters():
    """No text anybody types contains NUL, and PostgreSQL cannot store it: refuse it up front."""
    # The raw query string and the decoded path say it without parsing anything (every request).
    found = b"%00" in request.query_string or "\x00" in request.path
    if not found and request.mimetype in FORM_TYPES:
        found = any("\x00" in value for value in request.form.values())
    if found:
        if request.path.startswith("/api/"):
            raise Invalid(_("The request contains a NUL character."), code="invalid_input")
        abort(400)


@bp.get("/")
def index():
    return render_template("index.html")


@bp.get("/privacy")
def privacy_notice():
    return render_template("privacy.html", version=current_app.config["PRIVACY_NOTICE_VERSION"])


@bp.get("/healthz")
def healthz():
    if not health.database_answers():
        message = _("The database does not answer.")
        error = {"code": "database_unavailable", "message": message, "fields": {}}
        return jsonify(status="error", error=error), 503
    return jsonify(status="ok")


def login_redirect():
    """Send a visitor to the login page, coming back here afterwards."""
    here = request.path + (f"?{request.query_string.decode()}" if request.query_string else "")
    return redirect(url_for("accounts.login", next=here))


def safe_next(target):
    """Only same-site paths, so the switch cannot be used to redirect elsewhere."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target

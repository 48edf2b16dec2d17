"""The web shell: home page, health check, layout, page gates and error pages. It imports no
feature: features build on it."""

import logging
from datetime import date, datetime
from urllib.parse import urlsplit

from babel import dates
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
from flask_babel import format_date, format_datetime, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from neighbors.core import health, i18n
from neighbors.core.errors import Invalid
from neighbors.core.links import absolute_url
from neighbors.core.permissions import Role, has_role, role_gate
from neighbors.core.timezone import local_zone, to_local
from neighbors.web.layout import layout

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
        "current_language": locale.language if (locale := i18n.locale()) else "zh",
    }


bp.add_app_template_global(absolute_url, "absolute_url")
bp.add_app_template_global(layout, "layout")
bp.add_app_template_filter(format_date, "format_date")
bp.add_app_template_filter(format_datetime, "format_datetime")


# One way to write a date per language: 2026年12月2日 周三 09:00 / Wed 2 Dec 2026, 09:00.
DATE_PATTERNS = {"zh": "y年M月d日 EEE", "en": "EEE d MMM y"}
DATETIME_PATTERNS = {"zh": "y年M月d日 EEE HH:mm", "en": "EEE d MMM y, HH:mm"}
MONTH_PATTERNS = {"zh": "y年M月", "en": "MMM y"}


def _pattern(patterns, locale):
    return patterns.get(locale.language if locale else "zh", patterns["en"])


# The filters call Babel directly with the request's locale and the display zone: Flask-Babel's
# own format_* look the locale and zone up again for every value (a list shows 20 rows of them).
@bp.app_template_filter("day")
def day(value):
    """A date (or the date of a moment) the one way this language writes it."""
    return _date(value, DATE_PATTERNS)


def _date(value, patterns):
    if not value:
        return ""
    locale = i18n.locale()
    if isinstance(value, datetime):
        value = to_local(value)
    return dates.format_date(value, _pattern(patterns, locale), locale=locale or "zh")


@bp.app_template_filter("iso_day")
def iso_day(text):
    """A date kept as text (2026-12-02, as in a certificate's list) written the one way."""
    try:
        return day(date.fromisoformat(text))
    except (TypeError, ValueError):
        return text


@bp.app_template_filter("month")
def month(value):
    """2026年1月 / Jan 2026."""
    return _date(value, MONTH_PATTERNS)


@bp.app_template_filter("when")
def when(moment, pattern=None):
    """A moment in the display zone, the one way this language writes it."""
    if not moment:
        return ""
    locale = i18n.locale()
    pattern = pattern or _pattern(DATETIME_PATTERNS, locale)
    return dates.format_datetime(moment, pattern, tzinfo=local_zone(), locale=locale or "zh")


@bp.app_template_filter("timespan")
def timespan(start, end):
    """A start and an end; the end's date only when it is another day."""
    same_day = to_local(start).date() == to_local(end).date()
    return f"{when(start)} – {when(end, 'HH:mm') if same_day else when(end)}"


@bp.app_template_filter("money")
def money(amount):
    """An amount of yuan as accountants write it: thousands separated, two decimals."""
    return f"{amount:,.2f}" if amount is not None else ""


@bp.app_template_filter("hours_unit")
def hours_unit(minutes):
    """Minutes as hours with their unit, always: "1.5 hours" / "1.5 小时"."""
    value = round((minutes or 0) / 60, 1)
    shown = f"{value:g}"
    return ngettext("%(hours)s hour", "%(hours)s hours", 1 if value == 1 else 2, hours=shown)


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


@bp.get("/home")
def home():
    """Where a login lands: each role's own first page (the manifest's start page too)."""
    if not current_user.is_authenticated:
        return redirect(url_for("events.list_events"))
    for roles, endpoint in HOMES:
        if has_role(current_user, *roles):
            return redirect(url_for(endpoint))
    return redirect(url_for("attendance.my_events"))


HOMES = (
    ((Role.STAFF,), "events.staff_events"),
    ((Role.PREPARER, Role.APPROVER, Role.CASHIER, Role.ACCOUNTANT), "foundation.index"),
    ((Role.ADMIN,), "areas.index"),
)


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page links: send them to the icon."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)


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

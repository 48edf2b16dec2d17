"""Error handling: domain errors and HTTP errors become a page, a flash message or a JSON body."""

import logging
from urllib.parse import urlsplit

from flask import flash, g, jsonify, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from neighbors.core import audit
from neighbors.core.errors import DomainError
from neighbors.extensions import db
from neighbors.web import login_redirect, safe_next

logger = logging.getLogger(__name__)

# Snake-case codes for the HTTP errors the framework raises itself.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


def wants_json():
    return request.blueprint == "api" or request.path.startswith("/api/")


def json_error(status, code, message, fields=None, headers=None):
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    return jsonify(body), status, headers or {}


def register_error_handlers(app):
    @app.errorhandler(DomainError)
    def handle_domain_error(error):
        if error.status == 403:
            record_denial()
        if wants_json():
            headers = retry_after(error)
            return json_error(error.status, error.code, error.message, error.fields, headers)
        if error.status == 401:
            return login_redirect()
        if error.status in (403, 404):
            return _page(error.status, error.message)
        back = _same_site(request.referrer)
        if request.method == "POST" and back:
            flash(error.message, "error")  # e.g. "this event is full": back to the page
            return redirect(back)
        return _page(error.status, error.message)

    @app.errorhandler(CSRFError)
    def handle_csrf_error(error):
        return _page(
            400, _("The form had expired or was not sent from this site. Please try again.")
        )

    @app.errorhandler(HTTPException)
    def handle_http_error(error):
        headers = dict(error.get_headers()) if error.code == 429 else {}
        headers.pop("Content-Type", None)
        if wants_json():
            message = _message_for(error.code) or error.description
            return json_error(
                error.code, HTTP_CODES.get(error.code, "error"), message, headers=headers
            )
        return _page(error.code, _message_for(error.code), headers)

    @app.errorhandler(Exception)
    def handle_unexpected(error):
        logger.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        if wants_json():
            return json_error(500, "internal_error", _message_for(500))
        return _page(500, _message_for(500))

    return app


def retry_after(error):
    """The Retry-After header of a lockout, else none."""
    seconds = getattr(error, "retry_after", None)
    return {"Retry-After": str(seconds)} if seconds else {}


def record_denial():
    """Audit a refused request: who, which route, which method."""
    actor = g.get("api_user") if wants_json() else current_user  # the API never reads cookies
    rule = request.url_rule.rule if request.url_rule else None
    audit.record_denial(actor, rule, request.method)


def _same_site(referrer):
    """The path of a referrer on this site, or None."""
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc and parts.netloc != request.host:
        return None
    return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))


def _message_for(status):
    return {
        400: _("The request could not be understood."),
        401: _("Please log in first."),
        403: _("You do not have permission to see this page."),
        404: _("The page you asked for does not exist, or is not yours to see."),
        405: _("This address does not accept that kind of request."),
        413: _("What was sent is too large."),
        429: _("Too many attempts. Please wait a moment and try again."),
        500: _("Something went wrong on our side. It has been logged; please try again later."),
    }.get(status, "")


def _heading_for(status):
    return {
        400: _("Something is not right"),
        401: _("Please log in"),
        403: _("Not for you"),
        404: _("Not found"),
        405: _("Not like this"),
        413: _("Too large"),
        429: _("Please wait a moment"),
        500: _("Sorry, something went wrong"),
    }.get(status, _("Something is not right"))


def _page(status, message, headers=None):
    try:
        body = render_template(
            "errors/error.html", status=status, heading=_heading_for(status), message=message
        )
    except Exception:  # a broken template must not hide the original error
        logger.exception("error page could not be rendered")
        body = InternalServerError.description
    return body, status, headers or {}

"""Neighbors: community volunteer service, service hours and the community foundation's ledger."""

import logging
import os
from pathlib import Path

from flask import Flask, current_app, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

import config
from neighbors.accounts.identity_views import bp as identity_bp
from neighbors.accounts.services import user_for_session
from neighbors.accounts.views import ask_to_log_in
from neighbors.accounts.views import bp as accounts_bp
from neighbors.admin.people import bp as people_bp
from neighbors.admin.views import bp as admin_bp
from neighbors.api import bp as api_bp
from neighbors.areas.views import bp as areas_bp
from neighbors.attendance.views import bp as attendance_bp
from neighbors.cli import neighbors_cli
from neighbors.core import i18n, ratelimit, replicas
from neighbors.core.db import configure_engine
from neighbors.core.logs import configure_logging
from neighbors.events.views import bp as events_bp
from neighbors.extensions import babel, csrf, db, limiter, login_manager, migrate
from neighbors.foundation.views import bp as foundation_bp
from neighbors.foundation.views import public as disclosure_bp
from neighbors.hours.issuing import bp as certificates_bp
from neighbors.hours.views import bp as hours_bp
from neighbors.mutual_aid.views import bp as mutual_aid_bp
from neighbors.organisations.views import bp as organisations_bp
from neighbors.party.org_views import bp as party_orgs_bp
from neighbors.party.views import bp as party_bp
from neighbors.stations.views import bp as stations_bp
from neighbors.web import bp as web_bp
from neighbors.web.errors import register_error_handlers
from neighbors.web.headers import register_security_headers

logger = logging.getLogger(__name__)

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


class DatabaseIntConverter(IntegerConverter):
    """<int:id> only matches ids the database can hold, so a huge number is a 404, not a 500."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, whose signer is made once per set of keys, not twice a
    request (~10 µs each)."""

    def get_signing_serializer(self, app):
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        made = app.extensions.get("neighbors_session_signer")
        if made is None or made[0] != keys:
            made = app.extensions["neighbors_session_signer"] = (
                keys,
                super().get_signing_serializer(app),
            )
        return made[1]


def create_app(overrides=None):
    """Build the application. Starts no threads: the scheduler runs in its own process."""
    app = Flask(__name__, instance_relative_config=True, static_folder="web/static")
    app.session_interface = SessionInterface()
    config.load(app, overrides)
    configure_logging(app)
    if app.config["PROXY_FIX"]:
        hops = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.url_map.converters["int"] = DatabaseIntConverter
    register_extensions(app)
    register_blueprints(app)
    app.cli.add_command(neighbors_cli)
    return app


def register_extensions(app):
    db.init_app(app)
    configure_engine(app)
    replicas.register(app)
    migrate.init_app(app, db, directory=MIGRATIONS)
    app.before_request(allow_photo_uploads)  # before CSRF reads the form
    csrf.init_app(app)
    limiter.init_app(app)
    ratelimit.check_only_limited_blueprints(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    i18n.install(app, babel)
    login_manager.init_app(app)
    # "basic": a phone that changes network stays logged in; login_sessions do revocation.
    login_manager.session_protection = "basic"
    login_manager.unauthorized_handler(ask_to_log_in)
    login_manager.user_loader(user_for_session)


def register_blueprints(app):
    app.register_blueprint(web_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(identity_bp)
    app.register_blueprint(areas_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(people_bp)
    app.register_blueprint(events_bp)
    app.register_blueprint(attendance_bp)
    app.register_blueprint(hours_bp)
    app.register_blueprint(certificates_bp)
    app.register_blueprint(party_bp)
    app.register_blueprint(party_orgs_bp)
    app.register_blueprint(organisations_bp)
    app.register_blueprint(stations_bp)
    app.register_blueprint(mutual_aid_bp)
    app.register_blueprint(foundation_bp)
    app.register_blueprint(disclosure_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # the API authenticates with bearer tokens and never reads the cookie
    register_error_handlers(app)
    register_security_headers(app)


def select_locale():
    """The language the person picked, else their browser's preference, else the default."""
    languages = list(current_app.config["LANGUAGES"])
    if not has_request_context():  # the command line speaks the language of its terminal
        terminal = (
            os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG", "")
        )
        return terminal[:2] if terminal[:2] in languages else None
    if request.blueprint != "api":  # the API never reads the session cookie
        if session.get("lang") in languages:
            return session["lang"]
        if current_user.is_authenticated and current_user.locale in languages:
            return current_user.locale
    return request.accept_languages.best_match(languages)


def select_timezone():
    return current_app.config["DISPLAY_TIMEZONE"]


# Where a photo may be uploaded: up to WISH_PHOTO_MAX_BYTES, not the MAX_CONTENT_LENGTH of
# every other request.
PHOTO_UPLOADS = ("mutual_aid.upload_photo", "api.upload_wish_photo")


def allow_photo_uploads():
    if request.endpoint in PHOTO_UPLOADS:
        request.max_content_length = current_app.config["WISH_PHOTO_MAX_BYTES"] + 64 * 1024

"""Configuration: one class per environment, then NEIGHBORS_* environment variables on top."""

import json
import os
import secrets
from datetime import date
from pathlib import Path


class Config:
    """Defaults shared by every environment."""

    SECRET_KEY = None
    # A secret string from which the keys that encrypt and index personal data are derived.
    DATA_KEY = None
    # Previous DATA_KEYs, while `neighbors keys rotate` moves the data to the current one:
    # data under them is still read and found. Environment: a JSON list,
    # NEIGHBORS_OLD_DATA_KEYS='["the old key"]'.
    OLD_DATA_KEYS = ()
    DATABASE_URL = None
    # hide_parameters: errors that reach the logs never carry the values (personal data).
    # No pre-ping (a round trip per request): connections are recycled hourly instead, and a
    # connection found dead is dropped by SQLAlchemy.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_recycle": 3600, "hide_parameters": True}
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    # How many proxies in front of the app set X-Forwarded-For/-Proto/-Host (0: none).
    PROXY_FIX = 0

    DISPLAY_TIMEZONE = "Asia/Shanghai"
    # The foundation's books start on this day (建账日期, "YYYY-MM-DD"): opening balances are
    # dated on it and nothing is posted before it. Unset: 1 January of the year of the first
    # voucher (of this year, while the ledger is empty).
    BOOKS_START = None
    # The foundation's name as its vouchers and spreadsheets print it (核算单位), e.g.
    # 某某社区基金会. Unset: "Community foundation" in the reader's language.
    FOUNDATION_NAME = None
    BABEL_DEFAULT_LOCALE = "zh"
    LANGUAGES = {"zh": "简体中文", "en": "English"}
    PRIVACY_NOTICE_VERSION = "2026-11"
    # The address people reach the site at (https://neighbors.example.org): every absolute link
    # (e-mails, calendars, check-in addresses, certificate checks and QR codes) starts with it.
    # Required in production; in development without it, see neighbors.core.links.
    BASE_URL = None

    API_TOKEN_TTL_HOURS = 24 * 30
    INVITATION_TTL_HOURS = 24 * 7
    # argon2id parameters (RFC 9106, second recommended option: 64 MiB, 3 passes).
    PASSWORD_TIME_COST = 3
    PASSWORD_MEMORY_COST = 64 * 1024
    PASSWORD_PARALLELISM = 4

    # A login session lasts this long at most (also with "remember me"); logging out ends it.
    SESSION_DAYS = 30
    REMEMBER_COOKIE_DURATION = 30 * 24 * 3600
    # Failed logins from one address at one login that lock that address out of that login (only:
    # its owner elsewhere still logs in), and for how long; also the window failures count in.
    LOCKOUT_THRESHOLD = 10
    LOCKOUT_MINUTES = 15
    # Failures at one login, from anywhere, after which every next try at it waits 1, 2, 4 …
    # seconds, at most LOGIN_SLOWDOWN_MAX_SECONDS (a slow-down anyone may cause, so it is short).
    LOGIN_SLOWDOWN_AFTER = 5
    LOGIN_SLOWDOWN_MAX_SECONDS = 30
    # An address that logged in to a login is not slowed down there for this many days.
    KNOWN_ADDRESS_DAYS = 30
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None

    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    REDIS_URL = None
    LOGIN_IP_RATE_LIMIT = "100 per minute"  # failed attempts, per address
    CHECKIN_RATE_LIMIT = "10 per 5 minutes"  # check-in code entries, per address and event
    # Wrong check-in codes per person and event (from any address); then they wait.
    CHECKIN_WRONG_CODE_LIMIT = "5 per 10 minutes"
    REGISTER_RATE_LIMIT = "20 per hour"  # new accounts, per address
    API_RATE_LIMIT = "600 per minute"  # API calls, per token (or per address without one)
    API_IP_RATE_LIMIT = "3000 per minute"  # API calls, per address (all its tokens together)

    SQLITE_BUSY_TIMEOUT_MS = 15000
    # PostgreSQL streaming replicas that public lists, event pages, dashboards and exports read
    # from (README, "Deployment"). Environment: a JSON list, NEIGHBORS_REPLICA_URLS='["postgresql:
    # //reader@10.0.0.12/neighbors"]'. A replica more than REPLICA_MAX_LAG_SECONDS behind, or
    # down, is skipped (checked every REPLICA_CHECK_SECONDS per process); a person who wrote
    # reads from the primary for READ_YOUR_WRITES_SECONDS.
    REPLICA_URLS = ()
    REPLICA_MAX_LAG_SECONDS = 5
    REPLICA_CHECK_SECONDS = 2
    READ_YOUR_WRITES_SECONDS = 10
    # Seconds the public event list, the public part of an event page, the organisations
    # directory and the wish wall are kept rendered (per locale and filter; in Redis with
    # REDIS_URL, else per process); 0 turns it off. The list's places left may lag by this
    # much; an event page's places and sign-ups never do.
    PAGE_CACHE_SECONDS = 5
    # neighbors.* loggers; INFO includes one JSON line per request (neighbors.request).
    LOG_LEVEL = "INFO"

    # Star levels by cumulative confirmed hours, and a Party member's yearly targets.
    STAR_HOURS = (100, 300, 600, 1000, 1500)
    PARTY_TARGET_ACTIVITIES = 4
    PARTY_TARGET_HOURS = 50

    # Micro-wishes: the most a wish may be worth (yuan), the hours after publishing when Party
    # members alone may claim, the days a claim may stay unfulfilled, open claims per person.
    WISH_VALUE_CAP = 200
    WISH_PARTY_HOURS = 24
    WISH_CLAIM_DAYS = 14
    WISH_MAX_OPEN_CLAIMS = 3
    # Photos of fulfilled wishes: where they are kept (default: wish-photos in the instance
    # folder), the largest upload (bytes) and the largest picture (pixels) accepted.
    WISH_PHOTO_DIR = None
    WISH_PHOTO_MAX_BYTES = 8 * 1024 * 1024
    WISH_PHOTO_MAX_PIXELS = 40_000_000
    # Volunteer points per hour of confirmed service (prorated by minutes, rounded down).
    POINTS_PER_HOUR = 10

    MAIL_SERVER = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_DEFAULT_SENDER = "neighbors@localhost"
    MAIL_TIMEOUT = 30  # seconds
    MAIL_MAX_ATTEMPTS = 8  # then the message is marked failed (back-off 1, 2, 4 … minutes)
    # Without MAIL_SERVER: a folder that receives each message as an .eml file (else the log).
    MAIL_FILE_DIR = None
    OUTBOX_KEEP_DAYS = 30  # sent and failed messages (bodies name people) are deleted after

    # Text messages (README, "Text messages"): console (the log, numbers masked), file (one JSON
    # file per message in SMS_FILE_DIR) or aliyun. Unset: console, except that production keeps
    # them waiting in the outbox.
    SMS_PROVIDER = None
    SMS_FILE_DIR = None
    SMS_TIMEOUT = 10  # seconds, for the provider's answer
    SMS_MAX_ATTEMPTS = 8  # then the message is marked failed (back-off 1, 2, 4 … minutes)
    SMS_ALIYUN_ENDPOINT = "https://dysmsapi.aliyuncs.com/"
    SMS_ALIYUN_REGION = "cn-hangzhou"
    SMS_ALIYUN_ACCESS_KEY_ID = None
    SMS_ALIYUN_ACCESS_KEY_SECRET = None
    SMS_ALIYUN_SIGN_NAME = None  # the registered signature (短信签名), e.g. 邻里
    # Notice -> registered template code, or {"zh": code, "en": code}; e.g.
    # {"events/promoted": "SMS_123456789"}. A notice without a code waits in the outbox.
    SMS_ALIYUN_TEMPLATES = {}
    # One-time codes by SMS: valid this many minutes; dead after this many wrong tries; how many
    # may be asked per number (per hour and per day) and per address.
    CODE_MINUTES = 5
    CODE_WRONG_TRIES = 5
    SMS_CODE_PHONE_LIMIT = "5 per hour"
    SMS_CODE_DAY_LIMIT = "10 per day"
    SMS_CODE_IP_LIMIT = "20 per hour"
    # Messages staff send to an event's confirmed people, per event.
    ROSTER_MESSAGE_LIMIT = "3 per hour"

    # The scheduler process (`neighbors scheduler`): job name -> cron fields in DISPLAY_TIMEZONE,
    # merged over neighbors.jobs.SCHEDULE; null turns a job off. Example for the environment:
    # NEIGHBORS_SCHEDULE='{"send_reminders": {"minute": "*"}}'
    SCHEDULE = {}
    # How often a standby scheduler tries to become the leader, and the leader checks it still is.
    SCHEDULER_POLL_SECONDS = 15
    # A published event this long past its end is completed by the scheduler (no-shows marked).
    AUTO_COMPLETE_AFTER_HOURS = 12
    REMINDER_HOURS = (24, 2)


class DevelopmentConfig(Config):
    """A laptop: SQLite in the instance folder, keys generated once and kept there."""


class TestingConfig(Config):
    """The test suite: cheap password hashing, no rate limits unless a test turns them on."""

    TESTING = True
    SECRET_KEY = "testing-secret-key"  # noqa: S105 (tests only)
    DATA_KEY = "testing-data-key"
    PASSWORD_TIME_COST = 1
    PASSWORD_MEMORY_COST = 8
    PASSWORD_PARALLELISM = 1
    RATELIMIT_ENABLED = False
    LOG_LEVEL = "WARNING"
    PAGE_CACHE_SECONDS = 0  # tests of the cache turn it on


class ProductionConfig(Config):
    """Production: PostgreSQL, secrets from the environment, secure cookies."""

    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    REQUIRED = ("SECRET_KEY", "DATA_KEY", "DATABASE_URL", "BASE_URL")


ENVIRONMENTS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load(app, overrides=None):
    """Fill app.config: the class named by NEIGHBORS_ENV, NEIGHBORS_* variables, then overrides.

    Raises RuntimeError when production lacks a required secret.
    """
    env = os.environ.get("NEIGHBORS_ENV", "development")
    if overrides and "ENV" in overrides:
        env = overrides["ENV"]
    if env not in ENVIRONMENTS:
        raise RuntimeError(f"NEIGHBORS_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    app.config.from_object(ENVIRONMENTS[env])
    app.config["ENV"] = env
    for name in PLAIN_NAMES:
        if os.environ.get(name):
            app.config[name] = _parsed(os.environ[name])
    app.config.from_prefixed_env("NEIGHBORS")
    app.config.update(overrides or {})

    missing = [name for name in getattr(ENVIRONMENTS[env], "REQUIRED", ()) if not app.config[name]]
    if missing:
        raise RuntimeError(f"Production needs these settings: {', '.join(missing)}")

    instance = Path(app.instance_path)
    for name in ("SECRET_KEY", "DATA_KEY"):
        if not app.config[name]:
            app.config[name] = _instance_secret(instance / name.lower())
    app.config["OLD_DATA_KEYS"] = _old_data_keys(app.config["OLD_DATA_KEYS"])
    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(
        app.config["DATABASE_URL"] or f"sqlite:///{instance / 'neighbors.db'}"
    )
    app.config["BOOKS_START"] = _books_start(app.config["BOOKS_START"])
    if app.config["SMS_PROVIDER"] not in (None, "", "console", "file", "aliyun"):
        raise RuntimeError(
            "NEIGHBORS_SMS_PROVIDER must be console, file or aliyun, "
            f"not {app.config['SMS_PROVIDER']!r}"
        )
    if app.config["REDIS_URL"] and app.config["RATELIMIT_STORAGE_URI"] == "memory://":
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]


def _books_start(value):
    """BOOKS_START as a date, checked when the app starts rather than at the first posting."""
    if not value or isinstance(value, date):
        return value or None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        message = f"NEIGHBORS_BOOKS_START must be a date like 2026-01-01, not {value!r}"
        raise RuntimeError(message) from None


# Read without the NEIGHBORS_ prefix too: the names hosting platforms and Flask-Mail use.
PLAIN_NAMES = (
    "DATABASE_URL", "SECRET_KEY", "REDIS_URL", "MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS",
    "MAIL_USE_SSL", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_DEFAULT_SENDER",
)  # fmt: skip


def _parsed(value):
    """Numbers and true/false as such, like Flask's from_prefixed_env; anything else as text."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def _old_data_keys(value):
    """OLD_DATA_KEYS as a tuple of strings. Raises RuntimeError for anything else, rather than
    read a bare string as a list of one-character keys."""
    if isinstance(value, str) and not value.strip():
        return ()
    if isinstance(value, str):
        raise RuntimeError(
            "OLD_DATA_KEYS must be a list: NEIGHBORS_OLD_DATA_KEYS='[\"old key\"]' (JSON)"
        )
    keys = tuple(value or ())
    if not all(isinstance(key, str) and key for key in keys):
        raise RuntimeError("OLD_DATA_KEYS must be a list of non-empty strings")
    return keys


def database_uri(url):
    """Point plain PostgreSQL URLs at the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _instance_secret(path):
    """A development secret generated once and kept in the instance folder."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()

"""Times are stored in UTC and shown in the configured zone (default Asia/Shanghai)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

import config

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def local_zone():
    """The app's zone; outside an app (a test's setup, a script) the configured default."""
    if has_app_context():
        return ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    return ZoneInfo(config.Config.DISPLAY_TIMEZONE)


def local_now():
    """Now, in the display zone: the clock on the community's wall, not the server's."""
    return datetime.now(local_zone())


def local_today():
    """Today where the app is (the display zone's date), whatever the host's zone says.

    Every "today" of the app and of the tests comes from here: the host's `date.today()` is a
    different day for eight hours of every day when the host runs on UTC.
    """
    return local_now().date()


def from_local(naive):
    """A wall-clock time in the display zone (as typed into a form) as an aware UTC time.

    Raises ValueError for a time that cannot be converted (near year 1 or 9999)."""
    if naive is None:
        return None
    try:
        return naive.replace(tzinfo=local_zone()).astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("time out of range") from exc


def to_local(moment):
    """An aware time in the display zone."""
    return moment.astimezone(local_zone()) if moment else None


def isoformat(moment):
    """ISO 8601 with the display zone's offset, as the API returns times."""
    return to_local(moment).isoformat() if moment else None


def parse_iso(text):
    """An ISO 8601 time that names its offset, as an aware UTC time; ValueError otherwise."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("time without an offset")
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("time out of range") from exc


def plausible(moment):
    """Times this platform deals in: between the years 2000 and 2100."""
    return moment is None or EARLIEST <= moment <= LATEST

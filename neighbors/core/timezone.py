"""Times are stored in UTC and shown in the configured zone (default Asia/Shanghai)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def local_zone():
    return ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])


def from_local(naive):
    """A wall-clock time in the display zone (as typed into a form) as an aware UTC time."""
    if naive is None:
        return None
    return naive.replace(tzinfo=local_zone()).astimezone(UTC)


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
    return moment.astimezone(UTC)

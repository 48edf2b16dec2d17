"""Times are stored in UTC and shown in the configured zone (default Asia/Shanghai)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def local_zone():
    return ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])


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

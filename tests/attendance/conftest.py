"""Attendance fixtures: the events' and the held events' factories."""

from tests.events.conftest import factory  # noqa: F401
from tests.hours.conftest import hours_factory  # noqa: F401

"""JSON API v1: thin adapters over the same services the pages use."""

# Importing the route modules registers their routes on bp.
from neighbors.api import accounts as _accounts_routes  # noqa: F401
from neighbors.api import attendance as _attendance_routes  # noqa: F401
from neighbors.api import events as _events_routes  # noqa: F401
from neighbors.api import foundation as _foundation_routes  # noqa: F401
from neighbors.api import hours as _hours_routes  # noqa: F401
from neighbors.api import mutual_aid as _mutual_aid_routes  # noqa: F401
from neighbors.api import organisations as _organisations_routes  # noqa: F401
from neighbors.api import stations as _stations_routes  # noqa: F401
from neighbors.api.base import bp

__all__ = ["bp"]

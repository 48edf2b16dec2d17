"""JSON API v1: thin adapters over the same services the pages use."""

from neighbors.api import accounts as _accounts_routes  # noqa: F401  (registers its routes on bp)
from neighbors.api.base import bp

__all__ = ["bp"]

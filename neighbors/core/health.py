"""Health check: a real round trip to the database."""

import logging

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from neighbors.extensions import db

logger = logging.getLogger(__name__)


def database_answers():
    """True when the database answers a trivial query."""
    try:
        db.session.execute(text("SELECT 1")).scalar_one()
    except SQLAlchemyError:
        logger.exception("health check: the database does not answer")
        db.session.rollback()
        return False
    return True

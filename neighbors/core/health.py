"""Health check: a real round trip to the database."""

import logging

from sqlalchemy.exc import SQLAlchemyError

from neighbors.extensions import db

logger = logging.getLogger(__name__)


def database_answers():
    """True when the database answers a trivial query: one round trip, outside a transaction
    (no BEGIN before it, no ROLLBACK after)."""
    try:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("SELECT 1").scalar_one()
    except SQLAlchemyError:
        logger.exception("health check: the database does not answer")
        return False
    return True

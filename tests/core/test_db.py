"""The database layer: aware UTC times, SQLite settings, and all-or-nothing units of work."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from neighbors.accounts.models import User
from neighbors.core.db import transaction
from neighbors.extensions import db


def test_times_come_back_aware_and_in_utc(ctx, make):
    user_id, _email = make.user()
    shanghai = timezone(timedelta(hours=8))
    with transaction():
        db.session.get(User, user_id).privacy_consent_at = datetime(
            2026, 3, 5, 9, 0, tzinfo=shanghai
        )
    db.session.expire_all()
    stored = db.session.get(User, user_id).privacy_consent_at
    assert stored == datetime(2026, 3, 5, 1, 0, tzinfo=UTC)
    assert stored.tzinfo is not None


def test_a_naive_time_is_refused(ctx, make):
    user_id, _email = make.user()
    with pytest.raises(Exception, match="naive datetime"), transaction():
        db.session.get(User, user_id).privacy_consent_at = datetime(2026, 3, 5, 9, 0)  # noqa: DTZ001 (the point)


def test_a_failed_unit_of_work_writes_nothing(ctx, make):
    user_id, _email = make.user()
    with pytest.raises(RuntimeError), transaction():
        db.session.get(User, user_id).name = "改了"
        raise RuntimeError("boom")
    assert db.session.scalar(select(User.name).where(User.id == user_id)) != "改了"


def test_sqlite_runs_with_wal_foreign_keys_and_full_sync(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite settings")
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def on_postgresql(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("psycopg's prepared statements: PostgreSQL")


def test_pages_that_only_read_keep_their_prepared_statements(app, committing_db):
    """A read-only request ends by COMMIT: a ROLLBACK would make psycopg forget every prepared
    statement, and PostgreSQL would plan each query of each page anew."""
    on_postgresql(app)
    with app.app_context():
        db.engine.dispose()  # one connection from here on: requests in turn reuse it
    client = app.test_client()
    for _ in range(7):  # psycopg prepares a statement at its fifth use on a connection
        assert client.get("/api/v1/events").status_code == 200
    with app.app_context():
        prepared = db.session.scalars(text("SELECT statement FROM pg_prepared_statements")).all()
    assert any("FROM events" in statement for statement in prepared), prepared


def test_a_context_that_wrote_outside_a_unit_of_work_still_rolls_back(app, committing_db):
    on_postgresql(app)
    with app.app_context():
        db.session.execute(text("INSERT INTO districts (code, name) VALUES ('990', '试验区')"))
    with app.app_context():
        kept = db.session.scalar(text("SELECT count(*) FROM districts WHERE code = '990'"))
    assert kept == 0


def test_a_context_with_unsaved_changes_still_rolls_back(app, committing_db):
    """Changes never flushed are not written by the COMMIT that ends a read-only context."""
    from neighbors.areas.models import District

    on_postgresql(app)
    with app.app_context():
        db.session.scalar(text("SELECT 1"))
        db.session.add(District(code="991", name="未存区"))
    with app.app_context():
        kept = db.session.scalar(text("SELECT count(*) FROM districts WHERE code = '991'"))
    assert kept == 0

"""Configuration: environments, NEIGHBORS_* overrides, secrets, database URLs."""

from datetime import date

import pytest

from neighbors import create_app


def test_production_refuses_to_start_without_secrets(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("NEIGHBORS_ENV", "production")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"DATABASE_URL": "postgresql://db/neighbors", "DATA_KEY": "k"})


def test_production_starts_with_its_secrets(monkeypatch):
    monkeypatch.setenv("NEIGHBORS_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/neighbors")
    monkeypatch.delenv("NEIGHBORS_DATABASE_URL", raising=False)
    monkeypatch.setenv("NEIGHBORS_DATA_KEY", "d" * 40)
    monkeypatch.setenv("NEIGHBORS_BASE_URL", "https://neighbors.example.org")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/neighbors"
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_prefixed_environment_variables_override(monkeypatch, tmp_path):
    monkeypatch.setenv("NEIGHBORS_RATELIMIT_ENABLED", "false")
    monkeypatch.setenv("NEIGHBORS_DISPLAY_TIMEZONE", "Asia/Urumqi")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert app.config["RATELIMIT_ENABLED"] is False
    assert app.config["DISPLAY_TIMEZONE"] == "Asia/Urumqi"


def test_development_defaults_to_sqlite_and_keeps_its_secret(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("NEIGHBORS_DATABASE_URL", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("NEIGHBORS_ENV", "development")

    def make():
        from flask import Flask

        import config

        app = Flask("neighbors", instance_path=str(tmp_path / "instance"))
        config.load(app)
        return app

    first, second = make(), make()
    assert first.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert first.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/neighbors.db")
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 40
    assert first.config["DISPLAY_TIMEZONE"] == "Asia/Shanghai"


def test_production_refuses_to_start_without_its_address(monkeypatch):
    """Links in e-mails, calendars and certificates must not follow whatever Host a request
    names: production takes the site's address from its configuration only."""
    monkeypatch.setenv("NEIGHBORS_ENV", "production")
    monkeypatch.delenv("NEIGHBORS_BASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="BASE_URL"):
        create_app(
            {"DATABASE_URL": "postgresql://db/neighbors", "DATA_KEY": "k", "SECRET_KEY": "s" * 40}
        )


SETTINGS = {"ENV": "testing", "DATABASE_URL": "sqlite://", "SECRET_KEY": "s" * 40, "DATA_KEY": "k"}


def test_a_books_start_that_is_no_date_stops_the_start(monkeypatch):
    monkeypatch.setenv("NEIGHBORS_BOOKS_START", "1st of January")
    with pytest.raises(RuntimeError, match="NEIGHBORS_BOOKS_START must be a date"):
        create_app(SETTINGS)
    monkeypatch.setenv("NEIGHBORS_BOOKS_START", "2026-01-01")
    assert create_app(SETTINGS).config["BOOKS_START"] == date(2026, 1, 1)

"""The WSGI entry point (gunicorn wsgi:app, flask --app wsgi): the only module-level app."""

from neighbors import create_app

app = create_app()

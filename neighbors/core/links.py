"""Absolute links, all built from one base URL: e-mails, calendar files and feeds, check-in
addresses, certificates' check links and their QR codes.

BASE_URL is the site's address as people reach it (with a path prefix, if the site has one).
Production requires it. In development without it, links follow the address the request came to
(the browser's host and port, so a phone on the same network gets links that work), and outside a
request (the scheduler's e-mails, the command line) http://127.0.0.1 on $PORT (default 5000), the
port `python3 manage.py run` serves on.
"""

import os
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request


def base_url():
    """The site's address, without a trailing slash."""
    configured = current_app.config.get("BASE_URL")
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.url_root.rstrip("/")
    return _local()


def site_host():
    """The site's host name for identifiers that must never change with the address a request
    came to, such as calendar entries' UIDs: BASE_URL's, else 127.0.0.1 (development)."""
    return urlsplit(current_app.config.get("BASE_URL") or _local()).hostname or "neighbors"


def _local():
    return f"http://127.0.0.1:{os.environ.get('PORT') or 5000}"


def absolute_url(endpoint, **values):
    """The absolute address of one of the app's endpoints, e.g. absolute_url("hours.verify",
    token=t): its path inside the app after base_url(), the same in and outside a request."""
    app = current_app._get_current_object()
    app.inject_url_defaults(endpoint, values)
    return base_url() + app.url_map.bind("localhost", script_name="/").build(endpoint, values)

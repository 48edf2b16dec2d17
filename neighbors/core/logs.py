"""Logging: a handler when nobody configured one, and one JSON line per request.

The request line carries a request id (the proxy's X-Request-ID when it sends a sane one, else a
new one, echoed in the response), the user's id, the route pattern (not the path, which may hold
tokens), the status and the duration. Nothing else about the person: no names, no addresses.
"""

import json
import logging
import re
import sys
import time
import uuid

from flask import g, request

logger = logging.getLogger("neighbors.request")

REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
# A JSON object, formatted only when the line is written.
LINE = '{"request_id": "%s", "user_id": %s, "method": %s, "route": %s, "status": %d, "ms": %.1f}'


COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def configure_logging(app):
    level = app.config["LOG_LEVEL"]
    if not logging.getLogger().handlers:  # gunicorn.conf.py or a test runner may have set one
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("neighbors").setLevel(level)
    # The development server (`flask run`) colours its lines: not in a file or a pipe.
    logging.getLogger("werkzeug").addFilter(colour_only_on_a_terminal)
    app.before_request(_start)
    app.after_request(_log)


def _start():
    g.started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


def _log(response):
    if "request_id" not in g:  # a request that failed before our first hook
        return response
    response.headers["X-Request-ID"] = g.request_id
    if logger.isEnabledFor(logging.INFO):
        user = g.get("api_user") or g.get("_login_user")  # never loads a user just to log it
        user_id = getattr(user, "id", None)
        logger.info(
            LINE,
            g.request_id,  # letters, digits, . _ - only
            "null" if user_id is None else user_id,
            json.dumps(request.method),
            json.dumps(request.url_rule.rule if request.url_rule else None),
            response.status_code,
            (time.perf_counter() - g.started) * 1000,
        )
    return response


def colour_only_on_a_terminal(record):
    """Strip the colour codes from a record when stderr, where the log goes, is no terminal."""
    message = record.getMessage()
    if "\x1b[" in message and not (sys.stderr and sys.stderr.isatty()):
        record.msg, record.args = COLOUR.sub("", message), None
    return True

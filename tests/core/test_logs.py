"""One JSON line per request: request id, user id, route, status, duration; nothing personal."""

import io
import json
import logging
import sys

import pytest

from tests.clients import log_in


@pytest.fixture
def lines(caplog):
    caplog.set_level(logging.INFO, logger="neighbors.request")

    def read():
        return [json.loads(r.getMessage()) for r in caplog.records if r.name == "neighbors.request"]

    return read


def test_each_request_is_one_line_with_its_id_echoed(client, lines):
    response = client.get("/events?q=secret", headers={"X-Request-ID": "proxy-abc-12345"})
    assert response.headers["X-Request-ID"] == "proxy-abc-12345"
    [line] = lines()
    assert line["request_id"] == "proxy-abc-12345"
    assert (line["method"], line["route"], line["status"], line["user_id"]) == (
        "GET",
        "/events",
        200,
        None,
    )
    assert line["ms"] >= 0 and "secret" not in json.dumps(line)


def test_a_strange_request_id_is_replaced(client, lines):
    response = client.get("/healthz", headers={"X-Request-ID": "<script> " * 20})
    assert response.headers["X-Request-ID"] != "<script> " * 20
    assert lines()[-1]["request_id"] == response.headers["X-Request-ID"]


def test_the_user_is_named_by_id_only(client, make, lines, caplog):
    user_id, email = make.user(phone="13912345678")
    log_in(client, email)
    client.get(f"/certificates/verify/{'x' * 20}")  # a token in the path stays out of the log
    assert lines()[-1]["user_id"] == user_id
    assert lines()[-1]["route"] == "/certificates/verify/<token>"
    for personal in (email, "13912345678", "x" * 20):
        assert personal not in caplog.text


class Stream(io.StringIO):
    def __init__(self, terminal):
        super().__init__()
        self.terminal = terminal

    def isatty(self):
        return self.terminal


@pytest.mark.parametrize("terminal", [True, False])
def test_the_development_servers_colours_reach_only_a_terminal(app, monkeypatch, terminal):
    stream = Stream(terminal)
    monkeypatch.setattr(sys, "stderr", stream)
    handler = logging.StreamHandler(stream)
    werkzeug = logging.getLogger("werkzeug")
    werkzeug.addHandler(handler)
    try:  # as werkzeug.serving logs a 404 or its development server warning
        werkzeug.warning('"%s" %s', "\x1b[33mGET /nowhere HTTP/1.1\x1b[0m", 404)
    finally:
        werkzeug.removeHandler(handler)
    assert "GET /nowhere HTTP/1.1" in stream.getvalue()
    assert ("\x1b[" in stream.getvalue()) is terminal

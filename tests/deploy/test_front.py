"""The production front: deploy/nginx.conf run by Debian's nginx in front of real gunicorn.

Slow clients that hold every sync worker (issue 12) are held by nginx instead; the proxy headers
the app trusts (NEIGHBORS_PROXY_FIX=1) are set by nginx, never passed through from a client.
The shipped file is used as it is, with its ports and log paths changed and HTTP in place of
HTTPS (no certificate in a test). Needs Debian's nginx (`apt-get install nginx`): skipped without
it, failed without it when NEIGHBORS_REQUIRE_NGINX=1 (CI).
"""

import contextlib
import http.client
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from config import Config
from tests.conftest import ROOT, free_port, process_env, self_signed_certificate

SITE = Path(ROOT) / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SLOW_SOCKETS = 8
SLOW_REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow\r\n\r\n"


@pytest.fixture(scope="module")
def nginx_binary():
    if not os.access(NGINX, os.X_OK):
        message = "needs nginx at /usr/sbin/nginx (apt-get install nginx) to test deploy/nginx.conf"
        if os.environ.get("NEIGHBORS_REQUIRE_NGINX"):
            pytest.fail(message)
        pytest.skip(message)
    return NGINX


def site_config(upstream_port, http_port, https_port, logs):
    """deploy/nginx.conf for a test: upstream and listen ports changed, HTTPS served as HTTP."""
    text = SITE.read_text()

    def swap(pattern, replacement, count):
        nonlocal text
        text, made = re.subn(pattern, replacement, text, flags=re.MULTILINE)
        assert made == count, f"deploy/nginx.conf changed shape: {pattern!r} matched {made}"

    swap(r"^(\s*server )127\.0\.0\.1:8000;", rf"\g<1>127.0.0.1:{upstream_port};", 1)
    swap(r"^\s*listen \[::\]:.*\n", "", 2)
    swap(r"^(\s*)listen 80;", rf"\g<1>listen 127.0.0.1:{http_port};", 1)
    swap(r"^(\s*)listen 443 ssl http2;", rf"\g<1>listen 127.0.0.1:{https_port};", 1)
    swap(r"^\s*ssl_\w+ .*\n", "", 6)
    swap(r"/var/log/nginx/", f"{logs}/", 2)
    return text


class Nginx:
    """nginx in the foreground with its own prefix, pid file, logs and temporary files."""

    def __init__(self, binary, upstream_port):
        self.dir = Path(tempfile.mkdtemp(prefix="neighbors-nginx-"))
        self.port, self.http_port = free_port(), free_port()
        (self.dir / "site.conf").write_text(
            site_config(upstream_port, self.http_port, self.port, self.dir)
        )
        temp = "\n".join(
            f"    {kind}_temp_path {self.dir}/{kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (self.dir / "nginx.conf").write_text(
            f"daemon off;\nworker_processes 1;\npid {self.dir}/nginx.pid;\n"
            f"error_log {self.dir}/error.log info;\n"
            "events { worker_connections 256; }\n"
            f"http {{\n    access_log {self.dir}/access.log;\n{temp}\n"
            f"    include {self.dir}/site.conf;\n}}\n"
        )
        self.process = subprocess.Popen(
            [binary, "-p", str(self.dir), "-c", str(self.dir / "nginx.conf"),
             "-e", str(self.dir / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # -e: its startup errors go to error.log too
        )  # fmt: skip
        wait_for_port(self.port, self.process, lambda: self.errors())

    def errors(self):
        log = self.dir / "error.log"
        return log.read_text() if log.exists() else ""

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_for_port(port, process, output, seconds=30):
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode}: {output()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def get(port, path, timeout=5, headers=None, method="GET"):
    """(status, headers, body, seconds) of one request on a new connection."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    return response.status, response.headers, body, time.perf_counter() - started


class SlowClients:
    """Sockets that each send a request one byte every 2 s, as in the penetration test."""

    def __init__(self, port, count=SLOW_SOCKETS, interval=2.0):
        self.sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
        self.interval = interval
        self.stopped = threading.Event()
        self.sent = 0
        self.thread = threading.Thread(target=self._drip, daemon=True)
        self.thread.start()

    def _drip(self):
        while not self.stopped.is_set() and self.sent < len(SLOW_REQUEST) - 1:
            byte = SLOW_REQUEST[self.sent : self.sent + 1]
            for sock in self.sockets:
                with contextlib.suppress(OSError):  # dropped by the server: its right
                    sock.sendall(byte)
            self.sent += 1
            self.stopped.wait(self.interval)

    def close(self):
        self.stopped.set()
        self.thread.join(timeout=5)
        for sock in self.sockets:
            sock.close()


@pytest.fixture(scope="module")
def gunicorn(app, database_url):
    """gunicorn.conf.py with two sync workers on a free loopback port, on the test database."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=process_env(
                database_url, BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY=2, NEIGHBORS_PROXY_FIX=1
            ),
            stdout=log,
            stderr=log,
        )

        def output():
            log.seek(0)
            return log.read().decode(errors="replace")

        try:
            deadline = time.monotonic() + 60  # the workers, not only the master, are up
            while True:
                wait_for_port(port, server, output)
                try:
                    if get(port, "/healthz", timeout=10)[0] == 200:
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, output()
                time.sleep(0.2)
            yield port
        finally:
            server.terminate()
            server.wait(timeout=30)


@pytest.fixture(scope="module")
def front(nginx_binary, gunicorn):
    """(nginx, gunicorn's port): deploy/nginx.conf in front of gunicorn."""
    nginx = Nginx(nginx_binary, gunicorn)
    try:
        yield nginx, gunicorn
    finally:
        nginx.stop()


def test_slow_clients_hold_nginx_not_the_workers(front):
    nginx, app_port = front
    status, headers, body, _seconds = get(nginx.port, "/healthz")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    assert re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-ID"])  # nginx's, echoed by the app

    slow = SlowClients(nginx.port)
    try:
        latencies = []
        until = time.monotonic() + 5  # every slow socket sends bytes twice or more meanwhile
        while time.monotonic() < until:
            status, _headers, _body, seconds = get(nginx.port, "/healthz", timeout=1)
            assert status == 200
            latencies.append(seconds)
            time.sleep(0.25)
        assert slow.sent >= 3
    finally:
        slow.close()
    print(f"/healthz through nginx with {SLOW_SOCKETS} slow sockets: max {max(latencies):.3f} s")
    assert max(latencies) < 1.0, latencies

    # Control: the same slow sockets straight at gunicorn take both workers, and it is stuck.
    slow = SlowClients(app_port)
    try:
        time.sleep(0.5)
        with pytest.raises(TimeoutError):
            get(app_port, "/healthz", timeout=1.5)
    finally:
        slow.close()
    assert get(app_port, "/healthz", timeout=10)[0] == 200  # and free again once they go


def test_bodies_over_the_apps_limit_are_refused_by_nginx(front):
    nginx, _app_port = front
    size = re.search(r"^\s*client_max_body_size (\d+)m;", SITE.read_text(), re.MULTILINE)
    assert int(size.group(1)) * 1024 * 1024 == Config.MAX_CONTENT_LENGTH
    with socket.create_connection(("127.0.0.1", nginx.port), timeout=5) as sock:
        sock.sendall(
            b"POST /api/v1/tokens HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % (Config.MAX_CONTENT_LENGTH + 1)
        )  # and no body: nginx answers before reading it
        assert sock.recv(200).startswith(b"HTTP/1.1 413")


def test_the_access_log_keeps_no_token(front):
    """Invitation, calendar and certificate links are keys: nginx logs their paths without them."""
    nginx, _app_port = front
    token = "Zm9vYmFyLXNlY3JldC10b2tlbi0xMjM0NTY3ODkw"
    log = nginx.dir / "neighbors.access.log"
    for path in (f"/invitation/{token}", f"/calendar/{token}.ics", f"/certificates/verify/{token}"):
        get(nginx.port, path + "?lang=en")
    # nginx writes a request's log line after it has sent the answer: wait for the last one
    deadline = time.monotonic() + 5
    while (
        "/certificates/verify/" not in (logged := log.read_text()) and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    assert "/invitation/[token]" in logged and "/certificates/verify/[token]" in logged
    assert token not in logged and "lang=en" not in logged


def test_plain_http_redirects_to_https(front):
    nginx, _app_port = front
    status, headers, _body, _seconds = get(
        nginx.http_port, "/events?page=2", headers={"Host": "neighbors.example.org"}
    )
    assert status == 301
    assert headers["Location"] == "https://neighbors.example.org/events?page=2"


class Echo(http.server.BaseHTTPRequestHandler):
    """An upstream that answers with the headers it was sent."""

    def do_GET(self):
        body = json.dumps({name.lower(): value for name, value in self.headers.items()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_the_forwarded_headers_come_from_nginx_not_the_client(nginx_binary):
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    nginx = Nginx(nginx_binary, upstream.server_address[1])
    try:
        forged = {
            "Host": "neighbors.example.org:8443",
            "X-Forwarded-For": "203.0.113.9",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "evil.example",
            "X-Forwarded-Port": "1",
            "X-Forwarded-Prefix": "/evil",
            "Forwarded": "for=203.0.113.9",
        }
        _status, _headers, body, _seconds = get(nginx.port, "/", headers=forged)
        seen = json.loads(body)
        assert seen["x-forwarded-for"] == "127.0.0.1"  # the address nginx saw, only
        assert seen["x-forwarded-proto"] == "http"  # the scheme nginx was reached by
        assert seen["host"] == seen["x-forwarded-host"] == "neighbors.example.org:8443"
        assert not {"x-forwarded-port", "x-forwarded-prefix", "forwarded"} & set(seen)
        assert re.fullmatch(r"[0-9a-f]{32}", seen["x-request-id"])
        kept = get(nginx.port, "/", headers={"X-Request-ID": "lb-1234567890"})[2]
        assert json.loads(kept)["x-request-id"] == "lb-1234567890"  # a load balancer's id stays
    finally:
        nginx.stop()
        upstream.shutdown()
        upstream.server_close()


def test_the_shipped_file_with_https_passes_nginx_t(nginx_binary, tmp_path):
    """The HTTPS server the tests above serve as HTTP, checked as it ships: only the
    certificate and log paths are changed (nginx -t opens those files, binds no port)."""
    cert, key = self_signed_certificate(tmp_path)
    cert.rename(tmp_path / "fullchain.pem")
    key.rename(tmp_path / "privkey.pem")
    site = SITE.read_text()
    for placeholder in ("/etc/ssl/neighbors/", "/var/log/nginx/"):
        assert placeholder in site
        site = site.replace(placeholder, f"{tmp_path}/")
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n    access_log off;\n    include {tmp_path}/site.conf;\n}}\n"
    )
    checked = subprocess.run(
        [nginx_binary, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
         "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr


def test_gunicorn_listens_on_loopback_unless_told_otherwise(monkeypatch):
    monkeypatch.delenv("BIND", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    settings = {}
    source = (Path(ROOT) / "gunicorn.conf.py").read_text()
    exec(compile(source, "gunicorn.conf.py", "exec"), settings)  # noqa: S102 (our own file)
    assert settings["bind"] == "127.0.0.1:8000"

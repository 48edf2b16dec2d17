"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Each setting can be changed by the environment named beside it. The scheduler is not started
here: run one `flask --app wsgi neighbors scheduler` process per deployment beside the web hosts.
"""

import multiprocessing
import os

# Loopback only: nginx in front (deploy/nginx.conf) reads each request whole before a sync
# worker sees it. Reached directly, a few slow clients would hold every worker.
bind = os.environ.get("BIND", "127.0.0.1:" + os.environ.get("PORT", "8000"))
# Sign-ups and pages are short and CPU-bound: two workers per core keep the cores busy while
# one waits on the database.
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count()))
worker_class = "sync"
# A request still running after this is killed and its worker replaced: long enough for the
# biggest download (an XLSX of a million ledger lines takes about 40 s).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30  # a deploy lets requests in flight finish
keepalive = 5  # behind a load balancer that keeps connections open
# Replace each worker now and then, at different times, so a slow leak never builds up.
max_requests = 10000
max_requests_jitter = 1000
# The request lines come from the app (neighbors.request: id, user id, route, status, time):
# gunicorn's own access log would repeat them with the full path and query string.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
    "loggers": {
        "neighbors": {"level": os.environ.get("NEIGHBORS_LOG_LEVEL", "INFO")},
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
    },
}
# Trust X-Forwarded-* only from the proxy in front (also set NEIGHBORS_PROXY_FIX=1).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

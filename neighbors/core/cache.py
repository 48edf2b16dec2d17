"""A few seconds' cache of what many people read alike (rendered public fragments of pages).

Only what is the same for everyone goes in: a fragment never holds a CSRF token, a name, a
flash message or anything of the person's own, and its key names the locale and every input
it was rendered from. Redis when REDIS_URL is set (all web processes share it), else a small
dictionary in this process, so the app runs with nothing but Python. PAGE_CACHE_SECONDS = 0
turns it off (the tests' default).
"""

import hashlib
import logging
import threading
import time

from flask import current_app
from markupsafe import Markup

from neighbors.core import i18n

logger = logging.getLogger(__name__)

PREFIX = "neighbors:fragment:"
# In-process entries at most; past it the store starts again empty (it holds seconds of pages).
MEMORY_ENTRIES = 5000


def fragment(parts, render):
    """The rendered fragment named by `parts` (a tuple of plain values), rendering it on a miss."""
    seconds = current_app.config["PAGE_CACHE_SECONDS"]
    if not seconds:
        return _safe(render())
    key = PREFIX + hashlib.sha256(repr(parts).encode()).hexdigest()
    store = _store(current_app)
    found = store.get(key)
    if found is not None:
        return _safe(found)
    value = _safe(render())
    store.set(key, str(value), seconds)
    return value


def for_query(name, args, render, *inputs):
    """The fragment `name` of a page whose content depends only on its query string `args`, the
    language and `inputs`: the same for everyone who asks alike."""
    return fragment((name, str(i18n.locale()), *inputs, sorted(args.items(multi=True))), render)


def _safe(html):
    """A fragment our templates rendered (autoescaping every value) is markup as it stands."""
    return Markup(html)  # noqa: S704


def clear():
    """Forget every fragment (tests; a deployment that must show a change at once)."""
    _store(current_app).clear()


def _store(app):
    store = app.extensions.get("neighbors_cache")
    if store is None:
        url = app.config["REDIS_URL"]
        store = RedisStore(url) if url else MemoryStore()
        app.extensions["neighbors_cache"] = store
    return store


class MemoryStore:
    """This process's fragments, each with the moment it expires."""

    def __init__(self):
        self.entries = {}
        self.lock = threading.Lock()

    def get(self, key):
        entry = self.entries.get(key)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]

    def set(self, key, value, seconds):
        with self.lock:
            if len(self.entries) >= MEMORY_ENTRIES:
                self.entries.clear()
            self.entries[key] = (time.monotonic() + seconds, value)

    def clear(self):
        with self.lock:
            self.entries.clear()


class RedisStore:
    """Fragments in Redis with their lifetime (SET … EX). A Redis that does not answer is a miss:
    the page is rendered as if there were no cache, never an error."""

    def __init__(self, url):
        import redis  # only deployments with Redis install it

        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.errors = redis.RedisError

    def get(self, key):
        try:
            value = self.client.get(key)
        except self.errors as exc:
            logger.warning("page cache: Redis did not answer (%s)", type(exc).__name__)
            return None
        return None if value is None else value.decode()

    def set(self, key, value, seconds):
        try:
            self.client.set(key, value.encode(), px=max(1, int(seconds * 1000)))
        except self.errors as exc:
            logger.warning("page cache: Redis did not answer (%s)", type(exc).__name__)

    def clear(self):
        for key in self.client.scan_iter(PREFIX + "*"):
            self.client.delete(key)

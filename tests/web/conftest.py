"""The browser the page tests drive: Debian's Chromium through Playwright (never a download)."""

import os
import shutil

import pytest

CHROMIUM = "/usr/bin/chromium"


def missing(message):
    """Skip a browser test for want of a tool, or fail where the browser tests are required."""
    if os.environ.get("NEIGHBORS_REQUIRE_BROWSER"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM):
        missing(f"no browser at {CHROMIUM}: install Debian's chromium package to run this test")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()

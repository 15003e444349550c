"""Real-browser tests: Debian's Chromium driven by Playwright (no browser download).

They skip, saying how to install the browser, where /usr/bin/chromium is missing.
"""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(
            "Chromium not found: install Debian's package with `apt-get install -y chromium` (or `make browser`)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
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


class PageWatch:
    """Collects console errors and CSP violations seen by a page."""

    def __init__(self, page):
        self.page = page
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))

    def _console(self, msg):
        if msg.type == "error":
            self.errors.append(f"console: {msg.text}")


@pytest.fixture(autouse=True)
def _demo_model_once(demo_model_once):
    """See tests/conftest.py: seed_demo's model is fitted once per run."""


@pytest.fixture(scope="session", autouse=True)
def _allow_sync_orm_beside_playwright():
    """Playwright's sync API runs an event loop in this thread; the live server, the test's
    own ORM calls and the database flush at teardown are ordinary synchronous Django code.
    Session-scoped so it is set before any database fixture and undone after the last."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    page.watch = PageWatch(page)
    yield page
    context.close()

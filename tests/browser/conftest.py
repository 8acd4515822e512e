"""Fixtures for browser tests: Chromium through Playwright's sync API, and a live server.

Plain Playwright fixtures, not the pytest-playwright plugin. One browser per
test session; every test gets a fresh context (clean storage, service workers
allowed) and page, and its own server on the test's temporary database.

When no Chromium can be found every browser test fails (never skips) with a
message saying what to install; see :func:`harness.find_chromium`.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import sync_playwright

from . import harness
from .server import LiveServer

# The text of the first statement of the ``site`` fixture.
SITE_BODY = "<p>Free Ana Petrova now. She reported what she saw in the square.</p>"


@pytest.fixture(scope="session")
def playwright():
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def chromium_executable(playwright) -> str:
    """The Chromium binary: CHROMIUM_PATH, /usr/bin/chromium, or Playwright's own."""
    path, tried = harness.find_chromium(playwright)
    if path is None:
        pytest.fail(harness.missing_chromium_message(tried), pytrace=False)
    return path


@pytest.fixture(scope="session")
def browser(playwright, chromium_executable):
    browser = playwright.chromium.launch(**harness.launch_options(chromium_executable))
    yield browser
    browser.close()


@pytest.fixture
def live_server(app, publisher):
    """The test's app over real HTTP: ``.url``, ``.hits``, ``.faults``, ``.stop()``/``.start()``..."""
    server = LiveServer(app, publisher)
    server.start()
    yield server
    server.close()


@pytest.fixture
def site(live_server):
    """Two published statements, one tagged; the live server serving them."""
    live_server.publisher.publish(
        "Release the journalist", SITE_BODY, slug="release", tags=["press"], summary="A journalist is held."
    )
    live_server.publisher.publish(
        "Water for the district", "<p>The pumps stopped on Monday.</p>", slug="water"
    )
    return live_server


@pytest.fixture
def new_context(browser, live_server):
    """Make another fresh context (``base_url`` is the live server); all are closed after the test."""
    made = []

    def make(**options):
        options.setdefault("base_url", live_server.url)
        options.setdefault("service_workers", "allow")
        context = browser.new_context(**options)
        made.append(context)
        return context

    yield make
    harness.stop_all_throttles()
    for context in made:
        context.close()


@pytest.fixture
def context(new_context):
    return new_context()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def page_errors(page):
    """Console errors, uncaught exceptions and CSP violations of ``page``: ``.assert_clean(allow=[...])``."""
    return harness.collect_errors(page)


@pytest.fixture
def installability(playwright, chromium_executable, tmp_path):
    """``installability(url, timeout=5)`` -> Chromium's installability error ids (``[]``: installable)."""
    count = 0

    def check(url: str, timeout: float = 5.0) -> list[str]:
        nonlocal count
        count += 1
        profile = tmp_path / f"profile-{count}"
        return harness.installability_errors(
            playwright, profile, url, executable_path=chromium_executable, timeout=timeout
        )

    return check


@pytest.fixture(autouse=True)
def _no_throttle_outlives_its_test():
    yield
    harness.stop_all_throttles()


@pytest.fixture
def offline_page(browser):
    """A page for opening files with no network at all: every request that is not a file is refused and recorded."""
    context = browser.new_context(offline=True)
    asked = []

    def refuse(route):
        asked.append(route.request.url)
        route.abort("internetdisconnected")

    context.route(re.compile(r"^(?!file:).*"), refuse)
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    errors = harness.collect_errors(page)
    yield page, asked, dialogs, errors
    context.close()

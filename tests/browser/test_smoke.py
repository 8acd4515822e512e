"""Smoke tests: the server-rendered pages in a real Chromium.

What readers get from the server-rendered pages: no console errors or CSP
violations, no accessibility violations in the light and dark palettes, and
reading without JavaScript. The harness these tests rely on is
proved in ``test_harness.py``.
"""

from __future__ import annotations

import re

import pytest

from .harness import axe_violations, format_axe

pytestmark = pytest.mark.browser

# path, HTTP status, text the page's <main> shows
PAGES = {
    "home": ("/", 200, "Release the journalist"),
    "statement": ("/statements/release/", 200, "Free Ana Petrova now."),
    "search": ("/search/?q=journalist", 200, "Release the journalist"),
    "missing": ("/statements/no-such-statement/", 404, "There is nothing at this address."),
}


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_without_errors(site, page, page_errors, name):
    path, status, text = PAGES[name]
    response = page.goto(path)
    assert response.status == status
    assert text in page.inner_text("main")
    # Chromium logs a document's own error status as a console error.
    allow = [rf"status of 404 .*\[{re.escape(site.url + path)}:"] if status == 404 else []
    page_errors.assert_clean(allow=allow)


@pytest.mark.parametrize("name", ["home", "statement", "search"])
def test_no_accessibility_violations(site, page, name):
    path, status, _ = PAGES[name]
    assert page.goto(path).status == status
    found = {}
    for scheme in ("light", "dark"):  # the stylesheet has a dark palette: check its contrast too
        page.emulate_media(color_scheme=scheme)
        violations = axe_violations(page)
        if violations:
            found[scheme] = format_axe(violations)
    assert not found, "\n".join(f"axe on {path} ({scheme}):\n{report}" for scheme, report in found.items())


def test_statement_is_readable_without_javascript(site, new_context):
    page = new_context(java_script_enabled=False).new_page()
    page.goto("/")
    page.click("text=Release the journalist")
    assert page.url == site.url + "/statements/release/"
    assert page.inner_text("article h1") == "Release the journalist"
    assert "Free Ana Petrova now." in page.inner_text("article")

"""The second factor in a real Chromium on a phone-sized screen: enrolment, recovery codes, the code step.

Codes are computed with pyotp from the key the page shows, at the app's
movable clock. Every page on the way is checked with axe and for sideways
scrolling at 360×740.
"""

from __future__ import annotations

import pyotp
import pytest
from editor_client import EMAIL, PASSWORD, add_editor

from .harness import axe_violations, collect_errors, format_axe

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}


def assert_fits_and_accessible(page) -> None:
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px at 360px"
    violations = axe_violations(page)
    assert not violations, f"{page.url}\n{format_axe(violations)}"


def log_in_with_password(page) -> None:
    page.goto("/editor/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():  # the page the login leads to, loaded before anyone reads it
        page.get_by_role("button", name="Log in", exact=True).click()


def test_enrol_then_log_in_with_a_code_and_manage_accounts(live_server, new_context, app):
    add_editor(live_server.app, role="admin")
    add_editor(live_server.app, "writer@example.org", role="writer")
    clock = app.config["CLOCK"]
    page = new_context(viewport=PHONE).new_page()
    errors = collect_errors(page)

    log_in_with_password(page)
    page.get_by_role("link", name="Second factor").click()
    assert page.get_by_role("img", name="QR code to scan with an authenticator app").is_visible()
    assert_fits_and_accessible(page)
    secret = page.inner_text("#secret").replace(" ", "")
    page.fill("#code", pyotp.TOTP(secret).at(int(clock.now.timestamp())))
    with page.expect_navigation():  # read the page the click leads to, not the one before
        page.get_by_role("button", name="Turn on the second factor").click()
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    assert_fits_and_accessible(page)
    with page.expect_navigation():  # read the page the click leads to, not the one before
        page.get_by_role("link", name="I have kept them: continue").click()
    assert page.url.endswith("/editor/")

    page.get_by_role("link", name="Accounts").click()
    assert_fits_and_accessible(page)
    page.get_by_role("button", name="Log out").click()

    clock.advance(30)
    log_in_with_password(page)
    assert page.url.endswith("/editor/login/code")
    assert_fits_and_accessible(page)
    page.fill("#code", "000000")
    with page.expect_navigation():  # read the page the click leads to, not the one before
        page.get_by_role("button", name="Log in", exact=True).click()
    assert "The code is wrong" in page.inner_text("[role=alert]")
    assert_fits_and_accessible(page)
    page.fill("#code", pyotp.TOTP(secret).at(int(clock.now.timestamp())))
    with page.expect_navigation():  # read the page the click leads to, not the one before
        page.get_by_role("button", name="Log in", exact=True).click()
    assert page.url.endswith("/editor/")
    with page.expect_navigation():  # read the page the click leads to, not the one before
        page.get_by_role("link", name="Second factor").click()
    assert "10 recovery codes are left." in page.inner_text("main")
    assert_fits_and_accessible(page)
    # The wrong code's 401 is the one answer the browser reports; nothing else may be.
    errors.assert_clean(allow=[r"status of 401 .*/editor/login/code"])

"""The editor's guard rails in a real Chromium with JavaScript on: the marked preview publishes, a
withdrawal waits for its confirmation and is undone, and a reader's device follows both; "Translate
this" shows the original beside the form on a laptop and above it on a phone."""

from __future__ import annotations

import pytest
from conftest import reconfigure
from editor_client import EMAIL, PASSWORD, add_editor

from . import harness
from .harness import collect_errors

pytestmark = pytest.mark.browser

TEXT = "The pumps stopped on Monday."


@pytest.fixture
def account(live_server):
    return add_editor(live_server.app)


@pytest.fixture
def editor_page(account, new_context):
    """A logged-in editor's page, JavaScript on."""
    page = new_context().new_page()
    page.goto("/editor/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    follow(page, page.get_by_role("button", name="Log in", exact=True))
    assert page.url.endswith("/editor/")
    return page


def follow(page, target) -> None:
    """Click ``target`` and wait for the page it leads to: what comes next reads that page."""
    with page.expect_navigation():
        target.click()


def banners(page) -> str:
    return " ".join(page.locator("main .banner").all_inner_texts())


def status_of(new_context, path: str) -> int:
    page = new_context(service_workers="block").new_page()
    status = page.goto(path).status
    page.context.close()
    return status


def device_record(page, statement_id: str, condition: str):
    """Poll the reader's device until its record of the statement meets ``condition`` (JS, on ``r``)."""
    return harness.poll(
        page,
        f"async () => {{ const r = await OfflineStore.get({statement_id!r}); return Boolean(r && ({condition})); }}",
        message=f"the device's record: {condition}",
    )


def no_violations(page, selector: str) -> None:
    violations = harness.axe_violations(page, context=selector)
    assert violations == [], harness.format_axe(violations)


def test_preview_publish_then_a_confirmed_withdrawal_undone_reaches_a_device(
    editor_page, new_context, live_server
):
    page = editor_page
    errors = collect_errors(page)
    page.goto("/editor/statements/new")
    page.fill("#title", "Water for the district")
    page.fill("#body", TEXT)
    page.fill("#slug", "water")
    follow(page, page.get_by_role("button", name="Save draft"))
    statement_id = page.url.rsplit("/", 1)[1]

    # The preview says it is not published, and publishes from there.
    follow(page, page.get_by_role("link", name="Preview", exact=True))
    assert page.inner_text(".preview-bar").startswith("Preview — not published")
    no_violations(page, ".preview-bar")
    follow(page, page.get_by_role("button", name="Publish", exact=True))
    assert page.url.endswith(f"/editor/statements/{statement_id}") and "Published" in banners(page)
    assert status_of(new_context, "/statements/water/") == 200

    # A reader's device holds it.
    device = new_context().new_page()
    harness.ready_offline(device)
    device.goto("/statements/water/")
    device_record(device, statement_id, "!r.withdrawn")

    # Withdrawing asks first; nothing changes until the editor confirms.
    page.fill("#reason", "Published by mistake.")
    follow(page, page.get_by_role("button", name="Withdraw this statement"))
    assert page.inner_text("h1") == "Withdraw “Water for the district”?"
    assert "Published by mistake." in page.inner_text("main")
    no_violations(page, "main")
    assert status_of(new_context, "/statements/water/") == 200
    follow(page, page.get_by_role("button", name="Yes, withdraw it"))
    assert "Withdrawn" in banners(page)
    assert status_of(new_context, "/statements/water/") == 410
    device.goto("/")  # a visit while online syncs
    device_record(device, statement_id, "r.withdrawn")

    # Undone: public again, and the device that synced the withdrawal gets it back.
    follow(page, page.get_by_role("button", name="Undo the withdrawal"))
    assert "Published again" in banners(page)
    assert status_of(new_context, "/statements/water/") == 200
    device.goto("/")
    device_record(device, statement_id, f"!r.withdrawn && r.article_html.includes({TEXT!r})")
    harness.go_offline(device.context)
    device.goto("/statements/water/")
    assert TEXT in device.inner_text("main") and "withdrawn" not in device.inner_text("main")

    page.goto("/editor/audit")
    assert "undid the withdrawal of" in page.inner_text("table")
    errors.assert_clean()


@pytest.mark.parametrize("width, height, beside", [(1280, 800, True), (360, 740, False)])
def test_translate_this_shows_the_original_beside_the_form(
    account, new_context, live_server, width, height, beside
):
    reconfigure(live_server.app, TIMEZONE="Asia/Kathmandu")
    original = live_server.publisher.publish("Release the journalist", f"<p>{TEXT}</p>", slug="release")
    page = new_context(viewport={"width": width, "height": height}).new_page()
    errors = collect_errors(page)
    page.goto("/editor/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    follow(page, page.get_by_role("button", name="Log in", exact=True))
    page.goto(f"/editor/statements/{original}")
    follow(page, page.get_by_role("link", name="Translate this"))

    source = page.locator("section.original").bounding_box()
    form = page.locator(".translating form").bounding_box()
    assert TEXT in page.inner_text("section.original")
    if beside:
        assert source["x"] + source["width"] <= form["x"] and abs(source["y"] - form["y"]) < 40
    else:
        assert source["y"] + source["height"] <= form["y"]
    no_violations(page, ".translating")

    # The picker takes a time in the site's zone, which the form names, and gives it back.
    assert "Asia/Kathmandu" in page.inner_text("label[for=published]")
    page.fill("#title", "Liberen al periodista")
    page.fill("#body", "Las bombas se detuvieron el lunes.")
    page.fill("#lang", "es")
    page.fill("#published", "2031-05-01T09:30")
    follow(page, page.get_by_role("button", name="Save draft"))
    assert "Saved." in banners(page)
    assert page.input_value("#published") == "2031-05-01T09:30"
    errors.assert_clean()

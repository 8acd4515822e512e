"""An editor in a real Chromium: create → preview → publish → correct → withdraw.

The editor works with JavaScript switched off (it must: scripts only
enhance), and after each step a fresh reader's browser checks what readers
get. Readers' contexts block service workers and start with an empty HTTP
cache, so they see exactly what the server now answers.
"""

from __future__ import annotations

import re

import pytest
from editor_client import EMAIL, PASSWORD, add_editor

from .harness import collect_errors

pytestmark = pytest.mark.browser


@pytest.fixture
def reader(new_context):
    """``reader(path)`` -> (status, text of <main>, the <article> HTML or None) in a fresh browser."""

    def visit(path: str):
        page = new_context(service_workers="block").new_page()
        response = page.goto(path)
        article = page.locator("article").first.inner_html() if page.locator("article").count() else None
        result = (response.status, page.inner_text("main"), article)
        page.context.close()
        return result

    return visit


@pytest.fixture
def account(live_server):
    """An editor account on the live server's database."""
    return add_editor(live_server.app)


@pytest.fixture
def editor_page(account, new_context):
    """A logged-in editor's page, JavaScript off."""
    page = new_context(java_script_enabled=False).new_page()
    page.goto("/editor/")
    assert "/editor/login?next=" in page.url
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    assert page.url.endswith("/editor/")
    return page


def banners(page) -> str:
    return " ".join(page.locator("main .banner").all_inner_texts())


def test_create_preview_publish_correct_withdraw(editor_page, reader):
    page = editor_page

    # Create a draft: saved, sanitized with a report, and nowhere public.
    page.get_by_role("link", name="Write a new statement").click()
    page.fill("#title", "Water for the district")
    page.fill("#body", "The pumps stopped on **Monday**.\n\n<script>alert('x')</script>")
    page.fill("#tags", "water")
    page.fill("#slug", "water")
    page.get_by_role("button", name="Save draft").click()
    assert "Saved." in banners(page)
    assert "The sanitizer removed: script element" in banners(page)
    edit_url = page.url
    assert reader("/statements/water")[0] == 404

    # Preview: the reader's page, under /editor/, never stored by a cache.
    page.get_by_role("link", name="Preview", exact=True).click()
    preview_url = page.url
    assert "/editor/statements/" in preview_url and preview_url.endswith("/preview")
    assert page.inner_text("article h1") == "Water for the district"
    assert page.locator("article strong").inner_text() == "Monday"
    assert page.locator("script:has-text('alert')").count() == 0
    assert page.goto(preview_url).headers["cache-control"] == "no-store"

    # Publish: readers see it at once.
    page.goto(edit_url)
    page.get_by_role("button", name=re.compile("^Publish")).click()
    assert "Published" in banners(page)
    status, text, article = reader("/statements/water")
    assert status == 200 and "The pumps stopped on Monday." in text
    assert "Updated" not in text
    assert "Water for the district" in reader("/")[1]
    page.goto(preview_url)
    assert page.locator("article").first.inner_html() == article  # the preview was the reader's page

    # Correct: readers see the new text, "Updated" and the note.
    page.goto(edit_url)
    page.fill("#body", "The pumps stopped on **Tuesday**.")
    page.fill("#correction_note", "The day was wrong.")
    page.get_by_role("button", name="Save and publish the correction").click()
    assert "Saved." in banners(page)
    status, text, _ = reader("/statements/water")
    assert status == 200 and "Tuesday" in text and "Monday" not in text
    assert "Updated" in text and "The day was wrong." in text

    # Withdraw: the page answers 410 with the reason; the list drops it.
    page.fill("#reason", "Published by mistake.")
    page.get_by_role("button", name="Withdraw this statement").click()
    assert "Withdrawn" in banners(page)
    status, text, _ = reader("/statements/water")
    assert status == 410 and "Published by mistake." in text
    assert "Water for the district" not in reader("/")[1]

    # The editor's home files it under withdrawn; the audit log has every step.
    page.goto("/editor/audit")
    log = page.inner_text("table")
    for action in ("created", "published", "corrected", "withdrew"):
        assert action in log


def test_editor_pages_are_clean_and_never_cached_by_the_worker(account, new_context):
    page = new_context().new_page()  # JavaScript on, service worker allowed
    errors = collect_errors(page)
    page.goto("/editor/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.get_by_role("link", name="Write a new statement").click()
    page.fill("#title", "Scripts only enhance")
    page.fill("#body", "Text.")
    page.get_by_role("button", name="Save draft").click()
    assert "Saved." in banners(page)
    errors.assert_clean()
    cached = page.evaluate(
        """async () => {
            const urls = [];
            for (const name of await caches.keys()) {
                for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
            }
            return urls;
        }"""
    )
    assert not [url for url in cached if "/editor" in url]

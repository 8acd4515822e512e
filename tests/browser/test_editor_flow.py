"""An editor in a real Chromium: create → preview → publish → correct → withdraw.

The editor works with JavaScript switched off (it must: scripts only
enhance), and after each step a fresh reader's browser checks what readers
get. Readers' contexts block service workers and start with an empty HTTP
cache, so they see exactly what the server now answers.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest
from conftest import reconfigure
from editor_client import EMAIL, PASSWORD, add_editor

from . import harness
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
    with page.expect_navigation():  # read the page the click leads to, not the one before
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
    with page.expect_navigation():  # read the page the click leads to, not the one before
        page.get_by_role("button", name="Save draft").click()
    assert "Saved." in banners(page)
    assert "Scripts were removed" in banners(page)
    edit_url = page.url
    assert reader("/statements/water/")[0] == 404

    # Preview: the reader's page, under /editor/, never stored by a cache.
    with page.expect_navigation():  # read the page the click leads to, not the one before
        page.get_by_role("link", name="Preview", exact=True).click()
    preview_url = page.url
    assert "/editor/statements/" in preview_url and preview_url.endswith("/preview")
    assert page.inner_text("article h1") == "Water for the district"
    assert page.locator("article strong").inner_text() == "Monday"
    assert page.locator("script:has-text('alert')").count() == 0
    assert page.goto(preview_url).headers["cache-control"] == "no-store"

    # Publish: readers see it at once.
    page.goto(edit_url)
    with page.expect_navigation():  # read the page the click leads to, not the one before
        page.get_by_role("button", name=re.compile("^Publish")).click()
    assert "Published" in banners(page)
    status, text, article = reader("/statements/water/")
    assert status == 200 and "The pumps stopped on Monday." in text
    assert "Updated" not in text
    assert "Water for the district" in reader("/")[1]
    page.goto(preview_url)
    # The preview was the reader's page, its relative links resolved as there (it has another address).
    resolved = re.sub(
        r'href="(\.[^"]*)"', lambda link: f'href="{urljoin("/statements/water/", link.group(1))}"', article
    )
    assert page.locator("article").first.inner_html() == resolved

    # Correct: readers see the new text, "Updated" and the note.
    page.goto(edit_url)
    page.fill("#body", "The pumps stopped on **Tuesday**.")
    page.fill("#correction_note", "The day was wrong.")
    with page.expect_navigation():  # read the page the click leads to, not the one before
        page.get_by_role("button", name="Save and publish the correction").click()
    assert "Saved." in banners(page)
    status, text, _ = reader("/statements/water/")
    assert status == 200 and "Tuesday" in text and "Monday" not in text
    assert "Updated" in text and "The day was wrong." in text

    # Withdraw: the page answers 410 with the reason; the list drops it.
    page.fill("#reason", "Published by mistake.")
    page.get_by_role("button", name="Withdraw this statement").click()
    assert reader("/statements/water/")[0] == 200  # not before it is confirmed
    with page.expect_navigation():  # read the page the click leads to, not the one before
        page.get_by_role("button", name="Yes, withdraw it").click()
    assert "Withdrawn" in banners(page)
    status, text, _ = reader("/statements/water/")
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
    with page.expect_navigation():  # read the page the click leads to, not the one before
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


DRAFT_TITLE = "Embargoed until Monday"
DRAFT_TEXT = "The plan nobody may read before Monday."


def editor_leftovers(contents: dict, *secrets: str) -> list[str]:
    """What of the editor a device holds: /editor/ addresses, and any of ``secrets`` anywhere.

    (The page script's own source names /editor/, to keep away from it: only
    addresses and stored records are searched for that.)
    """
    found = [url for url in contents["urls"] if url == "/editor" or url.startswith("/editor/")]
    found += [record[:120] for record in contents["records"] if '"/editor' in record]
    for text in contents["bodies"] + contents["records"]:
        found += [f"{secret!r} in {text[:80]!r}" for secret in secrets if secret in text]
    return found


def test_a_previewed_draft_never_reaches_the_editors_device(account, new_context, live_server):
    live_server.publisher.publish("Water for the district", "<p>The pumps stopped.</p>", slug="water")
    context = new_context()  # JavaScript on, the worker installed as on any reader's phone
    page = context.new_page()
    errors = collect_errors(page)
    harness.ready_offline(page)
    page.goto("/editor/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.get_by_role("link", name="Write a new statement").click()
    page.fill("#title", DRAFT_TITLE)
    page.fill("#body", DRAFT_TEXT)
    with page.expect_navigation():  # read the page the click leads to, not the one before
        page.get_by_role("button", name="Save draft").click()
    assert "Saved." in banners(page)
    draft_id = page.url.rsplit("/", 1)[1]
    with page.expect_navigation():  # read the page the click leads to, not the one before
        page.get_by_role("link", name="Preview", exact=True).click()
    assert page.url.endswith(f"/editor/statements/{draft_id}/preview")
    assert page.inner_text("article h1") == DRAFT_TITLE and DRAFT_TEXT in page.inner_text("article")
    assert page.evaluate("() => document.scripts.length") == 0
    page.reload()  # a second look changes nothing either

    # Back on a reader's page, whose script does run: once it has listed what
    # the device holds, nothing of the draft or of /editor/ may be there.
    page.goto("/offline/")
    harness.poll(page, "() => document.querySelectorAll('#offline-statements a').length === 1")
    assert DRAFT_TITLE not in page.inner_text("main")
    contents = harness.device_contents(page)
    assert contents["records"] and contents["urls"]
    assert editor_leftovers(contents, DRAFT_TITLE, DRAFT_TEXT, draft_id) == []
    errors.assert_clean()


def test_a_new_worker_removes_editor_entries_an_older_one_left(page, live_server, app):
    live_server.publisher.publish("Water for the district", "<p>The pumps stopped.</p>", slug="water")
    harness.ready_offline(page)
    page.goto("/statements/water/")
    harness.wait_for_cached(page, "/statements/water/")
    # What an earlier page script left after an editor's preview: the draft
    # stored as a statement under its /editor/ address, and a page kept there.
    preview = "/editor/statements/00000000-0000-4000-8000-000000000000/preview"
    page.evaluate(
        """async ([url, title, text]) => {
            const html = `<article class="statement" data-id="draft"><h1>${title}</h1><p>${text}</p></article>`;
            const cache = await caches.open(OfflineStore.PAGES_CACHE);
            await cache.put(url, new Response(html, {headers: {"Content-Type": "text/html"}}));
            await OfflineStore.putAll([{
                id: "00000000-0000-4000-8000-000000000000", revision: "r1", url, title, lang: "en", dir: "ltr",
                published: "2030-01-01", article_html: html, lastRead: Date.now(), pinned: false, withdrawn: false,
            }]);
        }""",
        [preview, DRAFT_TITLE, DRAFT_TEXT],
    )
    page.goto("/offline/")
    harness.poll(
        page, f"() => document.getElementById('offline-statements').textContent.includes({DRAFT_TITLE!r})"
    )
    assert editor_leftovers(harness.device_contents(page), DRAFT_TITLE)

    reconfigure(app, SITE_NAME="Second Build")  # a new deploy: a new worker
    page.reload()
    harness.accept_update(page)
    harness.poll(
        page,
        "async (url) => !(await OfflineStore.byUrl(url)) && !(await caches.match(url))",
        preview,
        message="the draft's record and page gone",
    )
    contents = harness.device_contents(page)
    assert editor_leftovers(contents, DRAFT_TITLE, DRAFT_TEXT) == []
    # Only what was the editor's went: the reader's statement and its page stay.
    assert "/statements/water/" in contents["urls"]
    assert page.evaluate("async () => !!(await OfflineStore.byUrl('/statements/water/'))")


def test_the_page_script_keeps_no_article_found_outside_a_statement_address(page, live_server):
    live_server.publisher.publish("Water for the district", "<p>The pumps stopped.</p>", slug="water")
    harness.ready_offline(page, "/offline/")
    # A statement's article on a page that is not /statements/<slug>, as the
    # preview of a draft was: the page script must not keep it.
    page.evaluate(
        """async (title) => {
            const article = document.createElement("article");
            article.className = "statement";
            Object.assign(article.dataset, {id: "not-public", revision: "r1"});
            article.innerHTML = `<h1>${title}</h1>`;
            document.querySelector("main").append(article);
            await Bulletin.enhanceStatement();
        }""",
        DRAFT_TITLE,
    )
    assert page.evaluate("async () => (await OfflineStore.all()).map((r) => r.url)") == ["/statements/water/"]
    assert page.locator(".offline-actions").count() == 0

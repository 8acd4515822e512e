"""Addresses on a device: the app mounted under a path prefix, and statements synced before addresses were folders.

Mounted under ``/news`` (WSGI ``SCRIPT_NAME``), as a static export under a
sub-path will be, nothing may step outside the prefix: every link, asset,
the worker and its scope, the manifest and the worker's route table are
under ``/news/``.
"""

from __future__ import annotations

import pytest
from conftest import reconfigure
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from . import harness
from .server import LiveServer

PREFIX = "/news"


@pytest.fixture
def mounted(app, publisher):
    """The app at ``/news`` of a live server whose root answers nothing else (404)."""
    server = LiveServer(DispatcherMiddleware(NotFound(), {PREFIX: app}), publisher)
    server.start()
    publisher.publish(
        "Release the journalist", "<p>Free Ana Petrova now.</p>", slug="release", tags=["press"]
    )
    publisher.publish(
        "Liberen a la periodista", "<p>Libérenla ya.</p>", lang="es", slug="liberen", translation_of="release"
    )
    publisher.publish("Water for the district", "<p>The pumps stopped on Monday.</p>", slug="water")
    yield server
    server.close()


def article_text(page) -> str:
    return page.inner_text("main article")


def test_the_app_mounted_under_a_prefix_installs_and_reads_offline(browser, mounted, installability):
    context = browser.new_context(base_url=mounted.url, service_workers="allow")
    try:
        page = context.new_page()
        errors = harness.collect_errors(page)
        harness.ready_offline(page, f"{PREFIX}/")  # first visit: installed, taken control, synced
        scope = page.evaluate("async () => (await navigator.serviceWorker.getRegistration()).scope")
        assert scope == f"{mounted.url}{PREFIX}/"
        assert page.evaluate("navigator.serviceWorker.controller.scriptURL") == f"{mounted.url}{PREFIX}/sw.js"
        links = page.eval_on_selector_all(
            ".statements a", "(links) => links.map((a) => a.getAttribute('href'))"
        )
        assert links and all(link.startswith(f"{PREFIX}/statements/") for link in links), links

        page.goto(f"{PREFIX}/statements/release/")  # opened: its page kept
        harness.wait_for_cached(page, f"{PREFIX}/statements/release/")
        harness.wait_for_cached(page, f"{PREFIX}/offline/shell/")
        errors.assert_clean()
        context.set_offline(True)

        page.goto(f"{PREFIX}/statements/release/")
        assert "Free Ana Petrova now." in article_text(page)
        page.click("nav.translations a[hreflang='es']")  # synced, never opened: built from the shell
        page.wait_for_url(f"**{PREFIX}/statements/liberen/")
        assert "Libérenla ya." in article_text(page)
        page.goto(f"{PREFIX}/statements/water/")
        assert "The pumps stopped on Monday." in article_text(page)

        page.goto(f"{PREFIX}/")  # the synced list, built on the device
        titles = page.locator(".statements h2").all_inner_texts()
        assert {"Release the journalist", "Water for the district"} <= set(titles)
        page.goto(f"{PREFIX}/tags/press/")
        assert page.locator(".statements h2").all_inner_texts() == ["Release the journalist"]
        page.goto(f"{PREFIX}/about/")  # precached
        assert page.locator("main h1").count() == 1
        # Another language's page script is kept once a page in it was shown online, as at the root.
        errors.assert_clean(allow=[r"/news/static/gen/page\.es\.\w+\.js"])
    finally:
        context.close()

    outside = [target for target in mounted.hits if not target.startswith(f"{PREFIX}/")]
    assert outside == [], outside
    assert installability(f"{mounted.url}{PREFIX}/") == []


def test_statements_synced_under_slashless_addresses_move_to_the_folders(page, live_server, app):
    publisher = live_server.publisher
    publisher.publish(
        "Release the journalist", "<p>Free Ana Petrova now.</p>", slug="release", tags=["press"]
    )
    publisher.publish("Water for the district", "<p>The pumps stopped on Monday.</p>", slug="water")
    harness.ready_offline(page)
    # As a device synced by an earlier worker holds them: slashless addresses, root-relative links, no envelope.
    page.evaluate(
        """async () => {
          const all = await OfflineStore.all();
          await OfflineStore.putAll(all.map((r) => ({ ...r, url: r.url.slice(0, -1), signed: undefined,
            article_html: r.article_html.replace('href="../../tags/press/"', 'href="/tags/press"') })));
        }"""
    )
    reconfigure(app, SITE_NAME="Second Build")  # a new build: a new worker
    page.reload()
    harness.accept_update(page)
    harness.poll(
        page,
        """async () => { const all = await OfflineStore.all();
          return all.length === 2 && all.every((r) => r.url.endsWith("/") && !r.article_html.includes('"/tags/press"')); }""",
        message="the statements moved to their folders, their articles synced afresh",
    )
    page.context.set_offline(True)
    page.goto("/statements/water/")  # never opened: built from its moved record
    assert "The pumps stopped on Monday." in article_text(page)


def test_the_reader_s_language_choice_works_under_the_prefix(browser, mounted):
    context = browser.new_context(base_url=mounted.url)
    try:
        page = context.new_page()
        page.goto(f"{PREFIX}/")
        with page.expect_navigation():
            page.click("nav.languages a[lang=ru]")
        assert page.url == f"{mounted.url}{PREFIX}/ru/"
        page.goto(f"{PREFIX}/")  # the home sends this reader on to Russian, under the prefix
        page.wait_for_url(f"{mounted.url}{PREFIX}/ru/")
        assert page.get_attribute('link[rel="manifest"]', "href") == f"{PREFIX}/ru/manifest.webmanifest"
        page.goto(f"{PREFIX}/statements/water/")  # an English statement: its links lead to Russian pages
        assert page.get_attribute("a.brand", "href") == f"{PREFIX}/ru/"
        assert page.get_attribute("form.search", "action") == f"{PREFIX}/ru/search/"
        assert page.get_attribute("footer a[href$='/offline/']", "href") == f"{PREFIX}/ru/offline/"
    finally:
        context.close()

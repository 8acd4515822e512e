"""The reader's offline experience, in a real Chromium against a live server.

Every test starts from a clean browser context (no worker, empty storage)
and its own server and database. "Served from the device" is proved with the
server stopped: the content still appears although no server could answer
(an emulated offline context alone could never show a request reaching the
server, so the recorder is no proof there). The kill switch has its own file,
``test_kill_switch.py``.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from conftest import reconfigure

from . import harness

pytestmark = pytest.mark.browser

OFFLINE_TEXT = "Offline:"


def publish_some(server, count: int = 3) -> list[str]:
    """Publish ``count`` statements, newest last; return their slugs."""
    slugs = []
    for n in range(count):
        server.publisher.publish(
            f"Statement {n}",
            f"<p>Text of statement number {n}.</p>",
            slug=f"s{n}",
            published=dt.date(2022, 1, n + 1),
        )
        slugs.append(f"s{n}")
    return slugs


def status_text(page) -> str:
    return page.evaluate("() => document.getElementById('app-status').textContent")


def stored_ids(page) -> list[str]:
    return page.evaluate("async () => (await OfflineStore.all()).map((r) => r.id)")


def main_text(page) -> str:
    """The text of the page's main content (the statement, the list...)."""
    return page.inner_text("main")


def article_text(page) -> str:
    return page.inner_text("article")


def served_text(page) -> str:
    """The page's whole visible text, less what the page script adds (banners, buttons)."""
    return page.evaluate(
        "() => { const body = document.body.cloneNode(true);"
        " body.querySelectorAll('#app-status, #offline-banner, .offline-actions').forEach((n) => n.remove());"
        " return body.textContent.replace(/\\s+/g, ' ').trim(); }"
    )


def banner(page) -> dict:
    """The offline line: hidden or not, and its text (less its Hide button)."""
    return page.evaluate(
        "() => { const b = document.getElementById('offline-banner'); const t = b.querySelector('.banner-text');"
        " return {hidden: b.hidden, text: t ? t.textContent : ''}; }"
    )


def test_first_visit_installs_the_worker_and_syncs(page, live_server, page_errors):
    publish_some(live_server)
    harness.ready_offline(page)
    assert len(stored_ids(page)) == 3
    assert live_server.hits_for("/sw.js") and live_server.hits_for("/sync/index.json")
    keys = page.evaluate("async () => await caches.keys()")
    assert [k for k in keys if k.startswith("bulletin-precache-")]
    page_errors.assert_clean()


def test_offline_reload_of_an_opened_statement_is_served_from_the_device(
    context, page, live_server, page_errors
):
    publish_some(live_server)
    harness.ready_offline(page)
    page.goto("/statements/s1/")
    online_text = article_text(page)
    harness.wait_for_cached(page, "/statements/s1/")
    harness.go_offline(context)
    live_server.stop()  # the statement cannot come from the server, whatever the emulation lets through
    page.reload()
    assert article_text(page) == online_text
    page_errors.assert_clean()


def test_a_synced_statement_never_opened_renders_from_the_shell(context, page, live_server, new_context):
    publish_some(live_server)
    live_server.publisher.publish(
        "Заявление",
        "<p>Текст заявления.</p>",
        lang="ru",
        slug="zayavlenie",
        published=dt.date(2022, 2, 1),
        tags=["x"],
    )
    harness.ready_offline(page)
    harness.go_offline(context)
    live_server.stop()  # built on the device: the server could not have answered
    page.goto("/statements/zayavlenie/")
    # Built on the device, the page also says who signed the record it holds, in its interface language.
    signed_by = page.evaluate("() => document.querySelector('.signed-by').textContent")
    assert signed_by.startswith("Подписано ключом ")
    offline = {
        "title": page.title(),
        "text": served_text(page).replace(f" {signed_by}", ""),
        "lang": page.get_attribute("article", "lang"),
    }
    # The same page served by the server to a browser with no worker at all.
    live_server.start()
    fresh = new_context(service_workers="block").new_page()
    fresh.goto("/statements/zayavlenie/")
    served = {
        "title": fresh.title(),
        "text": served_text(fresh),
        "lang": fresh.get_attribute("article", "lang"),
    }
    assert offline == served
    assert page.evaluate("() => document.querySelector('meta[http-equiv]') === null")


def test_unknown_url_offline_shows_what_is_available(context, page, live_server):
    publish_some(live_server)
    harness.ready_offline(page)
    harness.go_offline(context)
    page.goto("/nowhere/at/all")
    harness.poll(page, "() => document.querySelectorAll('#offline-statements a').length === 3")
    links = page.evaluate(
        "() => [...document.querySelectorAll('#offline-statements a')].map(a => a.getAttribute('href'))"
    )
    assert links == ["/statements/s2/", "/statements/s1/", "/statements/s0/"]  # newest first
    page.click("#offline-statements a[href='/statements/s0/']")
    page.wait_for_url("**/statements/s0/")
    assert "Text of statement number 0." in main_text(page)


def test_banner_says_what_is_on_the_device_and_hides_online(context, page, live_server):
    publish_some(live_server, 2)
    harness.ready_offline(page)
    assert banner(page)["hidden"]
    harness.go_offline(context)
    harness.poll(page, "() => !document.getElementById('offline-banner').hidden")
    assert banner(page)["text"] == "Offline: 2 statements on this device."
    harness.go_online(context)
    harness.poll(page, "() => document.getElementById('offline-banner').hidden")


def test_a_stale_offline_word_from_the_worker_never_shows_the_banner_online(context, page, live_server):
    publish_some(live_server, 2)
    harness.ready_offline(page)
    # The next visit's sync leaves while online and is held at the server while
    # the device goes offline and back online; then its connection drops, so
    # the worker's "offline" reaches the page after the page's own "online"
    # (the sync's fallback to /api/sync finds no connection either).
    held = live_server.faults.stall(1, path="/sync/index.json", then="drop")
    live_server.faults.fail(path="/api/sync", drop=True)
    page.add_init_script(
        "window.heard = [];"
        " navigator.serviceWorker.addEventListener('message', (e) => window.heard.push(e.data));"
    )
    page.reload()
    held.wait_until_held()
    harness.go_offline(context)
    harness.poll(page, "() => !document.getElementById('offline-banner').hidden")
    harness.go_online(context)
    harness.poll(page, "() => document.getElementById('offline-banner').hidden")
    page.evaluate(
        "() => { window.shown = 0; const b = document.getElementById('offline-banner');"
        " new MutationObserver(() => { if (!b.hidden) window.shown += 1; }).observe(b, {attributes: true}); }"
    )
    held.release()
    harness.poll(
        page,
        "() => heard.some((m) => m.type === 'network' && !m.online)",
        message="the worker's 'offline' after the dropped sync",
    )
    # The truth is that the connection works: the worker must come to say so,
    # and the reader must never have been told otherwise meanwhile.
    harness.poll(
        page,
        "() => document.getElementById('offline-banner').hidden"
        " && heard.slice(heard.findIndex((m) => m.type === 'network' && !m.online))"
        ".some((m) => m.type === 'network' && m.online)",
        message="the banner hidden, once the worker has said it is online again",
    )
    assert page.evaluate("() => window.shown") == 0, "the banner was shown while the connection worked"


def test_banner_singular_and_empty_device(context, page, live_server):
    live_server.publisher.publish("Only one", slug="one")
    harness.ready_offline(page)
    harness.go_offline(context)
    harness.poll(page, "() => !document.getElementById('offline-banner').hidden")
    assert banner(page)["text"] == "Offline: 1 statement on this device."


def test_server_stopped_while_device_online(page, live_server, page_errors):
    publish_some(live_server)
    harness.ready_offline(page)
    page.goto("/statements/s2/")
    harness.wait_for_cached(page, "/statements/s2/")
    live_server.stop()
    page.goto("/statements/s2/")
    assert "Text of statement number 2." in main_text(page)
    page.goto("/statements/s0/")  # synced, never opened: from the shell
    assert "Text of statement number 0." in main_text(page)
    harness.poll(
        page,
        "() => !document.getElementById('offline-banner').hidden",
        message="the banner after a failed request while navigator.onLine",
    )
    assert banner(page)["text"].startswith(OFFLINE_TEXT)
    page_errors.assert_clean(allow=["net::ERR_CONNECTION_REFUSED", "Failed to load resource"])


def test_withdrawn_and_corrected_statements_change_on_the_device(context, page, live_server):
    ids = [live_server.publisher.publish(f"S{n}", f"<p>Original {n}.</p>", slug=f"s{n}") for n in range(2)]
    harness.ready_offline(page)
    page.goto("/statements/s0/")
    harness.wait_for_cached(page, "/statements/s0/")
    live_server.publisher.revise(ids[0], title="S0", body="<p>Corrected text.</p>", correction_note="Fixed.")
    live_server.publisher.withdraw(ids[1], reason="Issued in error.")
    page.goto("/")  # a visit while online syncs
    harness.poll(
        page, f"async () => {{ const r = await OfflineStore.get({ids[1]!r}); return r && r.withdrawn; }}"
    )
    harness.poll(
        page,
        "async () => !(await caches.match('/statements/s0/'))",
        message="the stale copy of the corrected page is gone",
    )
    harness.go_offline(context)
    page.goto("/statements/s0/")
    assert "Corrected text." in main_text(page) and "Original 0." not in main_text(page)
    page.goto("/statements/s1/")
    assert "This statement has been withdrawn" in main_text(page) and "Issued in error." in main_text(page)
    assert "Original 1." not in main_text(page)
    page.goto("/offline/")
    harness.poll(
        page,
        "() => document.querySelector('#offline-statements') && "
        "document.querySelector('#offline-statements').textContent.includes('Withdrawn')",
    )


def test_a_new_translation_is_linked_from_the_original_on_the_device_offline(context, page, live_server):
    live_server.publisher.publish("Release the journalist", "<p>Free her now.</p>", slug="release")
    harness.ready_offline(page)
    page.goto("/statements/release/")  # opened: its page is kept as well as its record
    harness.wait_for_cached(page, "/statements/release/")
    assert page.locator("nav.translations").count() == 0
    live_server.publisher.publish(
        "Liberen a la periodista", "<p>Libérenla ya.</p>", lang="es", slug="liberen", translation_of="release"
    )
    page.goto("/")  # a visit while online syncs
    harness.poll(
        page,
        "async () => { const r = await OfflineStore.byUrl('/statements/release/');"
        " return r && r.article_html.includes('href=\"../liberen/\"'); }",
        message="the original's record with the new translation's link",
    )
    # Sync writes the record, then settles the kept page: wait for both.
    harness.poll(
        page,
        "async () => { const kept = await caches.match('/statements/release/');"
        " return !kept || (await kept.text()).includes('href=\"../liberen/\"'); }",
        message="no page kept for the original without the link",
    )
    harness.go_offline(context)
    live_server.stop()  # from the device: the server could not have answered
    page.goto("/statements/release/")
    assert "Free her now." in article_text(page)
    link = page.locator("nav.translations a[hreflang='es']")
    assert link.inner_text() == "Español" and link.get_attribute("title") == "Liberen a la periodista"
    assert link.get_attribute("href") == "../liberen/"
    page.goto("/statements/liberen/")  # synced, never opened: built from the shell, linking back
    assert "Libérenla ya." in article_text(page)
    assert page.locator("nav.translations a[hreflang='en']").get_attribute("href") == "../release/"


def test_new_statements_are_announced_but_corrections_are_not(page, live_server):
    ids = [live_server.publisher.publish("First", slug="first")]
    harness.ready_offline(page)
    live_server.publisher.revise(ids[0], title="First", body="<p>Fixed.</p>")
    live_server.publisher.publish("Second", slug="second")
    live_server.publisher.publish("Third", slug="third")
    page.goto("/")
    harness.poll(
        page, "() => document.getElementById('app-status').textContent.includes('2 new statements.')"
    )


def test_lists_mark_what_is_available_offline(page, live_server):
    publish_some(live_server, 2)
    harness.ready_offline(page)
    page.goto("/")
    harness.poll(page, "() => document.querySelectorAll('.offline-mark').length === 2")


def test_save_for_offline_pins_the_statement(context, page, live_server):
    publish_some(live_server, 2)
    harness.ready_offline(page)
    page.goto("/statements/s0/")
    page.click("text=Save for offline")
    harness.poll(
        page, "async () => (await OfflineStore.get(document.querySelector('article').dataset.id)).pinned"
    )
    assert page.get_attribute(".offline-actions button", "aria-pressed") == "true"
    harness.go_offline(context)
    page.goto("/offline/")
    harness.poll(page, "() => document.querySelectorAll('#saved-statements a').length === 1")
    assert page.get_attribute("#saved-statements a", "href") == "/statements/s0/"


def test_save_data_keeps_only_what_the_reader_opens(context, page, live_server):
    publish_some(live_server, 3)
    context.new_cdp_session(page).send("Emulation.setDataSaverOverride", {"dataSaverEnabled": True})
    # One first visit: a second navigation before the first sync ends would
    # be a second visit, which is not told "Ready to read offline".
    harness.ready_offline(page)
    assert page.evaluate("() => navigator.connection.saveData") is True
    assert stored_ids(page) == []
    page.goto("/statements/s1/")
    harness.poll(page, "async () => (await OfflineStore.all()).length === 1")
    harness.go_offline(context)
    page.goto("/statements/s1/")
    assert "Text of statement number 1." in main_text(page)
    page.goto("/statements/s0/")  # never opened: not on the device
    assert page.title().startswith("Readable offline")


def test_editor_and_search_never_enter_a_cache(page, live_server):
    publish_some(live_server, 1)
    harness.ready_offline(page)
    page.goto("/search/?q=statement")
    page.goto("/statements/s0/")
    harness.wait_for_cached(page, "/statements/s0/")
    page.goto("/editor/", wait_until="commit")
    urls = page.evaluate(
        "async () => { const out = []; for (const name of await caches.keys()) {"
        " const cache = await caches.open(name); for (const r of await cache.keys()) {"
        " const url = new URL(r.url); out.push(url.pathname + url.search); } }"
        " return out; }"
    )
    # The search page without a query and the search script are precached (the device's own
    # search); a search the reader made never is.
    allowed = re.compile(
        r"^(/static/gen/(page\.(\w+\.)?|about\.|search\.|offline\.|install\.)\w+\.js|/static/icons/icon-192\.png|/favicon\.ico|"
        r"/manifest\.webmanifest|/offline/|/offline/shell/|/offline/list-shell/|/offline/tag-shell/|/offline/bundle-shell/|/about/|/search/|/|/statements/[^/?]+/)$"
    )
    assert urls and not [url for url in urls if not allowed.match(url)], urls
    assert not any(url.startswith("/editor") or url.startswith("/search/?") for url in urls)


def test_slow_link_never_leaves_a_blank_page_and_falls_back_to_the_copy(context, page, live_server, app):
    reconfigure(app, NETWORK_TIMEOUT=0.5)
    publish_some(live_server, 2)
    harness.ready_offline(page)
    page.goto("/statements/s1/")
    harness.wait_for_cached(page, "/statements/s1/")
    rule = live_server.faults.stall(path="/statements/s1/", timeout=10)
    page.goto("/statements/s1/")  # the network hangs; the copy answers after the timeout
    assert "Text of statement number 1." in main_text(page)
    rule.release()


def test_2g_link_first_visit_is_complete(page, live_server, page_errors):
    publish_some(live_server, 3)
    live_server.slow_link(latency_ms=400, kbps=280)
    page.goto("/statements/s1/", timeout=60_000)
    assert "Text of statement number 1." in main_text(page)
    harness.wait_for_controller(page, timeout=60)
    harness.poll(
        page, "() => document.getElementById('app-status').textContent.includes('Ready')", timeout=60
    )
    page_errors.assert_clean()


def test_flaky_server_sync_completes_without_duplicates(page, live_server, app):
    reconfigure(app, SYNC_LIMIT=2)
    # No sync files here: the worker pages through /api/sync.
    live_server.stub("/sync/index.json", "{}", "application/json", status=404)
    publish_some(live_server, 2)
    harness.ready_offline(page)
    for n in range(2, 9):
        live_server.publisher.publish(f"Later {n}", f"<p>Later {n}.</p>", slug=f"later{n}")
    # The second and fourth sync pages fail (one answers 503, one drops the connection).
    live_server.faults.fail({2}, path="/api/sync", status=503)
    live_server.faults.fail({4}, path="/api/sync", drop=True)
    for _ in range(4):  # each visit asks for a sync and resumes from the stored cursor
        page.goto("/")
        harness.poll(page, "async () => !!(await OfflineStore.getMeta('cursor'))")
    harness.poll(
        page,
        "async () => (await OfflineStore.all()).length === 9",
        timeout=20,
        message="all 9 statements on the device",
    )
    ids = stored_ids(page)
    assert len(ids) == len(set(ids)) == 9


def test_cursor_from_another_database_starts_again(page, live_server, tmp_path):
    publish_some(live_server, 2)
    harness.ready_offline(page)
    page.evaluate("async () => OfflineStore.setMeta('cursor', 'v1.000000000000.5')")
    live_server.publisher.publish("After", slug="after")
    page.goto("/")
    harness.poll(page, "async () => !!(await OfflineStore.byUrl('/statements/after/'))")
    assert page.evaluate("async () => await OfflineStore.getMeta('cursor')").startswith("v1.")


def random_text(seed: int, words: int) -> str:
    """Text that does not compress, so it really takes room on the device."""
    import random

    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    return " ".join("".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(words))


def test_full_storage_keeps_reading_going_and_tells_the_reader(context, page, live_server):
    publish_some(live_server, 6)
    live_server.publisher.publish(
        "Big", f"<p>{random_text(1, 6000)}</p>", slug="big", published=dt.date(2021, 1, 1)
    )
    harness.ready_offline(page)
    before = len(stored_ids(page))
    session = context.new_cdp_session(page)
    usage = session.send("Storage.getUsageAndQuota", {"origin": live_server.url})["usage"]
    # Room for less than the big page: storing it in the page cache must fail.
    session.send("Storage.overrideQuotaForOrigin", {"origin": live_server.url, "quotaSize": usage + 10_000})
    page.goto("/statements/big/")
    assert "Big" in page.inner_text("article h1")  # reading goes on
    harness.poll(
        page,
        "() => document.getElementById('app-status').textContent.includes('Storage on this device is full.')",
        message="the reader told that storage is full",
    )
    assert re.search(r"\d+ statements? (was|were) removed", status_text(page))
    assert len(stored_ids(page)) < before
    session.send("Storage.overrideQuotaForOrigin", {"origin": live_server.url})
    session.detach()


def test_update_flow_across_two_builds(page, live_server, app, page_errors):
    publish_some(live_server, 1)
    harness.ready_offline(page)
    first_caches = page.evaluate("async () => await caches.keys()")
    reconfigure(app, SITE_NAME="Second Build")  # changes the offline page, so the precache and /sw.js
    page.reload()
    harness.accept_update(page)
    harness.poll(page, "async () => (await caches.keys()).some((k) => k.startsWith('bulletin-precache-'))")
    second_caches = page.evaluate("async () => await caches.keys()")
    old = [k for k in first_caches if k.startswith("bulletin-precache-")]
    assert old and not set(old) & set(second_caches)
    assert live_server.hits_for("/sw.js")
    page_errors.assert_clean()


def test_manifest_makes_the_app_installable(installability, live_server):
    assert installability(live_server.url + "/") == []


@pytest.mark.parametrize("path", ["/", "/statements/s0/", "/offline/", "/search/?q=statement"])
def test_pages_have_no_accessibility_violations(page, live_server, path):
    publish_some(live_server, 2)
    harness.ready_offline(page, path)
    violations = harness.axe_violations(page)
    assert violations == [], harness.format_axe(violations)


def test_no_errors_on_any_page_online_or_offline(context, page, live_server, page_errors):
    publish_some(live_server, 2)
    withdrawn = live_server.publisher.publish("Gone", slug="gone")
    live_server.publisher.withdraw(withdrawn, reason="Issued in error.")
    harness.ready_offline(page)
    online = [
        "/",
        "/statements/s0/",
        "/tags/nothing/",
        "/search/?q=text",
        "/offline/",
        "/feed.atom",
        "/statements/gone/",
    ]
    for path in online:
        page.goto(path)
    harness.go_offline(context)
    for path in ["/", "/statements/s0/", "/statements/s1/", "/nowhere", "/offline/"]:
        page.goto(path)
        assert page.inner_text("main").strip(), f"blank page offline at {path}"
    # Expected failures, asserted as such: the unknown tag (404) and the withdrawn statement (410).
    page_errors.assert_clean(allow=[r"status of 404", r"status of 410"])


def test_a_browser_without_service_workers_reads_and_reconnects_without_errors(
    context, page, live_server, page_errors
):
    # Browsers without service workers (an insecure origin, some private
    # windows) have no navigator.serviceWorker at all.
    context.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'serviceWorker', {get: () => undefined});"
    )
    publish_some(live_server, 1)
    page.goto("/statements/s0/")
    assert page.evaluate("() => navigator.serviceWorker") is None
    harness.poll(page, "() => !!document.querySelector('.offline-actions button')", message="the Save button")
    harness.go_offline(context)
    harness.poll(
        page, "() => !document.getElementById('offline-banner').hidden", message="the offline banner"
    )
    harness.go_online(context)
    harness.poll(
        page, "() => document.getElementById('offline-banner').hidden", message="the banner hidden again"
    )
    page_errors.assert_clean()

"""The kill switch in a real Chromium: what a reader's browser is left with.

A reader has the normal worker: it installed, precached, synced the
statements into IndexedDB and controls the page. Then the server starts
serving the kill switch (``BULLETIN_SW_KILL_SWITCH=1``). Once the browser
checks for an update, Bulletin's caches, stored statements and worker are
gone, the open page is reloaded, and pages come from the network only: with
the server stopped, one the old worker would have built on the device fails
to load.
"""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import reconfigure

from . import harness

pytestmark = pytest.mark.browser

# Counts the worker's "synced" messages in every document of the context, so
# a test can wait until a sync has finished writing before it goes on.
COUNT_SYNCS = """
window.bulletinSyncs = 0;
if (navigator.serviceWorker) {
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data && event.data.type === "synced") window.bulletinSyncs += 1;
  });
}
"""

BULLETIN_CACHES = "async () => (await caches.keys()).filter((name) => name.startsWith('bulletin-')).sort()"
REGISTRATIONS = "async () => (await navigator.serviceWorker.getRegistrations()).length"
STORED_IDS = "async () => (await OfflineStore.all()).map((record) => record.id).sort()"


def wait_for_sync(page) -> None:
    """Wait until the worker has finished the sync this page asked for."""
    harness.poll(page, "() => window.bulletinSyncs > 0", message="the worker's 'synced' message")


def test_kill_switch_removes_the_worker_and_everything_it_kept(context, page, live_server, app):
    ids = sorted(
        live_server.publisher.publish(
            f"Statement {n}",
            f"<p>Text of statement number {n}.</p>",
            slug=f"s{n}",
            published=dt.date(2022, 1, n + 1),
        )
        for n in range(3)
    )
    context.add_init_script(COUNT_SYNCS)

    # The normal worker: installed, precached, synced, controlling the page.
    page.goto("/")
    harness.wait_for_controller(page)
    wait_for_sync(page)
    page.goto("/statements/s1/")  # opened: its page is kept in the worker's page cache
    harness.wait_for_cached(page, "/statements/s1/")
    wait_for_sync(page)
    page.goto("/")
    harness.wait_for_controller(page)
    wait_for_sync(page)  # no sync still writing while the kill switch clears
    kept = page.evaluate(BULLETIN_CACHES)
    assert "bulletin-pages-v1" in kept and any(name.startswith("bulletin-precache-") for name in kept), kept
    assert page.evaluate(STORED_IDS) == ids
    assert page.evaluate(REGISTRATIONS) == 1

    # The server now serves the kill switch; the browser checks for an update.
    reconfigure(app, SW_KILL_SWITCH=True)
    live_server.clear_hits()
    page.evaluate("() => { window.openedBeforeTheKillSwitch = true; }")
    page.evaluate("() => { navigator.serviceWorker.getRegistration().then((r) => r.update()); }")

    # The worker reloads the open page, from the network.
    harness.poll(
        page,
        "() => !window.openedBeforeTheKillSwitch && document.readyState === 'complete'",
        timeout=20,
        message="the open page reloaded by the kill switch",
    )
    navigations = [hit for hit in live_server.requests if hit.headers.get("sec-fetch-mode") == "navigate"]
    assert [hit.target for hit in navigations] == ["/"], live_server.hits

    # Nothing of Bulletin's is left on the device.
    harness.poll(
        page,
        f"async () => (await ({REGISTRATIONS})()) === 0",
        timeout=20,
        message="no service worker registration left",
    )
    assert page.evaluate("() => navigator.serviceWorker.controller === null")
    assert page.evaluate(BULLETIN_CACHES) == []
    assert page.evaluate(STORED_IDS) == []

    # Pages now come from the network: the server sees them...
    live_server.clear_hits()
    response = page.goto("/statements/s2/")
    assert response.ok and not response.from_service_worker
    assert "Text of statement number 2." in page.inner_text("article")
    assert live_server.hits_for("/statements/s2/") == ["/statements/s2/"]

    # ...and without it they do not load. s0 was synced but never fetched by
    # the browser, so no HTTP cache holds it: the old worker would have built
    # it on the device from the shell and the stored statement.
    live_server.stop()
    assert "ERR_CONNECTION_REFUSED" in harness.goto_fails(page, "/statements/s0/")

"""The test harness itself, in a real Chromium: so that a failure here points at
the harness, not at the app.

The request recorder, stopping and restarting the live server, fault
injection, slow links, the error collector, the axe helper, CDP throttling of
a service worker and the installability check, proved against the app's
server-rendered pages or stub responses. The app's own pages and worker are
tested in ``test_smoke.py``, ``test_offline.py`` and ``test_kill_switch.py``.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Error as PlaywrightError

from .harness import (
    axe_violations,
    cdp_throttle,
    format_axe,
    go_offline,
    go_online,
    goto_fails,
    poll,
    wait_for_cached,
    wait_for_controller,
    wait_until,
)

pytestmark = pytest.mark.browser


def test_recorder_sees_what_the_page_requests(site, page):
    site.clear_hits()
    page.goto("/statements/release/")
    first = site.requests[0]
    assert (first.method, first.target, first.status) == ("GET", "/statements/release/", 200)
    assert first.headers["sec-fetch-mode"] == "navigate"
    assert site.hits_for("/static/gen/page.*.js")


def test_server_stops_and_starts_again_on_the_same_port(site, new_context):
    page = new_context(service_workers="block").new_page()
    url = site.url
    assert page.goto("/").ok
    site.stop()
    site.clear_hits()
    assert "ERR_CONNECTION_REFUSED" in goto_fails(page, "/statements/release/")
    assert site.hits == []
    site.start()
    assert site.url == url
    assert page.goto("/statements/release/").ok
    assert "Free Ana Petrova now." in page.inner_text("article")


def test_error_collector_sees_console_errors_exceptions_and_csp_violations(site, page, page_errors):
    page.goto("/")
    page.evaluate("""() => {
        console.error('deliberate console error');
        setTimeout(() => { throw new Error('deliberate uncaught error'); });
        const inline = document.createElement('script');
        inline.textContent = 'document.title = "injected"';
        document.body.append(inline);
    }""")
    wait_until(
        page, lambda: page_errors.page_errors and page_errors.csp_violations, message="the errors reported"
    )
    assert page.title() != "injected"  # the CSP blocked the inline script
    assert page_errors.csp_violations[0]["directive"] == "script-src-elem"
    with pytest.raises(AssertionError, match="deliberate console error"):
        page_errors.assert_clean()
    page_errors.assert_clean(allow=["deliberate", "script-src", "Content Security Policy"])


def test_axe_helper_reports_violations_under_the_page_csp(site, page):
    page.goto("/")
    page.emulate_media(color_scheme="light")
    # A CSSOM change is not an inline style: the CSP allows it. Pale grey on the near-white page.
    page.evaluate("() => { document.querySelector('main h1').style.color = '#cccccc'; }")
    violations = axe_violations(page)
    assert [v["id"] for v in violations] == ["color-contrast"]
    assert "h1" in format_axe(violations)


def test_axe_helper_refuses_a_page_without_javascript(site, new_context):
    page = new_context(java_script_enabled=False).new_page()
    page.goto("/statements/release/")
    with pytest.raises(RuntimeError, match="JavaScript disabled"):
        axe_violations(page)  # refused at once, rather than hanging on timers that never fire


def test_faults_fail_and_drop_chosen_requests(site, new_context):
    page = new_context(service_workers="block").new_page()
    failing = site.faults.fail(2, path="/statements/*/")
    assert page.goto("/statements/release/").status == 200
    assert page.goto("/statements/water/").status == 503
    assert page.goto("/statements/water/").status == 200
    assert failing.count == 1

    site.faults.fail(path="/statements/release/", drop=True)
    site.clear_hits()
    with pytest.raises(PlaywrightError, match="ERR_EMPTY_RESPONSE"):
        page.goto("/statements/release/?fresh")  # a new URL: the HTTP cache holds the old one
    # Chromium may retry once a request whose connection closed without an answer.
    assert site.hits_for("/statements/release/") in (["/statements/release/?fresh"] * n for n in (1, 2))


def test_stall_holds_a_response_until_released(site, new_context):
    page = new_context(service_workers="block").new_page()
    page.goto("/")
    stall = site.faults.stall(path="/api/statements")
    page.evaluate("""() => {
        window.answer = null;
        fetch('/api/statements').then((r) => { window.answer = r.status; });
    }""")
    stall.wait_until_held()
    assert page.evaluate("window.answer") is None
    stall.release()
    assert poll(page, "window.answer") == 200

    bounded = site.faults.stall(path="/api/sync", timeout=0.3, then=503)
    status = page.evaluate("async () => (await fetch('/api/sync')).status")
    assert status == 503 and bounded.count == 1


def test_slow_link_delays_and_caps_responses(site, new_context):
    page = new_context(service_workers="block").new_page()
    page.goto("/")
    site.stub("/harness-10k.bin", b"x" * 10_000, "application/octet-stream")
    timing = """async (url) => {
        const start = performance.now();
        const size = (await (await fetch(url, {cache: 'no-store'})).arrayBuffer()).byteLength;
        return [size, performance.now() - start];
    }"""
    site.slow_link(latency_ms=300, path="/harness-10k.bin")
    size, ms = page.evaluate(timing, "/harness-10k.bin")
    assert size == 10_000 and ms >= 300
    site.slow_link(kbps=400)  # 50 kB/s: 10 kB take 200 ms
    size, ms = page.evaluate(timing, "/harness-10k.bin")
    assert size == 10_000 and ms >= 200
    site.fast_link()


HARNESS_SW = """
self.addEventListener('install', (event) => {
  const cached = caches.open('harness').then((cache) => cache.add('/harness-cached.txt'));
  event.waitUntil(cached.then(() => self.skipWaiting()));
});
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (event) => {
  if (new URL(event.request.url).pathname.startsWith('/harness-')) {
    event.respondWith(caches.match(event.request).then((hit) => hit || fetch(event.request)));
  }
});
"""

FETCH_TIME = """async (url) => {
    const start = performance.now();
    try { await (await fetch(url)).text(); } catch (e) { return -1; }
    return performance.now() - start;
}"""


def test_service_worker_helpers_throttle_and_offline(site, context, page):
    site.stub("/harness-sw.js", HARNESS_SW, "text/javascript")
    site.stub("/harness-cached.txt", "cached", "text/plain")
    site.stub("/harness-live.txt", "live", "text/plain")
    site.stub("/harness-page.html", '<!doctype html><html lang="en"><title>Harness</title><h1>Harness</h1>')
    page.goto("/harness-page.html")  # not an app page: the app's own worker stays out of this test
    page.evaluate("navigator.serviceWorker.register('/harness-sw.js', {scope: '/harness-'}).then(() => true)")
    wait_for_controller(page)
    wait_for_cached(page, "/harness-cached.txt")

    site.clear_hits()
    assert page.evaluate("fetch('/harness-cached.txt').then((r) => r.text())") == "cached"
    assert site.hits == []  # answered by the worker's cache

    # Emulated latency is a floor; the margin above an unthrottled fetch is wide on purpose.
    assert 0 <= page.evaluate(FETCH_TIME, "/harness-live.txt?1") < 600
    with cdp_throttle(context, latency_ms=600) as throttle:
        assert throttle.workers == 1
        assert page.evaluate(FETCH_TIME, "/harness-live.txt?2") >= 600
        go_offline(context)  # must cut the worker's fetches even while it is throttled
        assert page.evaluate("navigator.onLine") is False
        assert page.evaluate(FETCH_TIME, "/harness-live.txt?3") == -1
        assert page.evaluate("fetch('/harness-cached.txt').then((r) => r.text())") == "cached"
        go_online(context)
        assert page.evaluate(FETCH_TIME, "/harness-live.txt?4") >= 600
    assert 0 <= page.evaluate(FETCH_TIME, "/harness-live.txt?5") < 600
    assert site.hits_for("/harness-live.txt") == [f"/harness-live.txt?{n}" for n in (1, 2, 4, 5)]


def test_installability_helper_accepts_an_installable_stub(site, installability):
    site.stub(
        "/harness-manifest.webmanifest",
        """{"name": "Harness", "short_name": "Harness", "start_url": "/harness-app.html",
            "display": "standalone",
            "icons": [{"src": "/static/icons/icon-192.png", "sizes": "192x192", "type": "image/png"},
                      {"src": "/static/icons/icon-512.png", "sizes": "512x512", "type": "image/png"}]}""",
        "application/manifest+json",
    )
    site.stub("/harness-sw.js", "self.addEventListener('fetch', () => {});", "text/javascript")
    register = "navigator.serviceWorker.register('/harness-sw.js');"
    site.stub("/harness-register.js", register, "text/javascript")
    site.stub(
        "/harness-app.html",
        '<!doctype html><html lang="en"><title>Harness</title>'
        '<link rel="manifest" href="/harness-manifest.webmanifest">'
        '<script src="/harness-register.js"></script><h1>Harness</h1>',
    )
    assert installability(site.url + "/harness-app.html") == []

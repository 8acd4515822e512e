"""Reading offline without dead ends, and notices that never hide the text.

On a 360×740 phone viewport: lists (a tag's, "Older" pages) built on the
device from the server's list shell and list items, in the server's order;
addresses that need a connection saying so; the offline line that never
covers the page's end, collapses and is remembered, and never prints; the
saved copy shown at once on a stalled link, then "Show newer version" or
"This is the current version." when the network answers.
"""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from conftest import reconfigure

from . import harness

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
LIST_LINKS = "() => [...document.querySelectorAll('ol.statements a')].map((a) => a.getAttribute('href'))"


@pytest.fixture
def phone(new_context):
    """A context and page with a phone's viewport."""
    context = new_context(viewport=PHONE)
    return context, context.new_page()


def publish_list(server) -> None:
    """Seven statements, some tagged "press", two pairs on one day (the order must break those ties)."""
    days = [1, 2, 2, 3, 4, 4, 5]
    for n, day in enumerate(days):
        server.publisher.publish(
            f"Statement {n}",
            f"<p>Text of statement number {n}.</p>",
            slug=f"s{n}",
            published=dt.date(2022, 3, day),
            tags=["press"] if n % 2 == 0 else ["water"],
        )


def served_links(page, path: str) -> list[str]:
    """The statements the server lists at ``path``, in its order (asked past the worker)."""
    html = page.request.get(path).text()
    items = re.search(r'<ol class="statements">(.*?)</ol>', html, flags=re.S).group(1)
    return re.findall(r'<h2[^>]*><a href="([^"]+)"', items)


def axe_clean(page) -> None:
    violations = harness.axe_violations(page)
    assert violations == [], harness.format_axe(violations)


def test_tag_and_older_pages_are_built_on_the_device_in_the_servers_order(app, phone, live_server):
    context, page = phone
    page_errors = harness.collect_errors(page)
    reconfigure(app, PAGE_SIZE=3)
    publish_list(live_server)
    harness.ready_offline(page)
    paths = ["/?page=2", "/?page=3", "/tags/press/", "/tags/press/?page=2"]
    expected = {path: served_links(page, path) for path in paths}
    older_from_home = page.get_attribute("a[rel=next]", "href")
    harness.go_offline(context)
    live_server.stop()  # built on the device: the server could not have answered
    for path in paths:
        page.goto(path)
        assert page.evaluate(LIST_LINKS) == expected[path], path
        assert "Offline: this list shows the statements saved on this device." in page.inner_text("main")
    # The tag page as the server titles it, and its page links.
    page.goto("/tags/press/")
    assert page.inner_text("h1") == "Tagged “press”"
    assert page.title().startswith("Tagged “press”")
    assert page.locator("a[rel=prev]").count() == 0
    axe_clean(page)
    # "Older" from the stored home page carries the server's keyset link: the device follows it.
    page.goto("/")
    page.click(f"a[href='{older_from_home}']")
    page.wait_for_url(re.compile(r"page=2"))
    assert page.evaluate(LIST_LINKS) == expected["/?page=2"]
    page.click("a[rel=next]")
    page.wait_for_url(re.compile(r"page=3"))
    assert page.evaluate(LIST_LINKS) == expected["/?page=3"]
    assert page.locator("a[rel=next]").count() == 0  # the last page
    page.click("a[rel=prev]")
    page.wait_for_url(re.compile(r"page=2$"))
    assert page.evaluate(LIST_LINKS) == expected["/?page=2"]
    axe_clean(page)
    page_errors.assert_clean(allow=["net::ERR_INTERNET_DISCONNECTED", "Failed to load resource"])


@pytest.mark.parametrize(
    ("path", "said"),
    [
        ("/feed.atom", "The Atom feed needs a connection."),
        (
            "/tags/nothing/",
            "Statements tagged “nothing”: none is on this device, and the list needs a connection.",
        ),
        (
            "/tags/%3Cb%3Ex/",
            "Statements tagged “<b>x”: none is on this device, and the list needs a connection.",
        ),
        ("/?page=9", "This page of the list is not on this device: it needs a connection."),
        ("/statements/elsewhere/", "This statement is not on this device: it needs a connection."),
        ("/somewhere/else", "This page (/somewhere/else) needs a connection."),
    ],
)
def test_an_address_that_needs_a_connection_says_so_and_lists_what_is_readable(
    phone, live_server, path, said
):
    context, page = phone
    publish_list(live_server)
    harness.ready_offline(page)
    harness.go_offline(context)
    page.goto(path)
    reason = harness.poll(page, "() => document.getElementById('offline-reason')?.textContent")
    assert reason == f"{said} What you can read now is listed below."
    assert page.evaluate("() => document.querySelector('#offline-reason b')") is None  # text, never markup
    harness.poll(page, "() => document.querySelectorAll('#offline-statements a').length === 7")
    axe_clean(page)


def test_the_last_link_of_a_long_page_stays_clickable_offline(phone, live_server):
    context, page = phone
    paragraphs = "".join(
        f"<p>Paragraph {n} of a long statement, long enough to fill a screen.</p>" for n in range(40)
    )
    live_server.publisher.publish("A long statement", paragraphs, slug="long")
    harness.ready_offline(page)
    page.goto("/statements/long/")
    harness.wait_for_cached(page, "/statements/long/")
    harness.go_offline(context)
    page.reload()
    harness.poll(page, "() => !document.getElementById('offline-banner').hidden", message="the offline line")
    # At the page's end nothing lies over the footer's last link, nor over the Save button.
    page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
    for selector in ("footer.site a:last-of-type", ".offline-actions button"):
        where = page.evaluate(
            """(selector) => { const el = document.querySelector(selector); const r = el.getBoundingClientRect();
              const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
              return {inView: r.top >= 0 && r.bottom <= innerHeight, clear: el.contains(hit)}; }""",
            selector,
        )
        assert where == {"inView": True, "clear": True}, selector
    page.click("footer.site a:last-of-type")  # Playwright refuses a click on a covered element
    page.wait_for_url("**/about/")  # the footer's last link, precached: it opens offline too
    assert page.inner_text("h1").startswith("About ")


def test_the_offline_line_is_one_line_collapses_and_is_remembered(phone, live_server):
    context, page = phone
    publish_list(live_server)
    harness.ready_offline(page)
    harness.go_offline(context)
    page.reload()
    harness.poll(page, "() => !document.getElementById('offline-banner').hidden")
    line = page.evaluate(
        "() => { const b = document.getElementById('offline-banner'); const t = b.querySelector('.banner-text');"
        " return {height: b.getBoundingClientRect().height, text: t.textContent,"
        " lineHeight: parseFloat(getComputedStyle(t).lineHeight)}; }"
    )
    assert line["text"] == "Offline: 7 statements on this device."
    assert line["height"] < 2 * line["lineHeight"] + 16, line  # one line (and its padding)
    axe_clean(page)
    page.click("#offline-banner button")
    assert page.get_attribute("#offline-banner button", "aria-expanded") == "false"
    assert page.inner_text("#offline-banner") == "Offline"
    page.reload()
    harness.poll(page, "() => !document.getElementById('offline-banner').hidden")
    assert page.get_attribute("#offline-banner button", "aria-expanded") == "false"
    axe_clean(page)
    page.click("#offline-banner button")
    assert page.inner_text("#offline-banner .banner-text") == "Offline: 7 statements on this device."


def test_ready_to_read_offline_goes_away_and_no_notice_prints(phone, live_server):
    context, page = phone
    publish_list(live_server)
    harness.ready_offline(page)
    harness.poll(
        page, "() => document.getElementById('app-status').hidden", timeout=10, message="the notice gone"
    )
    harness.go_offline(context)
    page.reload()
    harness.poll(page, "() => !document.getElementById('offline-banner').hidden")
    page.emulate_media(media="print")
    assert page.evaluate("() => getComputedStyle(document.querySelector('.notices')).display") == "none"
    page.emulate_media(media="screen")
    assert page.evaluate("() => getComputedStyle(document.querySelector('.notices')).display") != "none"


SAVED_COPY_SEEN = """
window.savedCopySeen = null;
new MutationObserver(() => {
  const status = document.getElementById('app-status');
  if (window.savedCopySeen === null && status && !status.hidden && status.textContent.includes('Saved copy')) {
    window.savedCopySeen = {at: performance.now(), text: status.textContent};
  }
}).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
"""


def stall_navigation(context, path: str) -> list:
    """Hold every request for ``path`` (the worker's own fetches included); returns the held routes."""
    held = []
    context.route(f"**{path}", lambda route: held.append(route))
    return held


def open_stalled(context, page, live_server, *, revise: bool):
    """A statement opened, then opened again three days later on a link that stalls; returns the held routes."""
    statement = live_server.publisher.publish("Stalled", "<p>The first text.</p>", slug="stalled")
    harness.ready_offline(page)
    # Syncs are refused from now on: the device must learn of the correction from the page alone.
    context.route("**/api/sync*", lambda route: route.abort("connectionfailed"))
    context.route("**/sync/*", lambda route: route.abort("connectionfailed"))
    page.goto("/statements/stalled/")
    harness.wait_for_cached(page, "/statements/stalled/")
    if revise:
        live_server.publisher.revise(statement, title="Stalled", body="<p>The corrected text.</p>")
    held = stall_navigation(context, "/statements/stalled/")
    page.clock.set_system_time(dt.datetime.now(dt.UTC) + dt.timedelta(days=3))
    page.add_init_script(SAVED_COPY_SEEN)
    started = time.monotonic()
    page.goto("/statements/stalled/", wait_until="commit")
    seen = harness.poll(page, "() => window.savedCopySeen", timeout=5, message="the saved-copy label")
    return held, seen, time.monotonic() - started


def test_a_stalled_link_shows_the_saved_copy_within_a_second_then_offers_the_newer_one(
    context, page, live_server
):
    page.set_viewport_size(PHONE)
    held, seen, elapsed = open_stalled(context, page, live_server, revise=True)
    assert seen["text"] == "Saved copy from 3 days ago — checking for a newer one…"
    assert seen["at"] < 1000 and elapsed < 1.5, (seen, elapsed)
    assert "The first text." in page.inner_text("article")
    harness.wait_until(page, lambda: held, message="the held navigation")
    context.unroute("**/statements/stalled/")
    for route in held:
        route.continue_()  # the network answers, late, with the corrected statement
    harness.poll(
        page, "() => document.getElementById('app-status').textContent.includes('Show newer version')"
    )
    assert page.inner_text("#app-status").startswith("Saved copy from 3 days ago.")
    axe_clean(page)
    with page.expect_navigation():
        page.click("#app-status button")
    assert "The corrected text." in page.inner_text("article")


def test_a_stalled_link_says_the_saved_copy_is_current(context, page, live_server):
    page.set_viewport_size(PHONE)
    held, seen, _ = open_stalled(context, page, live_server, revise=False)
    harness.wait_until(page, lambda: held, message="the held navigation")
    context.unroute("**/statements/stalled/")
    for route in held:
        route.continue_()
    harness.poll(
        page, "() => document.getElementById('app-status').textContent === 'This is the current version.'"
    )
    assert page.locator("#app-status button").count() == 0

"""What a reader on a phone gets beyond the text: install, share, print, /about, narrow screens.

Every test runs on a 360×740 phone viewport unless it says otherwise.
"""

from __future__ import annotations

import pytest

from . import harness

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}

# A synthetic `beforeinstallprompt`, as Chromium sends it when the site is
# installable; its prompt() records the call instead of showing a dialog.
INSTALL_EVENT = """() => {
  const event = new Event("beforeinstallprompt", { cancelable: true });
  event.prompt = () => { window.__prompts = (window.__prompts || 0) + 1; return Promise.resolve(); };
  event.userChoice = Promise.resolve({ outcome: "dismissed" });
  window.dispatchEvent(event);
  return event.defaultPrevented;
}"""

SCRIPT_READY = "() => typeof Bulletin === 'object' && typeof Bulletin.enhanceShare === 'function'"


@pytest.fixture
def phone(new_context):
    """A fresh page on a 360×740 phone viewport; ``phone(**options)`` for other context options."""

    def make(**options):
        options.setdefault("viewport", PHONE)
        return new_context(**options).new_page()

    return make


def open_page(page, path: str) -> None:
    """Go to ``path`` and wait until the page script has started."""
    page.goto(path)
    harness.poll(page, SCRIPT_READY, message="the page script")


def visible(page, selector: str) -> bool:
    return page.locator(selector).first.is_visible()


# ------------------------------------------------------------------ install


def test_install_entry_after_the_browser_offers_it_and_not_now_is_remembered(site, phone):
    page = phone()
    errors = harness.collect_errors(page)
    open_page(page, "/")
    assert page.locator("[data-install]").count() == 0  # nothing before the browser allows it
    assert page.evaluate(INSTALL_EVENT) is True  # the page keeps the prompt for the reader
    card = page.locator("div.install")
    assert "read statements without a connection" in card.inner_text()
    footer_entry = page.locator("footer.site button", has_text="Install app")
    assert footer_entry.is_visible()
    card.get_by_role("button", name="Install app").click()
    assert page.evaluate("window.__prompts") == 1
    assert page.locator("[data-install]").count() == 0  # a prompt shows once

    page.evaluate(INSTALL_EVENT)  # the browser offers it again later
    page.locator("div.install").get_by_role("button", name="Not now").click()
    assert page.locator("div.install").count() == 0
    assert footer_entry.is_visible()  # the lasting entry stays, and takes the focus
    assert page.evaluate("document.activeElement.textContent") == "Install app"

    open_page(page, "/statements/release/")  # another page, later: "Not now" holds
    page.evaluate(INSTALL_EVENT)
    assert page.locator("div.install").count() == 0
    page.locator("footer.site button", has_text="Install app").click()
    assert page.evaluate("window.__prompts") == 1  # a new page: its first prompt
    page.reload()
    harness.poll(page, SCRIPT_READY)
    page.evaluate(INSTALL_EVENT)
    assert page.locator("div.install").count() == 0
    errors.assert_clean()


def test_iphone_steps_are_shown_when_asked_and_stay(site, phone):
    iphone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
    )
    page = phone(user_agent=iphone)
    harness.ready_offline(page)  # after the worker's own messages, which once replaced the hint
    steps = page.locator("details.install")
    assert steps.locator("summary").inner_text() == "Install on iPhone or iPad"
    assert not steps.locator("p").is_visible()  # not shown until asked
    steps.locator("summary").click()
    assert "Add to Home Screen" in steps.locator("p").inner_text()
    assert page.evaluate("document.getElementById('app-status').textContent").find("Home Screen") == -1


# -------------------------------------------------------------------- share


def test_share_uses_web_share_where_present(site, phone):
    page = phone()
    page.add_init_script("navigator.share = (data) => { window.__shared = data; return Promise.resolve(); };")
    open_page(page, "/statements/release/")
    page.get_by_role("link", name="Share this statement").click()
    shared = harness.poll(page, "() => window.__shared", message="navigator.share called")
    assert shared == {"title": "Release the journalist", "url": site.url + "/statements/release/"}
    assert page.url == site.url + "/statements/release/"


def test_share_copies_the_link_without_web_share(site, phone):
    page = phone(permissions=["clipboard-read", "clipboard-write"])
    errors = harness.collect_errors(page)
    open_page(page, "/statements/release/")
    assert page.evaluate("'share' in navigator") is False  # headless Chromium has none
    page.get_by_role("link", name="Share this statement").click()
    harness.poll(page, "() => document.getElementById('app-status').textContent.includes('Link copied.')")
    assert page.evaluate("navigator.clipboard.readText()") == site.url + "/statements/release/"
    errors.assert_clean()


def test_share_offers_the_link_to_copy_when_the_clipboard_refuses(site, phone):
    page = phone()
    page.add_init_script(
        "Object.defineProperty(navigator, 'clipboard', "
        "{ value: { writeText: () => Promise.reject(new DOMException('refused', 'NotAllowedError')) } });"
    )
    open_page(page, "/statements/release/")
    page.get_by_role("link", name="Share this statement").click()
    link = page.locator("#app-status a")
    link.wait_for()
    assert "Copy this link:" in page.inner_text("#app-status")
    assert link.get_attribute("href") == site.url + "/statements/release/"


def test_share_is_a_plain_link_without_javascript(site, phone):
    page = phone(java_script_enabled=False)
    page.goto("/statements/release/")
    page.get_by_role("link", name="Share this statement").click()
    assert page.url == site.url + "/statements/release/"


# -------------------------------------------------------------------- print

CONTROLS_SHOWN = """() => [...document.querySelectorAll(
  'button, input, select, textarea, summary, form, footer, .notices, .skip, .pages, .install'
)].filter((el) => el.getClientRects().length > 0).map((el) => el.outerHTML.slice(0, 80))"""


def test_print_shows_the_statement_its_address_and_publisher_and_no_controls(site, phone):
    page = phone()
    open_page(page, "/statements/release/")
    page.evaluate(INSTALL_EVENT)  # an install card too, which must not print
    page.evaluate("Bulletin.announce('A notice')")
    assert page.evaluate(CONTROLS_SHOWN)  # on screen they are there
    page.emulate_media(media="print")
    assert page.evaluate(CONTROLS_SHOWN) == []
    assert visible(page, "header .brand") and page.inner_text("header .brand") == "Bulletin"
    assert visible(page, "article h1") and visible(page, "article time")
    assert "Free Ana Petrova now." in page.inner_text("article")
    printed = page.evaluate(
        "() => { const a = document.querySelector('article .share a');"
        " return { box: a.getClientRects().length, after: getComputedStyle(a, '::after').content,"
        " text: getComputedStyle(a).fontSize }; }"
    )
    assert printed["box"] and printed["text"] == "0px"  # the words "Share this statement" take no room
    assert site.url in printed["after"] and "/statements/release/" in printed["after"]


# ------------------------------------------------------------------- /about

DEVICE_STATE = """async () => ({
  caches: (await caches.keys()).length,
  databases: (await indexedDB.databases()).map((d) => d.name),
  registrations: (await navigator.serviceWorker.getRegistrations()).length,
  stored: localStorage.length,
})"""


def test_remove_everything_from_this_device(site, phone):
    page = phone()
    errors = harness.collect_errors(page)
    harness.ready_offline(page)
    page.goto("/statements/release/")
    harness.wait_for_cached(page, "/statements/release/")
    page.evaluate("localStorage.setItem('bulletin-install-not-now', '1')")
    page.goto("/about/")
    before = page.evaluate(DEVICE_STATE)
    assert before["caches"] and before["databases"] and before["registrations"] and before["stored"]

    page.get_by_role("button", name="Remove everything from this device").click()
    assert "Statements you saved go too." in page.inner_text("#remove-all")
    page.get_by_role("button", name="Cancel").click()  # asked, not done
    assert page.evaluate(DEVICE_STATE) == before

    page.get_by_role("button", name="Remove everything from this device").click()
    page.get_by_role("button", name="Yes, remove everything").click()
    harness.poll(page, "() => document.getElementById('remove-all-status').textContent.startsWith('Done:')")
    assert page.evaluate(DEVICE_STATE) == {"caches": 0, "databases": [], "registrations": 0, "stored": 0}
    assert harness.device_contents(page) == {"urls": [], "bodies": [], "records": []}
    errors.assert_clean()


def test_about_opens_offline(site, phone, context):
    page = phone()
    harness.ready_offline(page)
    harness.wait_for_cached(page, "/about/")
    harness.go_offline(page.context)
    site.stop()
    page.goto("/about/")
    assert page.inner_text("h1") == "About Bulletin"
    assert page.get_by_role("button", name="Remove everything from this device").is_visible()


@pytest.mark.parametrize("path", ["/about/", "/statements/release/"])
def test_no_accessibility_violations(site, phone, path):
    site.publisher.publish(
        "Liberen al periodista", "<p>Libérenlo.</p>", lang="es", slug="liberen", translation_of="release"
    )
    page = phone()
    open_page(page, path)
    page.evaluate(INSTALL_EVENT)  # with the install card and entry
    if path == "/about/":
        page.get_by_role("button", name="Remove everything from this device").click()  # and its question
    found = {}
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        violations = harness.axe_violations(page)
        if violations:
            found[scheme] = harness.format_axe(violations)
    assert not found, "\n".join(f"axe on {path} ({scheme}):\n{report}" for scheme, report in found.items())


# ------------------------------------------------------- narrow and zoomed

LONG_WORD = "Überwachungsstaatsverantwortlichkeitsgesetzgebungsverfahrensbeschleunigung"
PAGE_TYPES = [
    "/",
    "/statements/release/",
    "/statements/long/",
    "/statements/gone/",
    "/tags/press/",
    "/search/?q=journalist",
    "/search/?q=" + LONG_WORD,
    "/offline/",
    "/about/",
    "/no-such-page",
]

SIDEWAYS = """() => {
  const root = document.documentElement;
  const button = document.querySelector('.search button');
  return { scroll: root.scrollWidth - root.clientWidth,
           button: button.getBoundingClientRect().right - root.clientWidth };
}"""


@pytest.mark.parametrize(
    "screen",
    [
        {"viewport": {"width": 320, "height": 640}},
        # 200% zoom of a 360 px phone: a layout 180 CSS px wide, drawn at twice the density.
        {"viewport": {"width": 180, "height": 370}, "device_scale_factor": 2},
    ],
    ids=["320px", "200% zoom"],
)
def test_no_sideways_scroll(site, phone, screen):
    site.publisher.publish(
        f"{LONG_WORD} in the title",
        f"<p>{LONG_WORD} and https://example.org/{'a' * 80}/statement, <code>{'x' * 90}</code></p>"
        f"<pre>{'y' * 90}</pre><table><tr>{'<td>cell</td>' * 12}</tr></table>",
        slug="long",
        tags=["press"],
    )
    gone = site.publisher.publish("Withdrawn", slug="gone")
    site.publisher.withdraw(gone)
    page = phone(**screen)
    wide = {}
    for path in PAGE_TYPES:
        page.goto(path)
        harness.poll(page, SCRIPT_READY)
        page.evaluate(INSTALL_EVENT)
        measured = page.evaluate(SIDEWAYS)
        if measured["scroll"] > 0 or measured["button"] > 0:
            wide[path] = measured
    assert not wide, f"wider than the screen: {wide}"


# ------------------------------------------------------------------- focus


def test_one_focus_style_for_every_control(site, phone):
    page = phone()
    open_page(page, "/about/")
    # A select and a text box, as pages with forms have them.
    page.evaluate(
        "() => { const main = document.querySelector('main');"
        " main.append(document.createElement('select'), document.createElement('textarea')); }"
    )
    page.evaluate(INSTALL_EVENT)
    seen = {}
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const el = document.activeElement; const style = getComputedStyle(el);"
            " return [el.tagName, `${style.outlineStyle} ${style.outlineWidth} ${style.outlineOffset}`,"
            " style.outlineColor]; }"
        )
        if focused[0] == "BODY":
            break
        seen.setdefault(focused[0], set()).add((focused[1], focused[2]))
    assert {"A", "INPUT", "BUTTON", "SELECT", "TEXTAREA"} <= set(seen)
    styles = set().union(*seen.values())
    assert len(styles) == 1 and next(iter(styles))[0] == "solid 3px 2px", seen

"""The interface in the readers' languages, on a mid-range phone's screen (360×740).

Russian and Arabic interfaces: the URL decides the language, Arabic mirrors
the layout, plural forms come out right in pages and in the page script,
the reader's choice is kept on the device, the worker keeps each language's
offline pages, and axe finds nothing on the pages in either language.
"""

from __future__ import annotations

import datetime as dt

import pytest

from . import harness
from .harness import axe_violations, format_axe

pytestmark = pytest.mark.browser

PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
# Tag "nN" is on exactly N statements: the tag pages show every count the plural tests need.
COUNTS = (1, 2, 3, 5, 11, 21, 100)


@pytest.fixture
def phone(new_context):
    """A fresh page on a 360×740 phone screen whose browser asks for English."""
    return new_context(**PHONE, locale="en-US").new_page()


def publish_counted(server, total: int) -> None:
    """``total`` statements, in Russian (odd) and Arabic (even), tagged so that tag ``nN`` has N of them."""
    for i in range(1, total + 1):
        lang, title = ("ru", f"Заявление {i}") if i % 2 else ("ar", f"بيان رقم {i}")
        server.publisher.publish(
            title,
            f"<p>{title}.</p>",
            lang=lang,
            slug=f"s{i}",
            published=dt.date(2022, 1, 1) + dt.timedelta(days=i),
            tags=[f"n{n}" for n in COUNTS if i <= n],
        )


@pytest.fixture
def counted(live_server):
    """21 statements (one more than a page): tags n1 to n21."""
    publish_counted(live_server, 21)
    return live_server


def no_sideways_scroll(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def assert_axe_clean(page, path: str) -> None:
    assert page.goto(path).status in (200, 404), path
    violations = axe_violations(page)
    assert not violations, f"axe on {path}:\n{format_axe(violations)}"


def test_russian_interface(counted, phone, page_errors):
    phone.goto("/ru/")
    assert phone.evaluate("() => [document.documentElement.lang, document.documentElement.dir]") == [
        "ru",
        "ltr",
    ]
    assert phone.inner_text("main h1") == "Последние заявления"
    assert "Найти" in phone.inner_text("header")  # the search button
    assert "22 января 2022" in phone.inner_text("main")  # the newest statement's date, in Russian
    assert no_sideways_scroll(phone)
    # A Russian statement's page speaks Russian, and its links stay in Russian.
    phone.click("text=Заявление 21")
    assert phone.url.endswith("/statements/s21/") and phone.evaluate("document.documentElement.lang") == "ru"
    phone.click("a.brand")
    assert phone.url.endswith("/ru/") and phone.inner_text("main h1") == "Последние заявления"
    page_errors.assert_clean()


@pytest.mark.parametrize(
    ("n", "shown"), [(1, "1 заявление"), (2, "2 заявления"), (5, "5 заявлений"), (21, "21 заявление")]
)
def test_russian_plural_forms_in_a_page(counted, phone, n, shown):
    phone.goto(f"/ru/tags/n{n}/")
    assert phone.inner_text("main p.meta") == shown


def test_arabic_plural_forms_in_pages_and_the_page_script(live_server, phone):
    publish_counted(live_server, 100)
    shown = {1: "بيان واحد", 2: "بيانان", 3: "3 بيانات", 11: "11 بيانًا", 100: "100 بيان"}
    for n, text in shown.items():
        phone.goto(f"/ar/tags/n{n}/")
        assert phone.inner_text("main p.meta") == text, n
    # The page script's strings come from the same catalog, plural forms by CLDR's rules.
    written = phone.evaluate("() => [0, 1, 2, 3, 11, 100].map((num) => Bulletin.t('newCount', {num}))")
    assert written == [
        "لا بيانات جديدة.",
        "بيان جديد واحد.",
        "بيانان جديدان.",
        "3 بيانات جديدة.",
        "11 بيانًا جديدًا.",
        "100 بيان جديد.",
    ]
    phone.goto("/ru/")
    written = phone.evaluate("() => [1, 2, 5, 21].map((num) => Bulletin.t('newCount', {num}))")
    assert written == [
        "1 новое заявление.",
        "2 новых заявления.",
        "5 новых заявлений.",
        "21 новое заявление.",
    ]


def test_arabic_interface_is_right_to_left_and_mirrored(counted, phone, page_errors):
    phone.goto("/ar/")
    assert phone.evaluate("() => [document.documentElement.lang, document.documentElement.dir]") == [
        "ar",
        "rtl",
    ]
    assert phone.evaluate("() => getComputedStyle(document.body).direction") == "rtl"
    assert phone.inner_text("main h1") == "أحدث البيانات"
    # Mirrored: the site's name starts at the right, the search box to its left.
    brand = phone.locator("a.brand").bounding_box()
    search = phone.locator("form.search").bounding_box()
    assert brand["x"] + brand["width"] > 300 and brand["x"] > search["x"] - 1
    # The lone "Older" link starts the line: on the right in Arabic, on the left in Russian.
    assert phone.locator("nav.pages a[rel=next]").bounding_box()["x"] > 180
    phone.goto("/ru/")
    assert phone.locator("nav.pages a[rel=next]").bounding_box()["x"] < 180
    phone.goto("/ar/")
    assert no_sideways_scroll(phone)
    # An Arabic statement's page has the Arabic interface; its date is written in Arabic.
    phone.goto("/statements/s20/")
    assert phone.evaluate("document.documentElement.dir") == "rtl"
    assert "يناير" in phone.inner_text("article .meta")
    page_errors.assert_clean()


@pytest.mark.parametrize("lang", ["ru", "ar"])
def test_no_accessibility_violations(counted, phone, lang):
    statement = "/statements/s21/" if lang == "ru" else "/statements/s20/"
    for path in (f"/{lang}/", f"/{lang}/tags/n5/", f"/{lang}/search/?q=1", f"/{lang}/offline/", statement):
        for scheme in ("light", "dark"):
            phone.emulate_media(color_scheme=scheme)
            assert_axe_clean(phone, path)
    assert_axe_clean(phone, f"/{lang}/no-such-page")


def test_the_reader_choice_is_kept_on_the_device(site, phone):
    phone.goto("/")
    with phone.expect_navigation():
        phone.click("nav.languages a[lang=ru]")
    assert phone.url == site.url + "/ru/"
    # "/" now sends this reader on to Russian, and the app would start there.
    phone.goto("/")
    phone.wait_for_url(site.url + "/ru/")
    assert phone.get_attribute('link[rel="manifest"]', "href") == "/ru/manifest.webmanifest"
    # An English statement's page keeps its English interface, its links lead to Russian pages.
    phone.goto("/statements/release/")
    assert phone.evaluate("document.documentElement.lang") == "en"
    assert phone.get_attribute("a.brand", "href") == "/ru/"
    assert phone.get_attribute("form.search", "action").endswith("/ru/search/")
    # Choosing English again stays in English.
    with phone.expect_navigation():
        phone.click("nav.languages a[lang=en]")
    phone.goto("/")
    assert phone.url == site.url + "/" and phone.evaluate("document.documentElement.lang") == "en"


def test_a_first_visit_follows_the_browser_language(site, new_context):
    page = new_context(**PHONE, locale="ar-EG").new_page()
    page.goto("/")
    page.wait_for_url(site.url + "/ar/")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    # Never on the server: "/" itself is the same file for every reader.
    assert page.request.get("/", headers={"Accept-Language": "ar"}).text() == page.request.get("/").text()


def test_offline_pages_in_the_reader_language(counted, phone):
    phone.goto("/ru/")
    harness.wait_for_controller(phone)
    harness.poll(
        phone, "() => document.getElementById('app-status').textContent.includes('Можно читать без сети.')"
    )
    harness.wait_for_cached(phone, "/ru/offline/")
    harness.wait_for_cached(phone, "/ru/offline/shell/")
    harness.wait_for_cached(phone, "/ar/offline/shell/")  # the shell of the statements' other language
    harness.go_offline(phone.context)
    try:
        # A Russian tag page: built on the device in the Russian list shell.
        phone.goto("/ru/tags/n3/")
        assert phone.evaluate("document.documentElement.lang") == "ru"
        assert phone.inner_text("main h1") == "Тег «n3»"
        # A Russian page not on the device: the Russian "readable offline" page.
        phone.goto("/ru/tags/nowhere/")
        assert phone.evaluate("document.documentElement.lang") == "ru"
        assert phone.inner_text("main h1") == "Доступно без сети"
        assert not axe_violations(phone), format_axe(axe_violations(phone))
        # A synced Arabic statement never opened: built in the Arabic shell.
        phone.goto("/statements/s18/")
        assert phone.evaluate("() => [document.documentElement.lang, document.documentElement.dir]") == [
            "ar",
            "rtl",
        ]
        assert "بيان رقم 18" in phone.inner_text("article h1")
        assert not axe_violations(phone), format_axe(axe_violations(phone))
    finally:
        harness.go_online(phone.context)

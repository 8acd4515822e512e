"""The statement's translations and tags at the top, its share link and printed line, and /about."""

from __future__ import annotations

import logging
import re

import pytest

from bulletin.statements.labels import language_name, tag_label


def article(client, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    return re.search(r"<article.*?</article>", html, re.S).group(0)


def test_translations_are_named_in_their_own_language_under_the_title(client, publisher):
    publisher.publish("Release the journalist", slug="release")
    publisher.publish("Liberen a la periodista", lang="es", slug="liberen", translation_of="release")
    publisher.publish("Освободите журналистку", lang="ru", slug="osvobodite", translation_of="release")
    html = article(client, "/statements/liberen/")
    nav = re.search(r'<nav class="translations".*?</nav>', html, re.S).group(0)
    assert html.index(nav) < html.index('class="meta"')  # under the title, before the date
    assert "También en:" in nav  # the Spanish statement's page has the Spanish interface
    assert '<a href="../release/" lang="en" hreflang="en"' in nav
    assert ">English</a> (original)" in nav
    assert 'hreflang="ru" dir="ltr" title="Освободите журналистку">Русский</a>' in nav
    assert "This is the original." not in nav
    original = article(client, "/statements/release/")
    assert ">Español</a>, " in original and ">Русский</a>" in original
    assert "This is the original." in original


def test_a_statement_without_translations_has_no_translation_line(client, publisher):
    publisher.publish("Alone", slug="alone")
    assert "translations" not in article(client, "/statements/alone/")


def test_tags_are_labelled_and_read_as_words(client, publisher):
    publisher.publish("Tagged", slug="tagged", tags=["Press freedom", "detention"])
    html = article(client, "/statements/tagged/")
    assert re.search(
        r'Tags: <a href="\.\./\.\./tags/detention/">detention</a>, <a href="\.\./\.\./tags/press-freedom/">press freedom</a>',
        html,
    )


def test_the_article_links_to_itself_for_sharing(make_app, publisher):
    publisher.publish("Shared", slug="shared")
    html = article(make_app().test_client(), "/statements/shared/")
    assert '<a href="./" data-title="Shared">Share this statement</a>' in html
    # The site's address known or not, the link stays relative (the page script prints it whole).
    with_base = make_app(BASE_URL="https://news.example").test_client()
    assert article(with_base, "/statements/shared/") == html


def test_the_api_sends_the_same_article(client, publisher):
    publisher.publish("Release", slug="release", tags=["press"])
    publisher.publish("Liberen", lang="es", slug="liberen", translation_of="release")
    api = client.get("/api/statements/release").get_json()
    assert api["article_html"] == article(client, "/statements/release/")


@pytest.mark.parametrize(
    ("lang", "name"),
    [("es", "Español"), ("ru", "Русский"), ("ar", "العربية"), ("kk", "Қазақ тілі"), ("qq", "qq")],
)
def test_language_names(lang, name):
    assert language_name(lang) == name


def test_tag_label():
    assert tag_label("press-freedom") == "press freedom"


# ------------------------------------------------------------------ /about


def test_about_names_the_publisher_their_text_and_contact(make_app, tmp_path):
    text = tmp_path / "about.md"
    text.write_text("We are **journalists**.\n\n<script>alert(1)</script><a href='javascript:x'>x</a>\n")
    client = make_app(
        SITE_NAME="Free Press Union", ABOUT_FILE=str(text), CONTACT="desk@fpu.example"
    ).test_client()
    response = client.get("/about/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "public" in response.headers["Cache-Control"] and response.headers["ETag"]
    assert "<h1>About Free Press Union</h1>" in html
    assert "We are <strong>journalists</strong>." in html
    assert "<script>alert" not in html and "javascript:" not in html
    assert '<a href="mailto:desk@fpu.example">desk@fpu.example</a>' in html
    assert "Remove everything from this device" in html
    assert client.get("/about/", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


@pytest.mark.parametrize(
    ("contact", "shown"),
    [
        (
            "https://fpu.example/contact",
            '<a href="https://fpu.example/contact">https://fpu.example/contact</a>',
        ),
        ("+1 555 0100", "<p>+1 555 0100</p>"),
        ("<b>x</b>", "&lt;b&gt;x&lt;/b&gt;"),
    ],
)
def test_about_contact_forms(make_app, contact, shown):
    assert shown in make_app(CONTACT=contact).test_client().get("/about/").get_data(as_text=True)


def test_about_without_settings_still_names_the_publisher(client):
    html = client.get("/about/").get_data(as_text=True)
    assert "<h1>About Bulletin</h1>" in html and "<h2>Contact</h2>" not in html


@pytest.mark.parametrize("problem", ["missing", "folder", "not utf-8", "too large"])
def test_an_unreadable_about_file_leaves_the_page_working_and_warns(make_app, tmp_path, caplog, problem):
    path = tmp_path / "about.md"
    if problem == "folder":
        path.mkdir()
    elif problem == "not utf-8":
        path.write_bytes(b"\xff\xfe caf\xe9")
    elif problem == "too large":
        path.write_text("a" * (300 * 1024))
    with caplog.at_level(logging.WARNING, logger="bulletin.site.about"):
        client = make_app(ABOUT_FILE=str(path)).test_client()
    assert any("BULLETIN_ABOUT_FILE" in record.getMessage() for record in caplog.records)
    response = client.get("/about/")
    assert response.status_code == 200 and "<h1>About Bulletin</h1>" in response.get_data(as_text=True)


def test_about_is_in_the_footer_and_precached(client):
    assert '<a href="/about/">About</a>' in client.get("/").get_data(as_text=True)
    worker = client.get("/sw.js").get_data(as_text=True)
    assert '"/about/"' in re.search(r'"languagePages":\[[^]]*\]', worker).group(0)


def test_the_worker_changes_with_the_about_text(make_app, tmp_path):
    path = tmp_path / "about.md"
    path.write_text("First words.")
    first = make_app(ABOUT_FILE=str(path)).test_client().get("/sw.js")
    path.write_text("Other words.")
    second = make_app(ABOUT_FILE=str(path)).test_client().get("/sw.js")
    assert first.headers["ETag"] != second.headers["ETag"]
    assert first.get_data() != second.get_data()

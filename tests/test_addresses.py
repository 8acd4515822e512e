"""Addresses as folders: every page's URL ends in "/", the slashless form moves there for good, article links are relative."""

from __future__ import annotations

import json
import re
from urllib.parse import urljoin, urlsplit

import pytest

from bulletin.http.addresses import relative_url
from bulletin.http.database import get_db
from bulletin.site import render
from bulletin.statements import store


@pytest.fixture
def published(publisher):
    publisher.publish("Release the journalist", slug="release", tags=["press"])
    publisher.publish("Liberen a la periodista", lang="es", slug="liberen", translation_of="release")
    publisher.publish(
        "Освободите журналистку", lang="ru", slug="osvobodite", translation_of="release", tags=["press"]
    )
    return publisher


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/statements/release", "/statements/release/"),
        ("/tags/press", "/tags/press/"),
        ("/about", "/about/"),
        ("/offline", "/offline/"),
        ("/offline/shell", "/offline/shell/"),
        ("/offline/list-shell", "/offline/list-shell/"),
        ("/offline/tag-shell", "/offline/tag-shell/"),
        ("/search", "/search/"),
        ("/ru", "/ru/"),
        ("/ru/about", "/ru/about/"),
        ("/ar/tags/press", "/ar/tags/press/"),
        ("/kk/offline/shell", "/kk/offline/shell/"),
        # The query goes along: a shared link's tracking, a search's words, a page number.
        ("/statements/release?utm_source=x", "/statements/release/?utm_source=x"),
        ("/search?q=journalist&page=1", "/search/?q=journalist&page=1"),
        ("/ru/tags/press?page=1", "/ru/tags/press/?page=1"),
    ],
)
def test_the_slashless_address_moves_for_good_to_the_folder(client, published, old, new):
    response = client.get(old)
    assert response.status_code == 301
    assert response.headers["Location"] == new  # root-relative: right behind any proxy
    assert client.get(new).status_code == 200
    assert client.head(old).status_code == 301


def test_an_old_link_to_a_renamed_statement_still_arrives(client, publisher):
    statement = publisher.draft("First name")  # a slug changes only before publication
    publisher.save(statement, slug="second-name", publish=True)
    followed = client.get("/statements/first-name", follow_redirects=True)
    assert followed.status_code == 200 and followed.request.path == "/statements/second-name/"
    assert [r.status_code for r in followed.history] == [301, 301]


def test_the_default_language_prefix_moves_for_good_to_the_unprefixed_page(client, published):
    response = client.get("/en/about/")
    assert (response.status_code, response.headers["Location"]) == (301, "/about/")


def test_files_keep_their_names(client, published):
    for path in ("/feed.atom", "/tags/press/feed.atom", "/sitemap.xml", "/manifest.webmanifest", "/sw.js"):
        assert client.get(path).status_code == 200, path
    assert client.get("/feed.atom/").status_code == 404
    assert client.get("/api/statements/release").status_code == 200


def _article_links(html: str) -> list[str]:
    article = re.search(r"<article.*?</article>", html, re.S).group(0)
    return re.findall(r'<a href="([^"]+)"', article)


@pytest.mark.parametrize("base", ["http://localhost", "http://mirror.example/some/where"])
def test_article_links_are_relative_and_lead_to_the_right_pages(client, published, base):
    page = "/statements/release/"
    links = _article_links(client.get(page).get_data(as_text=True))
    assert links == ["../liberen/", "../osvobodite/", "../../tags/press/", "./"]
    # The same bytes wherever the page is: under another origin and prefix they stay inside it.
    resolved = [urljoin(base + page, link) for link in links]
    assert resolved == [
        base + "/statements/liberen/",
        base + "/statements/osvobodite/",
        base + "/tags/press/",
        base + "/statements/release/",
    ]
    titles = {
        path: client.get(urlsplit(url).path.removeprefix(urlsplit(base).path))
        for path, url in zip(links, resolved, strict=True)
    }
    assert all(response.status_code == 200 for response in titles.values())
    assert "Liberen a la periodista" in titles["../liberen/"].get_data(as_text=True)
    assert "Освободите журналистку" in titles["../osvobodite/"].get_data(as_text=True)


def test_a_statement_links_its_tag_in_its_own_interface_language(client, published):
    links = _article_links(client.get("/statements/osvobodite/").get_data(as_text=True))
    assert "../../ru/tags/press/" in links
    tag_page = client.get(urljoin("/statements/osvobodite/", "../../ru/tags/press/"))
    assert tag_page.status_code == 200 and '<html lang="ru"' in tag_page.get_data(as_text=True)


def test_the_synced_article_is_the_page_s_own(client, published):
    synced = client.get("/api/statements/release").get_json()
    assert synced["url"] == "/statements/release/"
    assert synced["article_html"] in client.get("/statements/release/").get_data(as_text=True)
    assert 'href="../liberen/"' in synced["article_html"]
    assert 'href="/statements/release/"' in synced["list_item_html"]


@pytest.mark.parametrize(
    ("page", "target", "link"),
    [
        ("/statements/a/", "/statements/b/", "../b/"),
        ("/statements/a/", "/statements/a/", "./"),
        ("/statements/a/", "/ru/tags/x%20y/", "../../ru/tags/x%20y/"),
        ("/statements/a/", "/", "../../"),
        ("/news/statements/a/", "/news/tags/x/?page=2", "../../tags/x/?page=2"),
        ("/statements/a/", "/feed.atom", "../../feed.atom"),
    ],
)
def test_relative_url(page, target, link):
    assert relative_url(page, target) == link
    assert urljoin("http://h" + page, link) == "http://h" + target


# ------------------------------------------------------- mounted under a prefix

MOUNTED = "http://localhost/news"  # WSGI SCRIPT_NAME /news, as a proxy or a static export's sub-path sets it


def test_every_address_of_a_page_stays_under_the_prefix(client, published):
    html = client.get("/statements/release/", base_url=MOUNTED).get_data(as_text=True)
    addresses = re.findall(r'(?:href|src|action|data-script|data-install-script)="([^"]*)"', html)
    assert addresses
    rooted = [address for address in addresses if address.startswith("/")]
    assert rooted and all(address.startswith("/news/") for address in rooted), rooted
    assert '<link rel="icon" href="/news/favicon.ico"' in html
    assert '<link rel="apple-touch-icon" href="/news/apple-touch-icon.png">' in html
    # The article is the same bytes as at the root: its links are relative.
    assert client.get("/api/statements/release", base_url=MOUNTED).get_json()["article_html"] in html


def test_the_slashless_address_moves_to_the_folder_under_the_prefix(client, published):
    response = client.get("/statements/release?x=1", base_url=MOUNTED)
    assert (response.status_code, response.headers["Location"]) == (301, "/news/statements/release/?x=1")


def test_the_manifest_and_the_worker_name_addresses_under_the_prefix(client, published):
    manifest = client.get("/ru/manifest.webmanifest", base_url=MOUNTED).get_json()
    assert (manifest["id"], manifest["scope"], manifest["start_url"]) == ("/news/", "/news/", "/news/ru/")
    assert all(icon["src"].startswith("/news/static/icons/") for icon in manifest["icons"])
    assert [s["url"] for s in manifest["shortcuts"]] == ["/news/ru/", "/news/ru/offline/#saved"]
    worker = client.get("/sw.js", base_url=MOUNTED).get_data(as_text=True)
    settings = json.loads(re.match(r"const SETTINGS=(.*);\n", worker).group(1))
    assert all(entry["url"].startswith("/news/") for entry in settings["precache"])
    assert all(script.startswith("/news/static/gen/") for script, _ in settings["languages"].values())
    # Below the worker's scope, which the worker puts before them with a language's prefix.
    assert "/offline/" in settings["languagePages"] and settings["listShellUrl"] == "/offline/list-shell/"
    assert client.get("/offline/shell/", base_url=MOUNTED).status_code == 200


def test_feeds_name_the_pages_under_the_prefix_once(client, published):
    feed = client.get("/feed.atom", base_url=MOUNTED).get_data(as_text=True)
    assert 'href="http://localhost/news/statements/release/"' in feed
    assert 'href="http://localhost/news/feed.atom"' in feed and "/news/news/" not in feed
    index = client.get("/sitemap.xml", base_url=MOUNTED).get_data(as_text=True)
    assert "<loc>http://localhost/news/sitemaps/0.xml</loc>" in index and "/news/news/" not in index
    sitemap = client.get("/sitemaps/0.xml", base_url=MOUNTED).get_data(as_text=True)
    assert "<loc>http://localhost/news/ru/</loc>" in sitemap and "/news/news/" not in sitemap
    assert "<loc>http://localhost/news/statements/release/</loc>" in sitemap
    assert (
        client.get("/api/sync", base_url=MOUNTED)
        .get_json()["statements"][0]["url"]
        .startswith("/news/statements/")
    )


def test_the_editor_s_preview_links_where_the_reader_s_page_does(editor_client, publisher):
    released = publisher.publish("Release the journalist", slug="release", tags=["press"])
    publisher.publish("Liberen a la periodista", lang="es", slug="liberen", translation_of="release")
    preview = editor_client.get(f"/editor/statements/{released}/preview").get_data(as_text=True)
    # The preview is at another address than the reader's page: its links are resolved as there.
    assert _article_links(preview) == ["/statements/liberen/", "/tags/press/", "/statements/release/"]


def test_article_html_is_the_same_bytes_at_any_origin_and_under_any_prefix(make_app, published):
    def article(app, base_url: str) -> str:
        render._rendered_article.cache_clear()  # rendered anew each time, not replayed
        with app.test_request_context("/statements/release/", base_url=base_url):
            connection = get_db()
            statement = store.get_by_slug(connection, "release")
            return str(render.article_html(statement, store.translations_of(connection, statement)))

    plain = article(make_app(), "http://localhost")
    assert 'class="share"><a href="./"' in plain.replace(' lang="en" dir="ltr"', "")
    assert article(make_app(BASE_URL="https://news.example"), "https://news.example") == plain
    assert article(make_app(), MOUNTED) == plain
    assert article(make_app(BASE_URL="https://mirror.example/news"), "https://mirror.example/news") == plain

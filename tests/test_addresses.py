"""Addresses as folders: every page's URL ends in "/", the slashless form moves there for good, article links are relative."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import pytest

from bulletin.http.addresses import relative_url


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

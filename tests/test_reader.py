"""Public pages, feeds and HTTP rules shared by every public response."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest

from bulletin.assets import bundles
from bulletin.authoring import changes
from bulletin.statements import db

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def site(publisher):
    """A small site: a tagged statement, a translation, an old one, a withdrawn one."""
    publisher.publish("Release the journalist", "<p>Free her now.</p>", slug="release", tags=["press"])
    publisher.publish(
        "Liberen a la periodista", "<p>Libérenla ya.</p>", lang="es", translation_of="release", tags=["press"]
    )
    publisher.publish("Older news", "<p>Old.</p>", published=dt.date(2020, 5, 1))
    publisher.withdraw(publisher.publish("Mistake", slug="mistake"), reason="Published by mistake.")
    return publisher


PUBLIC_URLS = [
    "/",
    "/?page=1",
    "/statements/release/",
    "/tags/press/",
    "/search/?q=free",
    "/feed.atom",
    "/tags/press/feed.atom",
    "/sitemap.xml",
    "/api/statements",
    "/api/statements/release",
    "/api/sync",
    "/about/",
]


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_public_responses_are_cacheable_and_set_no_cookie(client, site, url):
    response = client.get(url)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    assert "stale-if-error=" in response.headers["Cache-Control"]
    etag = response.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""


DOCUMENTS = [url for url in PUBLIC_URLS if not url.startswith("/api/")] + [
    "/nope",
    "/statements/mistake/",
]
SUBRESOURCES = ["/api/statements", "/api/sync", "/api/nope", "/manifest.webmanifest", "/favicon.ico"]
DOCUMENT_ONLY = ("Content-Security-Policy", "Referrer-Policy", "Permissions-Policy", "X-Frame-Options")


@pytest.mark.parametrize("url", SUBRESOURCES)
def test_answers_that_are_no_document_carry_only_the_headers_they_need(client, site, url):
    with client.get(url) as response:
        headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert not [name for name in DOCUMENT_ONLY if name in headers]


def test_the_page_script_and_stylesheets_carry_only_the_headers_they_need(client, site):
    page = client.get("/").get_data(as_text=True)
    script = page.split('<script src="', 1)[1].split('"', 1)[0]
    with client.get(script) as response:
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert not [name for name in DOCUMENT_ONLY if name in response.headers]


def test_the_workers_script_carries_the_policies_that_govern_a_worker(client, site):
    with client.get("/sw.js") as response:
        headers = response.headers
    assert "object-src 'none'" in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
    # Nothing frames, opens or grants permissions to a worker.
    assert not [
        name
        for name in ("Permissions-Policy", "X-Frame-Options", "Cross-Origin-Opener-Policy")
        if name in headers
    ]


@pytest.mark.parametrize("url", DOCUMENTS)
def test_security_headers_on_every_document(client, site, url):
    with client.get(url) as response:
        headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "nonce-" not in csp
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] and headers["Permissions-Policy"]


def test_inline_css_is_allowed_by_its_hash(client, app):
    import base64
    import hashlib
    import re

    page = client.get("/")
    css = re.search(r"<style>(.*?)</style>", page.get_data(as_text=True), re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in page.headers["Content-Security-Policy"]


def test_home_lists_newest_first_and_marks_languages(client, site):
    html = client.get("/").get_data(as_text=True)
    assert html.index("Liberen a la periodista") < html.index("Older news")
    assert "Mistake" not in html
    assert '<h2 lang="es" dir="ltr"><a href="/statements/liberen-a-la-periodista/">' in html
    assert '<html lang="en" dir="ltr">' in html


def test_paging(client, publisher, app):
    app.config["PAGE_SIZE"] = 2
    for n in range(3):
        publisher.publish(f"S{n}", published=dt.date(2022, 1, n + 1))
    first = client.get("/").get_data(as_text=True)
    assert re.search(r'rel="next" href="\?page=2&amp;before=[0-9a-f-]{36}"', first) and "S0" not in first
    older = re.search(r'rel="next" href="\?([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "S0" in client.get(f"/?{older}").get_data(as_text=True)
    second = client.get("/?page=2").get_data(as_text=True)
    assert "S0" in second and 'rel="prev"' in second
    assert client.get("/?page=3").status_code == 404
    assert client.get("/?page=x").status_code == 400
    assert client.get("/?page=-1").status_code == 400


def test_statement_page(client, site):
    html = client.get("/statements/release/").get_data(as_text=True)
    assert "<h1>Release the journalist</h1>" in html
    assert '<time datetime="2022-01-07">7 January 2022</time>' in html
    assert 'hreflang="es"' in html and 'href="../../tags/press/"' in html
    assert '<meta property="og:title" content="Release the journalist">' in html


def test_correction_shows_updated_and_note(client, publisher):
    statement_id = publisher.publish("Meeting", slug="meeting")
    publisher.revise(statement_id, title="Meeting", body="<p>On Sunday.</p>", correction_note="Day fixed.")
    html = client.get("/statements/meeting/").get_data(as_text=True)
    assert "Updated " in html and "Day fixed." in html and "On Sunday." in html


def test_withdrawn_statement_answers_410_with_reason(client, site):
    response = client.get("/statements/mistake/")
    assert response.status_code == 410
    assert "Published by mistake." in response.get_data(as_text=True)


def test_unknown_page_is_a_styled_404(client):
    response = client.get("/statements/nothing/")
    assert response.status_code == 404 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "There is nothing at this address." in html and "<style>" in html


def test_404_as_json_for_clients_that_ask(client):
    response = client.get("/nope", headers={"Accept": "application/json"})
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    assert "Accept" in response.headers["Vary"]


def test_rtl_statement_article(client, publisher):
    publisher.publish("بيان التضامن", "<p>نص.</p>", lang="ar", slug="tadamun")
    html = client.get("/statements/tadamun/").get_data(as_text=True)
    assert '<article class="statement" lang="ar" dir="rtl"' in html


def test_non_latin_slug_is_percent_encoded_in_links(client, publisher):
    publisher.publish("Заявление о выборах", lang="ru")
    html = client.get("/").get_data(as_text=True)
    href = "/statements/%D0%B7%D0%B0%D1%8F%D0%B2%D0%BB%D0%B5%D0%BD%D0%B8%D0%B5-%D0%BE-%D0%B2%D1%8B%D0%B1%D0%BE%D1%80%D0%B0%D1%85/"
    assert f'href="{href}"' in html
    assert client.get(href).status_code == 200


def test_search_page(client, site):
    html = client.get("/search/?q=free").get_data(as_text=True)
    assert "Release the journalist" in html and "Older news" not in html
    assert "No statement contains" in client.get("/search/?q=zzzz").get_data(as_text=True)
    assert client.get('/search/?q="NEAR(').status_code == 200


def test_tag_page_and_unknown_tag(client, site):
    html = client.get("/tags/press/").get_data(as_text=True)
    assert "Release the journalist" in html and "Older news" not in html
    assert client.get("/tags/unknown/").status_code == 404


def test_atom_feed_is_valid_and_full(client, site, app):
    app.config["BASE_URL"] = "https://bulletin.example"
    response = client.get("/feed.atom")
    assert response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)
    entries = feed.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}title").text for e in entries] == [
        "Liberen a la periodista",
        "Release the journalist",
        "Older news",
    ]
    first = entries[1]
    assert first.find(f"{ATOM}link").get("href") == "https://bulletin.example/statements/release/"
    assert first.find(f"{ATOM}content").text == "<p>Free her now.</p>"
    assert first.find(f"{ATOM}published").text == "2022-01-07T00:00:00+00:00"
    assert first.find(f"{ATOM}id").text.startswith("urn:uuid:")
    for required in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{required}") is not None


def test_tag_feed_and_sitemap(client, site):
    feed = ET.fromstring(client.get("/tags/press/feed.atom").data)
    assert len(feed.findall(f"{ATOM}entry")) == 2
    index = client.get("/sitemap.xml").get_data(as_text=True)
    assert "<sitemapindex" in index and "/sitemaps/0.xml</loc>" in index
    sitemap = client.get("/sitemaps/0.xml").get_data(as_text=True)
    assert "/statements/release/</loc>" in sitemap and "mistake" not in sitemap


def test_sitemap_parts_follow_creation_order(make_app, publisher):
    app = make_app(SITEMAP_PART_SIZE=2)
    publisher.app = app
    for n in range(5):
        publisher.publish(f"Statement {n}", slug=f"s{n}")
    client = app.test_client()
    index = client.get("/sitemap.xml").get_data(as_text=True)
    assert [f"/sitemaps/{part}.xml</loc>" in index for part in range(4)] == [True, True, True, False]
    last = client.get("/sitemaps/2.xml").get_data(as_text=True)
    assert "/statements/s4/</loc>" in last and "/statements/s3/<" not in last
    assert "/en/</loc>" not in last and "/ru/</loc>" in client.get("/sitemaps/0.xml").get_data(as_text=True)
    assert client.get("/sitemaps/3.xml").status_code == 404
    assert client.get("/sitemaps/99999999999999999999999.xml").status_code == 404
    assert client.get("/sitemaps/-1.xml").status_code == 404


def test_old_slug_redirects(client, app):
    connection = db.connect(app.config["DATABASE"])
    ctx = changes.tool_context("editor@example.org")
    statement_id = changes.create(connection, changes.Draft("Draft name", "x", "txt"), ctx).statement_id
    changes.save(
        connection, statement_id, changes.Draft("Draft name", "x", "txt", slug="final"), ctx, publish=True
    )
    connection.close()
    response = client.get("/statements/draft-name/")
    assert response.status_code == 301 and response.headers["Location"] == "/statements/final/"


def test_static_assets_are_immutable_and_precompressed(client, app):
    url = bundles.built(app).urls["css"]
    with client.get(url, headers={"Accept-Encoding": "br"}) as response:
        assert response.status_code == 200 and response.headers["Content-Encoding"] == "br"
        assert "immutable" in response.headers["Cache-Control"]
    with client.get("/favicon.ico") as response:
        assert response.status_code == 200

"""No request costs more than the page it asks for: arguments a route does not
read change nothing, the ones it reads are bounded, and a commit invalidates
only the kept pages it changed."""

from __future__ import annotations

import threading

import brotli
import pytest

from bulletin.assets.files import compressed
from bulletin.http.compress import Rendered, RenderedCache

BR = {"Accept-Encoding": "br"}
LONG_BODY = "<p>" + "Words of a statement that compress well enough. " * 60 + "</p>"


@pytest.fixture
def rendered(app):
    return app.extensions["bulletin_rendered"]


@pytest.fixture
def hot(app):
    return app.extensions["bulletin_hotpath"]


@pytest.fixture
def site(publisher):
    publisher.publish("First", LONG_BODY, slug="first", tags=("port",))
    return publisher


CANONICAL_AND_STRAYS = [
    ("/", ["/?utm_source=newsletter", "/?x=8137", "/?utm_source=a&x=b&fbclid=c"]),
    ("/?page=1", ["/?page=1&utm_source=a", "/?x=1&page=1", "/?page=1&page=2"]),
    (
        "/statements/first/",
        ["/statements/first/?page=2", "/statements/first/?x=random", "/statements/first/?q=x"],
    ),
    ("/tags/port/", ["/tags/port/?utm_campaign=x"]),
    ("/search/?q=words", ["/search/?q=words&x=1", "/search/?utm_source=a&q=words"]),
    ("/feed.atom", ["/feed.atom?x=1"]),
    ("/sitemap.xml", ["/sitemap.xml?x=123456", "/sitemap.xml?page=9"]),
    ("/api/statements", ["/api/statements?x=1"]),
    ("/api/statements/first", ["/api/statements/first?limit=3"]),
    ("/api/sync?since=0&limit=5", ["/api/sync?limit=5&since=0&x=1"]),
    ("/api/openapi.json", ["/api/openapi.json?x=1"]),
    ("/manifest.webmanifest", ["/manifest.webmanifest?v=2"]),
    ("/offline/shell/", ["/offline/shell/?x=1"]),
    ("/offline/list-shell/", ["/offline/list-shell/?page=2"]),
    ("/offline/tag-shell/", ["/offline/tag-shell/?before=x"]),
]


@pytest.mark.parametrize(("canonical", "strays"), CANONICAL_AND_STRAYS)
def test_arguments_a_route_does_not_read_change_neither_answer_nor_key(
    client, site, rendered, canonical, strays
):
    first = client.get(canonical, headers=BR)
    assert first.status_code == 200
    entries = len(rendered)
    for stray in strays:
        answer = client.get(stray, headers=BR)
        assert answer.status_code == 200, stray
        assert answer.headers["ETag"] == first.headers["ETag"], stray
        assert answer.data == first.data, stray
    assert len(rendered) == entries, "a stray argument rendered the page again"


def test_stray_arguments_are_replayed_without_flask_and_add_no_entry(client, site, hot, flask_requests):
    client.get("/", headers=BR)
    client.get("/", headers=BR)
    kept, reached = len(hot.entries), len(flask_requests)
    for number in range(50):
        assert client.get(f"/?utm_source={number}", headers=BR).status_code == 200
    assert len(hot.entries) == kept and len(flask_requests) == reached


def test_an_argument_a_route_does_not_read_is_answered_but_not_kept_apart(client, site, hot):
    client.get("/statements/first/")
    kept = len(hot.entries)
    for number in range(2, 30):
        assert client.get(f"/statements/first/?page={number}").status_code == 200
    assert len(hot.entries) == kept


@pytest.mark.parametrize("path", ["/", "/tags/port/", "/api/statements", "/search/?q=words&"])
def test_a_page_past_the_last_is_404_before_anything_is_rendered(client, site, rendered, path):
    at = path + ("" if path.endswith("&") else "?")
    assert client.get(at + "page=1").status_code == 200
    entries = len(rendered)
    for page in ("2", "3", "51", "922337203685477580", "9223372036854775808", "99999999999999999999"):
        assert client.get(at + f"page={page}").status_code == 404, page
    assert client.get(at + "page=" + "9" * 21).status_code == 400
    assert len(rendered) == entries


def test_search_text_is_bounded_and_nul_is_plain_text(client, site):
    assert client.get("/search/?q=" + "a" * 200).status_code == 200
    assert client.get("/search/?q=" + "a" * 201).status_code == 400
    for query in ("a%00b", "%00", "%22", "a%22b", "NEAR(a", "*", "a%00%22b%0A"):
        assert client.get(f"/search/?q={query}").status_code == 200, query
    assert b"First" in client.get("/search/?q=words%00").data


def test_limit_is_within_its_maximum(client, site):
    assert client.get("/api/sync?limit=200").status_code == 200
    for limit in ("201", "0", "-1", "%C2%B2", "9223372036854775808"):
        assert client.get(f"/api/sync?limit={limit}").status_code == 400, limit


def test_bodies_kept_are_compressed_best_and_one_off_bodies_cheaply(client, site):
    kept = client.get("/statements/first/", headers=BR)
    plain = client.get("/statements/first/", headers={"Accept-Encoding": "identity"}).data
    assert kept.headers["Content-Encoding"] == "br"
    assert kept.data == brotli.compress(plain, quality=11)

    searched = client.get("/search/?q=words", headers=BR)
    plain = client.get("/search/?q=words", headers={"Accept-Encoding": "identity"}).data
    assert searched.headers["Content-Encoding"] == "br"
    assert searched.data == brotli.compress(plain, quality=5)


def test_cheap_compression_is_what_it_says():
    body = LONG_BODY.encode() * 20
    assert compressed(body, best=False)["br"] == brotli.compress(body, quality=5)
    assert compressed(body)["br"] == brotli.compress(body, quality=11)


def test_the_rendered_cache_is_bounded_by_entries_as_well_as_bytes():
    cache = RenderedCache(max_bytes=10**9, max_entries=3)
    for key in "abcde":
        cache.put(key, Rendered(200, (), {"identity": b"x"}))
    assert len(cache) == 3
    assert cache.get("a") is None and cache.get("e") is not None


def test_a_flood_of_one_off_answers_keeps_to_its_own_budget(client, site, rendered, hot, flask_requests):
    rendered.one_off = RenderedCache(max_bytes=10**9, max_entries=20)  # the real one, smaller
    page = client.get("/statements/first/", headers=BR)
    kept_pages = len(rendered.kept)
    for number in range(60):
        assert client.get(f"/search/?q=words+{number}", headers=BR).status_code == 200
    # The searches recycled their own share; the page readers read is still kept.
    assert len(rendered.kept) == kept_pages
    assert len(rendered.one_off) == 20
    before = len(flask_requests)
    assert client.get("/statements/first/", headers=BR).data == page.data
    assert len(flask_requests) == before  # replayed by the hot path, not rendered again


def test_the_hot_path_replays_small_one_off_answers_but_not_long_ones(client, site, hot, flask_requests, app):
    for number in range(30):
        site.publish(f"Statement {number}", LONG_BODY, slug=f"s{number}")
    long_answer = "/api/sync?since=0&limit=50"
    assert len(client.get(long_answer, headers={"Accept-Encoding": "identity"}).data) > 16 * 1024
    cursor = client.get(long_answer).get_json()["cursor"]
    short_answer = f"/api/sync?since={cursor}&limit=50"
    client.get(short_answer)
    before = len(flask_requests)
    client.get(short_answer)
    assert len(flask_requests) == before  # "nothing new" replayed
    client.get(long_answer, headers={"Accept-Encoding": "identity"})
    assert len(flask_requests) == before + 1  # the long one-off answer went through Flask again


def test_threads_missing_the_same_page_at_once_make_it_once():
    cache = RenderedCache(max_bytes=10**6)
    started, release = threading.Event(), threading.Event()
    made = []

    def slow_make():
        made.append("first")
        started.set()
        release.wait(5)
        return Rendered(200, (), {"identity": b"page"})

    def quick_make():
        made.append("second")
        return Rendered(200, (), {"identity": b"other"})

    results = []
    first = threading.Thread(target=lambda: results.append(cache.get_or_make("k", slow_make)))
    first.start()
    assert started.wait(5)
    second = threading.Thread(target=lambda: results.append(cache.get_or_make("k", quick_make)))
    second.start()
    second.join(0.2)  # without waiting for the first, the second would have made its own by now
    release.set()
    first.join(5)
    second.join(5)
    assert made == ["first"]
    assert [r.bodies["identity"] for r in results] == [b"page", b"page"]
    assert cache.get_or_make("other", quick_make).bodies["identity"] == b"other"  # nothing left locked


def test_a_commit_invalidates_only_the_pages_whose_parts_changed(client, publisher, hot, flask_requests):
    publisher.publish("First", slug="first")
    second = publisher.publish("Second", slug="second")
    for path in ("/statements/first/", "/statements/second/", "/api/statements/first", "/"):
        client.get(path)
    reached = len(flask_requests)

    publisher.revise(second, title="Second, corrected", body="<p>New text.</p>")

    # Untouched pages are checked with a few reads and replayed, without Flask.
    assert client.get("/statements/first/").status_code == 200
    assert client.get("/api/statements/first").status_code == 200
    assert len(flask_requests) == reached and hot.rechecked == 2
    # The corrected page and the list that shows it are rendered again.
    assert b"Second, corrected" in client.get("/statements/second/").data
    assert b"Second, corrected" in client.get("/").data
    assert len(flask_requests) == reached + 2


def test_a_commit_that_changes_no_statement_keeps_every_page(client, publisher, hot, flask_requests, app):
    publisher.publish("First", slug="first")
    for path in ("/", "/statements/first/", "/feed.atom", "/api/sync"):
        client.get(path)
    reached = len(flask_requests)
    connection = publisher.connection()
    with connection:
        # Any write moves SQLite's data_version: here one no page shows.
        connection.execute("CREATE TABLE IF NOT EXISTS unrelated (x)")
        connection.execute("INSERT INTO unrelated VALUES (1)")
    connection.close()
    for path in ("/", "/statements/first/", "/feed.atom", "/api/sync"):
        assert client.get(path).status_code == 200
    assert len(flask_requests) == reached


def test_a_withdrawal_is_never_replayed_as_the_page(client, publisher):
    statement = publisher.publish("Soon gone", slug="gone")
    assert client.get("/statements/gone/").status_code == 200
    assert client.get("/api/statements/gone").status_code == 200
    publisher.withdraw(statement)
    assert client.get("/statements/gone/").status_code == 410
    assert client.get("/api/statements/gone").status_code == 410

"""The hot path replays public answers without Flask, and never replays a stale one."""

from __future__ import annotations

import datetime as dt

import pytest


def test_a_repeated_page_is_replayed_byte_for_byte(client, publisher, flask_requests):
    publisher.publish("Hot", "<p>Often read.</p>", slug="hot")
    first = client.get("/statements/hot/", headers={"Accept-Encoding": "br"})
    second = client.get("/statements/hot/", headers={"Accept-Encoding": "br"})
    assert len(flask_requests) == 1
    assert second.status_code == 200 and second.headers["Content-Encoding"] == "br"
    assert second.get_data() == first.get_data()
    assert list(second.headers.items()) == list(first.headers.items())


def test_a_write_by_another_connection_ends_the_replay(client, publisher, flask_requests):
    statement_id = publisher.publish("Hot", "<p>First text.</p>", slug="hot")
    before = client.get("/statements/hot/")
    client.get("/statements/hot/")
    publisher.revise(statement_id, title="Hot", body="<p>Corrected text.</p>")
    after = client.get("/statements/hot/")
    assert len(flask_requests) == 2
    assert after.headers["ETag"] != before.headers["ETag"]
    assert "Corrected text." in after.get_data(as_text=True)


def test_a_list_sees_a_new_statement_at_once(client, publisher):
    publisher.publish("Old news", slug="old")
    assert "Old news" in client.get("/").get_data(as_text=True)
    publisher.publish("Fresh news", slug="fresh")
    assert "Fresh news" in client.get("/").get_data(as_text=True)


def test_not_modified_is_replayed_with_the_pages_headers(client, publisher, flask_requests):
    publisher.publish("Hot", slug="hot")
    etag = client.get("/api/statements/hot").headers["ETag"]
    first = client.get("/api/statements/hot", headers={"If-None-Match": etag})
    second = client.get("/api/statements/hot", headers={"If-None-Match": f'"other", {etag}'})
    assert first.status_code == second.status_code == 304
    assert second.headers["ETag"] == etag and "public" in second.headers["Cache-Control"]
    assert second.get_data() == b""
    assert len(flask_requests) == 2  # the page, then the first 304
    stale = client.get("/api/statements/hot", headers={"If-None-Match": '"other"'})
    assert stale.status_code == 200 and len(flask_requests) == 2


def test_each_client_gets_its_own_encoding(client, publisher):
    publisher.publish("Hot", "<p>" + "Words that compress well. " * 40 + "</p>", slug="hot")
    for accepted, expected in [("br, gzip", "br"), ("gzip", "gzip"), ("", None), ("br;q=0, gzip", "gzip")]:
        for _ in range(2):
            response = client.get("/statements/hot/", headers={"Accept-Encoding": accepted})
            assert response.headers.get("Content-Encoding") == expected, accepted


def test_requests_with_cookies_or_other_methods_reach_flask(client, publisher, flask_requests):
    publisher.publish("Hot", slug="hot")
    client.get("/statements/hot/")
    client.head("/statements/hot/")
    client.set_cookie("something", "1")
    client.get("/statements/hot/")
    assert len(flask_requests) == 3


def test_the_worker_keeps_its_own_cache_control_on_304(client):
    etag = client.get("/sw.js").headers["ETag"]
    for _ in range(2):
        response = client.get("/sw.js", headers={"If-None-Match": etag})
        assert response.status_code == 304 and response.headers["Cache-Control"] == "no-cache"


def test_a_scheduled_statement_appears_when_its_time_comes(client, publisher, clock):
    publisher.publish("Later", "<p>Embargoed until noon.</p>", published=clock.now + dt.timedelta(minutes=5))
    for _ in range(2):
        assert "Later" not in client.get("/").get_data(as_text=True)
    clock.advance(6 * 60)
    assert "Later" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    "header, expected",
    [
        ('"abc"', 304),
        ('"x", "abc"', 304),
        ("*", 304),
        ('W/"abc"', 200),
        ('"abcd"', 200),
        ('"ab"', 200),
    ],
)
def test_if_none_match_is_read_as_flask_reads_it(client, publisher, header, expected):
    publisher.publish("Hot", slug="hot")
    etag = client.get("/statements/hot/").headers["ETag"].strip('"')
    header = header.replace("abc", etag)
    # The first answer comes from Flask, the second from the hot path: they agree.
    assert [
        client.get("/statements/hot/", headers={"If-None-Match": header}).status_code for _ in range(2)
    ] == [expected, expected]

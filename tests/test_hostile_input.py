"""Hostile values in every argument and path segment of every public route: never a 5xx.

The app is in testing mode, so an unhandled exception fails the request
here instead of turning into a 500 that might go unnoticed.
"""

from __future__ import annotations

import pytest

# Written as they travel in a URL: "²", 2**63, a NUL, a byte that is no UTF-8, a long value, a climb out.
HOSTILE = (
    "%C2%B2",
    str(2**63),
    "922337203685477580",
    "-1",
    "0",
    "%00",
    "%FF",
    "a" * 10_000,
    "../",
    "..%2F..%2Fetc%2Fpasswd",
)
ARGUMENTS = ("page", "before", "q", "since", "limit", "x")
ROUTES = (
    "/",
    "/statements/first/",
    "/tags/port/",
    "/search/",
    "/feed.atom",
    "/tags/port/feed.atom",
    "/sitemap.xml",
    "/api/statements",
    "/api/statements/first",
    "/api/sync",
    "/api/openapi.json",
    "/sw.js",
    "/manifest.webmanifest",
    "/offline/",
    "/offline/shell/",
    "/offline/list-shell/",
    "/offline/tag-shell/",
    "/healthz",
)
# Routes with a segment of their own, written with {} where the hostile value goes.
SEGMENTS = (
    "/statements/{}/",
    "/tags/{}/",
    "/tags/{}/feed.atom",
    "/api/statements/{}",
    "/api/{}",
    "/{}",
    "/offline/{}",
)


@pytest.fixture
def site(client, publisher):
    publisher.publish("First", slug="first", tags=("port",))
    publisher.withdraw(publisher.publish("Gone", slug="gone"))
    return client


@pytest.mark.parametrize("route", ROUTES)
def test_no_hostile_argument_is_a_server_error(site, route):
    for name in ARGUMENTS:
        for value in HOSTILE:
            for query in (f"{name}={value}", f"q=port&{name}={value}", f"{name}={value}&{name}=1"):
                answer = site.get(f"{route}?{query}")
                assert answer.status_code < 500, (route, query[:60], answer.status_code)


@pytest.mark.parametrize("route", SEGMENTS)
def test_no_hostile_path_segment_is_a_server_error(site, route):
    for value in HOSTILE:
        answer = site.get(route.format(value))
        assert answer.status_code < 500, (route, value[:60], answer.status_code)


@pytest.mark.parametrize(
    "path",
    ["/?page=%C2%B2", "/api/statements?page=%C2%B2", "/search/?q=x&page=%C2%B2", "/api/sync?limit=%C2%B2"],
)
def test_a_superscript_two_is_a_400(site, path):
    assert site.get(path).status_code == 400


@pytest.mark.parametrize("path", ["/", "/api/statements", "/search/?q=first&", "/tags/port/"])
def test_a_page_whose_offset_overflows_is_a_404(site, path):
    at = path + ("" if path.endswith("&") else "?")
    assert site.get(at + "page=922337203685477580").status_code == 404


def test_a_nul_in_a_search_is_searched_as_text(site):
    answer = site.get("/search/?q=a%00b")
    assert answer.status_code == 200

"""Query arguments are read one way on every page: the reader's lists, the API and the audit log."""

from __future__ import annotations

import pytest

from bulletin.http.arguments import BadArgument, page_number, whole_number

LISTS = ("/", "/search/?q=x&", "/api/statements", "/editor/audit")


def at(path: str, query: str) -> str:
    return path + ("" if path.endswith("&") else "?") + query


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("page", ["0", "-1", "x", "1.5", "²", "٣", ""])
def test_a_page_that_is_no_positive_whole_number_is_400_everywhere(editor_client, path, page):
    assert editor_client.get(at(path, f"page={page}")).status_code == 400


@pytest.mark.parametrize("path", LISTS)
def test_the_first_page_is_page_1(editor_client, path):
    assert editor_client.get(at(path, "page=1")).status_code == 200


def test_a_bad_page_says_what_page_must_be():
    assert page_number({}) == 1 and page_number({"page": "12"}) == 12
    with pytest.raises(BadArgument, match="page must be a positive whole number"):
        page_number({"page": "0"})


def test_a_bounded_number_names_its_bounds():
    assert whole_number({"limit": "200"}, "limit", 50, low=1, high=200) == 200
    with pytest.raises(BadArgument, match="limit must be a whole number from 1 to 200"):
        whole_number({"limit": "201"}, "limit", 50, low=1, high=200)

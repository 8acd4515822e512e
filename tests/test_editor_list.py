"""The editor's statement list: sorted by publication date, filtered by status, language and tag, searched."""

from __future__ import annotations

import re

import pytest

_ITEM = re.compile(r'<li lang="[^"]*" dir="[^"]*"><a href="/editor/statements/[^"]+">([^<]+)</a>')


def titles(editor_client, **query) -> list[str]:
    """The statement titles the list shows for ``query``, top to bottom."""
    response = editor_client.get("/editor/", query_string=query)
    assert response.status_code == 200
    return _ITEM.findall(response.get_data(as_text=True))


@pytest.fixture
def statements(editor_client):
    """Published ones created out of date order, a dated and an undated draft, a withdrawn one."""
    make = editor_client.create
    make("Middle", "Water for the north.", published="2024-03-01", lang="en", tags="water", action="publish")
    make("Oldest", "Power cuts again.", published="2023-01-10", lang="en", tags="power", action="publish")
    make(
        "Newest", "Вода на севере.", published="2024-06-01", lang="ru", tags="water, north", action="publish"
    )
    make("Undated draft", "Still being written about water.", lang="en")
    make("Dated draft", "A draft about power.", published="2022-05-05", lang="ru")
    gone = make("Gone", "Withdrawn text.", published="2023-07-07", lang="en", action="publish")
    editor_client.get(f"/editor/statements/{gone}")
    assert (
        editor_client.post(
            f"/editor/statements/{gone}/withdraw", {"reason": "Wrong.", "confirm": "yes"}
        ).status_code
        == 302
    )


def test_the_list_is_sorted_by_publication_date_by_default(editor_client, statements):
    assert titles(editor_client) == ["Undated draft", "Dated draft", "Newest", "Middle", "Oldest", "Gone"]


def test_other_orders_can_be_asked_for(editor_client, statements):
    assert titles(editor_client, sort="title") == [
        "Dated draft",
        "Undated draft",
        "Middle",
        "Newest",
        "Oldest",
        "Gone",
    ]
    # Last revised first: the order of creation here, newest first.
    assert titles(editor_client, sort="revised") == [
        "Dated draft",
        "Undated draft",
        "Newest",
        "Oldest",
        "Middle",
        "Gone",
    ]


def test_filters_by_status_language_and_tag(editor_client, statements):
    assert titles(editor_client, status="published") == ["Newest", "Middle", "Oldest"]
    assert titles(editor_client, status="draft") == ["Undated draft", "Dated draft"]
    assert titles(editor_client, lang="ru") == ["Dated draft", "Newest"]
    assert titles(editor_client, lang="RU") == ["Dated draft", "Newest"]
    assert titles(editor_client, tag="water") == ["Newest", "Middle"]
    assert titles(editor_client, tag="Water") == [
        "Newest",
        "Middle",
    ]  # tags are compared in their normal form
    assert titles(editor_client, tag="water", lang="en", status="published") == ["Middle"]
    assert titles(editor_client, tag="no-such-tag") == []


def test_a_filtered_list_says_how_many_match_and_offers_everything_again(editor_client, statements):
    html = editor_client.get("/editor/?status=draft").get_data(as_text=True)
    assert "2 statements match." in html and "Show all statements" in html
    assert "Drafts (2)" in html and "Published (" not in html
    assert "Show all statements" not in editor_client.get("/editor/").get_data(as_text=True)


def test_search_matches_every_word_in_any_status_and_any_case(editor_client, statements):
    assert titles(editor_client, q="water") == ["Undated draft", "Newest", "Middle"]  # Newest by its tag
    assert titles(editor_client, q="WATER north") == ["Newest", "Middle"]
    assert titles(editor_client, q="the NORTH") == ["Middle"]
    assert titles(editor_client, q="вода") == ["Newest"]  # case folded beyond ASCII
    assert titles(editor_client, q="withdrawn") == ["Gone"]
    assert titles(editor_client, q="power", status="draft") == ["Dated draft"]
    assert titles(editor_client, q="nothing-like-this") == []


@pytest.mark.parametrize(
    "query",
    [
        "status=deleted",
        "sort=random",
        "lang=not%20a%20language",
        "lang=" + "e" * 40,
        "tag=!!!",
        "tag=" + "t" * 101,
        "q=" + "w" * 201,
    ],
)
def test_bad_filter_values_are_a_400_that_names_the_argument(editor_client, statements, query):
    response = editor_client.get(f"/editor/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] + " must " in response.get_data(as_text=True)


def test_empty_filters_are_no_filters(editor_client, statements):
    assert titles(editor_client, status="", lang="", tag="", q="", sort="") == titles(editor_client)

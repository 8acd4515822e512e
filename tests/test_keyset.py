"""Keyset paging gives the same pages as OFFSET paging, at any depth."""

from __future__ import annotations

import datetime as dt

from bulletin.statements import db, store


def _pages_by_keyset(connection, size: int, tag: str | None = None) -> list[list[str]]:
    pages = [store.list_published(connection, limit=size, tag=tag)]
    while pages[-1]:
        pages.append(store.list_published_older_than(connection, pages[-1][-1].id, limit=size, tag=tag))
    return [[s.slug for s in page] for page in pages[:-1]]


def _pages_by_offset(connection, size: int, tag: str | None = None) -> list[list[str]]:
    pages, offset = [], 0
    while page := store.list_published(connection, limit=size, offset=offset, tag=tag):
        pages.append([s.slug for s in page])
        offset += size
    return pages


def test_keyset_pages_equal_offset_pages_with_ties_and_tags(app, publisher):
    for n in range(23):
        # Several statements a day, so that the order depends on the tie-break too.
        publisher.publish(
            f"Number {n}",
            slug=f"n{n}",
            published=dt.date(2022, 1, 1 + n // 4),
            tags=["even"] if n % 2 == 0 else [],
        )
    connection = db.connect(app.config["DATABASE"])
    for size in (1, 5, 7):
        assert _pages_by_keyset(connection, size) == _pages_by_offset(connection, size)
        assert _pages_by_keyset(connection, size, "even") == _pages_by_offset(connection, size, "even")
    connection.close()


def test_a_withdrawn_statement_still_marks_its_place(app, publisher):
    ids = [
        publisher.publish(f"Number {n}", slug=f"n{n}", published=dt.date(2022, 1, 1 + n)) for n in range(5)
    ]
    publisher.withdraw(ids[3])
    connection = db.connect(app.config["DATABASE"])
    after = store.list_published_older_than(connection, ids[3], limit=10)
    assert [s.slug for s in after] == ["n2", "n1", "n0"]
    assert store.list_published_older_than(connection, "no-such-id", limit=10) is None
    connection.close()


def test_recent_search_ranks_like_search_within_its_window(app, publisher):
    for n in range(12):
        words = " ".join(["protest"] * (n + 1))  # distinct scores: ties may fall either way
        publisher.publish(f"Number {n}", f"<p>{words} and other words {n}</p>", slug=f"n{n}")
    connection = db.connect(app.config["DATABASE"])
    for size, offset in [(5, 0), (5, 5), (20, 0)]:
        full = store.search(connection, "protest", limit=size, offset=offset)
        recent = store.search_recent(connection, "protest", limit=size, offset=offset)
        assert [s.slug for s in recent] == [s.slug for s in full]
    newest = store.search_recent(connection, "protest", limit=20, window=3)
    assert sorted(s.slug for s in newest) == ["n10", "n11", "n9"]
    assert store.search_recent(connection, "  ", limit=5) == []
    connection.close()

"""Numbered SQL migrations, and the few steps SQL alone cannot do.

A backfill runs right after the SQL file of its number, in the same
transaction, on rows the file could not fill (values only Python computes).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from bulletin.statements import sanitize, words


def _revision_descriptions(db: sqlite3.Connection) -> None:
    rows = db.execute("SELECT id, body_html FROM revisions WHERE description IS NULL").fetchall()
    db.executemany(
        "UPDATE revisions SET description = ? WHERE id = ?",
        [(sanitize.description(body_html), revision_id) for revision_id, body_html in rows],
    )


def _search_terms(db: sqlite3.Connection) -> None:
    db.execute("DELETE FROM statements_terms")  # run again over a database that had it: rebuilt, not doubled
    rows = db.execute(
        "SELECT s.rowid, s.lang, r.title, r.summary, r.body_html FROM statements s"
        " JOIN revisions r ON r.id = s.current_revision WHERE s.status = 'published'"
    ).fetchall()
    db.executemany(
        "INSERT INTO statements_terms (rowid, title, body) VALUES (?, ?, ?)",
        [
            (rowid, *words.index_row(title, summary, sanitize.plain_text(body_html), lang))
            for rowid, lang, title, summary, body_html in rows
        ],
    )


BACKFILLS: dict[int, Callable[[sqlite3.Connection], None]] = {5: _revision_descriptions, 10: _search_terms}

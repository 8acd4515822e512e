"""A statement's signed record: exactly what devices store, as a contract.

One record per published revision, correction and withdrawal, with exactly
the keys of :data:`KEYS`, always present, ``null`` when empty (``tags`` is
a list, empty when there are none). ``epoch`` (the database's rising epoch
number) and ``seq`` (the statement's latest change) order records;
``article_html`` is what devices display. The record is signed as canonical
JSON by the pure :mod:`bulletin.signing` package (:mod:`bulletin.site.signatures`);
any change of any field, ``article_html`` included, is a new payload and so
a new signature. :mod:`bulletin.site.render` puts the envelope beside the
fields as ``signed`` in every statement object.
"""

from __future__ import annotations

import sqlite3

from bulletin.statements import epochs
from bulletin.statements.records import Statement, iso

KEYS = (
    "type",
    "v",
    "id",
    "revision",
    "epoch",
    "seq",
    "slug",
    "lang",
    "dir",
    "translation_group",
    "title",
    "summary",
    "tags",
    "published",
    "updated",
    "correction_note",
    "article_html",
    "withdrawn_at",
    "reason",
)


def statement_record(db: sqlite3.Connection, statement: Statement, article: str) -> dict:
    """The record of a published statement whose ``<article>`` is ``article`` (as ``render.article_html`` makes it)."""
    return {
        "type": "statement",
        "v": 1,
        "id": statement.id,
        "revision": statement.revision,
        "epoch": epochs.number(db),
        "seq": statement.change_seq or 0,
        "slug": statement.slug,
        "lang": statement.lang,
        "dir": statement.dir,
        "translation_group": statement.translation_group,
        "title": statement.title,
        "summary": statement.summary or None,
        "tags": list(statement.tags),
        "published": iso(statement.published),
        "updated": iso(statement.updated_at),
        "correction_note": statement.correction_note or None,
        "article_html": article,
        "withdrawn_at": None,
        "reason": None,
    }


def withdrawal_record(db: sqlite3.Connection, statement: Statement, notice: str) -> dict:
    """The record of a withdrawn statement: its notice as ``article_html``, nothing of its text."""
    return {
        **statement_record(db, statement, notice),
        "type": "withdrawal",
        "summary": None,
        "tags": [],
        "correction_note": None,
        "withdrawn_at": iso(statement.withdrawn_at),
        "reason": statement.withdrawal_reason or None,
    }

"""A statement's signed record: exactly what devices store, as a contract.

One record per published revision, correction and withdrawal, with exactly
the keys of :data:`KEYS`, always present, ``null`` when empty (``tags`` is
a list, empty when there are none). ``epoch`` (the database's rising epoch
number) and ``seq`` (the statement's latest change) order records;
``article_html`` is what devices display. The record is signed as canonical
JSON by the pure :mod:`bulletin.signing` package; any change of any field,
``article_html`` included, is a new payload and so a new signature.
"""

from __future__ import annotations

import sqlite3

from bulletin.signing import canonical
from bulletin.site import signatures
from bulletin.site.render import article_html, withdrawal_notice_html
from bulletin.statements import epochs, store
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
    """The record of a published statement whose ``<article>`` is ``article`` (as :func:`render.article_html` makes it)."""
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


def record_of(db: sqlite3.Connection, statement: Statement) -> dict:
    """The record of a published or withdrawn statement, rendered as its page shows it."""
    if statement.is_withdrawn:
        return withdrawal_record(db, statement, str(withdrawal_notice_html(statement)))
    return statement_record(db, statement, str(article_html(statement, store.translations_of(db, statement))))


def signed_record(db: sqlite3.Connection, statement: Statement) -> dict | None:
    """The envelope of the statement's record; None when the site has no key that may sign."""
    return signatures.signed(db, record_of(db, statement), statement.id)


def sign_unsigned(db: sqlite3.Connection) -> int:
    """Sign every current record (published and withdrawn statements) that has no valid kept signature; how many."""
    current = signatures.signer()
    if current is None:
        return 0
    made = 0
    for status in ("published", "withdrawn"):
        for statement in store.list_by_status(db, status):
            document = record_of(db, statement)
            if signatures.kept_signature(db, canonical.dumps(document), current.valid) is None:
                signatures.signed(db, document, statement.id)
                made += 1
    return made

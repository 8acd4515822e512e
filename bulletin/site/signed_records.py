"""Each published or withdrawn statement's signed record, as the envelope devices store.

The one place the sync files, the JSON API, the ``keys`` commands and
bundles get a statement's envelope from, so its payload bytes are the same
wherever it travels: the article is rendered in the statement's own
language with links relative to its page, nothing of the origin in it.
"""

from __future__ import annotations

import sqlite3

from bulletin.site import records, render, signatures
from bulletin.statements import store
from bulletin.statements.records import Statement


def record_of(db: sqlite3.Connection, statement: Statement) -> dict:
    """The record of a published or withdrawn statement, rendered as its page shows it."""
    if statement.is_withdrawn:
        return records.withdrawal_record(db, statement, str(render.withdrawal_notice_html(statement)))
    article = render.article_html(statement, store.translations_of(db, statement))
    return records.statement_record(db, statement, str(article))


def envelope(db: sqlite3.Connection, statement: Statement) -> dict | None:
    """The envelope of the statement's current record (``{"payload", "sig", "kid"}``), signed by a key that
    may sign now; None when the site has no such key."""
    if signatures.signer() is None:
        return None
    return signatures.signed(db, record_of(db, statement), statement.id)

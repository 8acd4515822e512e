"""The JSON objects of statements (API, sync): fields for the page and the list, and the signed record.

``signed`` is the statement's envelope from :mod:`bulletin.site.signed_records`, the very bytes the
sync files carry; the object's fields equal its payload's.
"""

from __future__ import annotations

import sqlite3

from bulletin.site import render, signed_records
from bulletin.statements import store
from bulletin.statements.records import Statement, iso


def statement_object(db: sqlite3.Connection, statement: Statement) -> dict:
    """The JSON object of one published statement (API, sync, exports).

    ``signed`` is the envelope of its signed record, whose payload's fields
    equal the object's (null when the site has no key that may sign).
    """
    translations = store.translations_of(db, statement)
    article = str(render.article_html(statement, translations))
    return {
        "id": statement.id,
        "revision": statement.revision,
        "slug": statement.slug,
        "url": render.page_url(statement),
        "title": statement.title,
        "summary": statement.summary or None,
        "lang": statement.lang,
        "dir": statement.dir,
        "published": iso(statement.published),
        "updated": iso(statement.updated_at),
        "tags": list(statement.tags),
        "translations": render.translation_links(translations),
        "correction_note": statement.correction_note or None,
        "body_html": statement.body_html,
        "article_html": article,
        "list_item_html": str(render.list_item_html(statement)),
        "list_order": render.list_order(statement),
        "signed": signed_records.envelope(db, statement),
    }


def withdrawal_object(statement: Statement, db: sqlite3.Connection | None = None) -> dict:
    """The JSON notice that replaces a withdrawn statement on devices.

    ``article_html`` is the notice as the server renders it, so a device puts
    it in the page shell in place of the statement's text. With ``db``,
    ``signed`` is the envelope of the withdrawal's signed record.
    """
    notice = str(render.withdrawal_notice_html(statement))
    found = {
        "id": statement.id,
        "slug": statement.slug,
        "url": render.page_url(statement),
        "withdrawn_at": iso(statement.withdrawn_at),
        "reason": statement.withdrawal_reason,
        "article_html": notice,
    }
    if db is not None:
        found["signed"] = signed_records.envelope(db, statement)
    return found

"""One statement, rendered once for every place that shows it.

The statement page embeds :func:`article_html` unchanged, and the JSON API
sends the very same string as ``article_html``, so a device can rebuild the
page offline by putting it into the page shell: there is no second renderer
to drift from the server's.
"""

from __future__ import annotations

import sqlite3
from functools import lru_cache

from flask import current_app, has_request_context, render_template, request
from markupsafe import Markup

from bulletin.assets import bundles
from bulletin.i18n import interface, interface_lang, statement_interface
from bulletin.site import records, signatures
from bulletin.statements import store
from bulletin.statements.records import Statement, iso, stored_time


def article_html(statement: Statement, translations: list[Statement]) -> Markup:
    """The statement's ``<article>`` element exactly as its page contains it, in its page's interface language."""
    # Everything the template's output depends on, besides the two records:
    # the build (templates), the interface language and the time zone dates
    # are shown in. Never the site's address or mount prefix: every link in
    # it is relative, so the same bytes hold at any origin and under any path.
    # Records are immutable, so a change is a new key.
    config = current_app.config
    lang = statement_interface(statement.lang)
    context = (bundles.built(current_app).build_id, lang, config["TIMEZONE"])
    with interface(lang):
        return _rendered_article(context, statement, tuple(translations))


@lru_cache(maxsize=512)  # about 10 MB at 10 KB statements; the rendered pages are kept apart
def _rendered_article(_context: tuple, statement: Statement, translations: tuple[Statement, ...]) -> Markup:
    # A sync snapshot of 50 statements spent two thirds of its time here.
    return Markup(
        render_template("reader/_article.html", statement=statement, translations=list(translations)).strip()
    )


def list_item_html(statement: Statement) -> Markup:
    """The statement's ``<li>`` exactly as the server's lists (home, tags, "Older") contain it."""
    context = (
        bundles.built(current_app).build_id,
        interface_lang(),
        current_app.config["TIMEZONE"],
        _mount(),
    )
    return _rendered_list_item(context, statement)


@lru_cache(maxsize=1024)
def _rendered_list_item(_context: tuple, statement: Statement) -> Markup:
    return Markup(render_template("reader/_list_item.html", s=statement).strip())


def _mount() -> str:
    """The path the app is mounted at (``/news``; empty at the root), which root-relative links start with."""
    return request.script_root if has_request_context() else ""


def page_url(statement: Statement) -> str:
    """The statement page's root-relative URL, under the app's mount prefix."""
    return _mount() + statement.url


def list_order(statement: Statement) -> str:
    """A key whose descending text order is the server's list order (newest first, then the latest created).

    Devices sort the lists they build by it; the publication time alone
    cannot break ties between statements of the same day.
    """
    return f"{stored_time(statement.published)} {statement.rowid:012d}"


def translation_links(translations: list[Statement]) -> list[dict]:
    """``translations`` for the API: where to read the statement in other languages."""
    return [
        {
            "lang": other.lang,
            "slug": other.slug,
            "url": page_url(other),
            "title": other.title,
            "original": other.is_original,
        }
        for other in translations
    ]


def statement_object(db: sqlite3.Connection, statement: Statement) -> dict:
    """The JSON object of one published statement (API, sync, exports).

    ``signed`` is the envelope of its signed record, whose payload's fields
    equal the object's (null when the site has no key that may sign).
    """
    translations = store.translations_of(db, statement)
    article = str(article_html(statement, translations))
    return {
        "id": statement.id,
        "revision": statement.revision,
        "slug": statement.slug,
        "url": page_url(statement),
        "title": statement.title,
        "summary": statement.summary or None,
        "lang": statement.lang,
        "dir": statement.dir,
        "published": iso(statement.published),
        "updated": iso(statement.updated_at),
        "tags": list(statement.tags),
        "translations": translation_links(translations),
        "correction_note": statement.correction_note or None,
        "body_html": statement.body_html,
        "article_html": article,
        "list_item_html": str(list_item_html(statement)),
        "list_order": list_order(statement),
        "signed": signatures.signed(db, records.statement_record(db, statement, article), statement.id),
    }


def withdrawal_notice_html(statement: Statement) -> Markup:
    """The withdrawal notice exactly as the withdrawn statement's page (410) shows it."""
    with interface(statement_interface(statement.lang)):
        return Markup(render_template("reader/_withdrawn.html", statement=statement).strip())


def withdrawal_object(statement: Statement, db: sqlite3.Connection | None = None) -> dict:
    """The JSON notice that replaces a withdrawn statement on devices.

    ``article_html`` is the notice as the server renders it, so a device puts
    it in the page shell in place of the statement's text. With ``db``,
    ``signed`` is the envelope of the withdrawal's signed record.
    """
    notice = str(withdrawal_notice_html(statement))
    found = {
        "id": statement.id,
        "slug": statement.slug,
        "url": page_url(statement),
        "withdrawn_at": iso(statement.withdrawn_at),
        "reason": statement.withdrawal_reason,
        "article_html": notice,
    }
    if db is not None:
        found["signed"] = signatures.signed(
            db, records.withdrawal_record(db, statement, notice), statement.id
        )
    return found

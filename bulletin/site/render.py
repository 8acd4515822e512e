"""One statement, rendered once for every place that shows it.

The statement page embeds :func:`article_html` unchanged, and the JSON API
sends the very same string as ``article_html``, so a device can rebuild the
page offline by putting it into the page shell: there is no second renderer
to drift from the server's.
"""

from __future__ import annotations

from functools import lru_cache

from flask import current_app, has_request_context, render_template, request
from markupsafe import Markup

from bulletin.assets import bundles
from bulletin.i18n import interface, interface_lang, statement_interface
from bulletin.statements.records import Statement, stored_time


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


def withdrawal_notice_html(statement: Statement) -> Markup:
    """The withdrawal notice exactly as the withdrawn statement's page (410) shows it."""
    with interface(statement_interface(statement.lang)):
        return Markup(render_template("reader/_withdrawn.html", statement=statement).strip())

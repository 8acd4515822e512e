"""Public pages: server-rendered HTML that reads fine with no JavaScript.

Each view first computes a cheap key of everything its page shows, answers
304 from that key when the reader (or a cache) already has it, and only then
renders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for

from bulletin.http.addresses import relative_url
from bulletin.http.arguments import page_number, pages_for, text
from bulletin.http.caching import cached_response
from bulletin.http.database import get_db
from bulletin.http.static_host import on_static_host
from bulletin.i18n import localized, use_interface
from bulletin.site.render import article_html
from bulletin.statements import sanitize, snippets, store, words
from bulletin.statements.labels import language_name, tag_label
from bulletin.statements.records import Statement

bp = Blueprint("reader", __name__)
# Names readers read: a translation's language in itself, a tag as words (templates/reader/_article.html).
bp.add_app_template_filter(language_name, "language_name")
bp.add_app_template_filter(tag_label, "tag_label")
# Links inside a statement's article, relative to its page (templates/reader/_article.html).
bp.add_app_template_global(relative_url, "relative_url")

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


LIST_ARGUMENTS = ("before", "page")


def list_page(db, tag: str | None = None) -> int:
    """``?page=N`` of a list, a 404 past its last page (counted only when a page is asked for)."""
    if "page" not in request.args:
        return 1
    size = current_app.config["PAGE_SIZE"]
    return page_number(request.args, last=pages_for(store.count_published(db, tag), size))


def _listing(template: str, *, tag: str | None = None, **context) -> Response:
    db = get_db()
    page = list_page(db, tag)
    size = current_app.config["PAGE_SIZE"]

    before = request.args.get("before")

    def render():
        found = page_of_statements(db, page=page, size=size, before=before, tag=tag)
        if found is None or (page > 1 and not found.statements):
            abort(404)
        return render_template(
            template,
            statements=found.statements,
            page=page,
            has_next=found.has_next,
            tag=tag,
            next_before=found.next_before,
            **context,
        )

    return cached_response(lambda db: (store.latest_change_seq(db),), render, reads=LIST_ARGUMENTS)


@dataclass(frozen=True)
class StatementPage:
    """One page of a list of published statements, for the HTML lists and the API alike."""

    statements: list[Statement]
    next_before: (
        str | None
    )  # the last id shown, which the link to the next page carries; None on the last page

    @property
    def has_next(self) -> bool:
        return self.next_before is not None


def page_of_statements(
    db, *, page: int, size: int, before: str | None, tag: str | None = None
) -> StatementPage | None:
    """One page of published statements, newest first; None for an unknown ``before`` id.

    With ``before`` (the last id of the previous page, as the "Older" links
    carry it) the page is found by keyset, as cheap at page 5,000 as at
    page 2; a bare ``?page=N`` still works by offset.
    """
    # One more than a page tells whether another page follows.
    if before:
        listed = store.list_published_older_than(db, before, limit=size + 1, tag=tag)
    else:
        listed = store.list_published(db, limit=size + 1, offset=(page - 1) * size, tag=tag)
    if listed is None:
        return None
    return StatementPage(listed[:size], listed[size - 1].id if len(listed) > size else None)


@localized(bp, "/")
def index():
    """Newest statements first."""
    return _listing("reader/index.html")


@localized(bp, "/tags/<tag>/")
def tag(tag: str):
    """Statements with one tag, newest first."""
    count = store.count_published(get_db(), tag)
    if count == 0:
        abort(404)
    return _listing("reader/tag.html", tag=tag, count=count)


@bp.get("/statements/<slug>/")
def statement(slug: str):
    """One statement; an old slug redirects, a withdrawn one answers 410 with its reason (200 on a static host)."""
    db = get_db()
    found, current = store.find_public(db, slug)
    if current:
        return redirect(url_for("reader.statement", slug=current), 301)
    if found is None:
        abort(404)
    # A statement's page speaks its own language: its URL names the statement, and so the language.
    use_interface(found.lang)

    def render():
        if found.is_withdrawn:
            # A static host answers 200 or 404 only: the notice itself says what happened (and noindex).
            return render_template("reader/withdrawn.html", statement=found), 200 if on_static_host() else 410
        translations = store.translations_of(db, found)
        return render_template(
            "reader/statement.html",
            statement=found,
            article=article_html(found, translations),
        )

    return cached_response(lambda db: (found.id, store.group_change_seq(db, found)), render)


@dataclass(frozen=True)
class SearchResult:
    """A statement found, with its title and a snippet in pieces, the matching words marked."""

    statement: Statement
    title: snippets.Pieces
    snippet: snippets.Pieces


def _search_results(query: str, found: list[Statement]) -> list[SearchResult]:
    wanted = words.query_candidates(query)
    return [
        SearchResult(
            s,
            snippets.marked(s.title, s.lang, wanted),
            snippets.snippet(sanitize.plain_text(s.body_html), s.lang, wanted),
        )
        for s in found
    ]


@localized(bp, "/search/")
def search():
    """Full-text search over published statements."""
    # Control characters are no words (a NUL would end FTS5's quoted string): searched as spaces.
    query = _CONTROL.sub(" ", text(request.args, "q")).strip()
    db = get_db()
    size = current_app.config["PAGE_SIZE"]
    # Only the newest matches are ranked (store.SEARCH_WINDOW): no page lies past them.
    page = page_number(request.args, last=pages_for(store.SEARCH_WINDOW, size))

    def render():
        found = store.search_recent(db, query, limit=size + 1, offset=(page - 1) * size) if query else []
        if page > 1 and not found:
            abort(404)
        results = _search_results(query, found[:size])
        return render_template(
            "reader/search.html", query=query, results=results, page=page, has_next=len(found) > size
        )

    return cached_response(
        lambda db: (store.latest_change_seq(db),), render, reads=("page", "q"), one_off=bool(query)
    )

"""Public pages: server-rendered HTML that reads fine with no JavaScript.

Each view first computes a cheap key of everything its page shows, answers
304 from that key when the reader (or a cache) already has it, and only then
renders.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for

from bulletin.http.caching import cached_response
from bulletin.http.database import get_db
from bulletin.site.render import article_html
from bulletin.statements import store

bp = Blueprint("reader", __name__)


def page_arg() -> int:
    """The ``?page=N`` argument: 1 by default; anything but a positive number is a 400."""
    raw = request.args.get("page", "1")
    if not raw.isdigit() or int(raw) < 1:
        abort(400, description="page must be a positive whole number")
    return int(raw)


def _listing(template: str, *, tag: str | None = None, **context) -> Response:
    db = get_db()
    page = page_arg()
    size = current_app.config["PAGE_SIZE"]

    before = request.args.get("before")

    def render():
        listed = page_of_statements(db, page=page, size=size, before=before, tag=tag)
        if listed is None or (page > 1 and not listed):
            abort(404)
        has_next = len(listed) > size
        return render_template(
            template,
            statements=listed[:size],
            page=page,
            has_next=has_next,
            tag=tag,
            next_before=listed[size - 1].id if has_next else None,
            **context,
        )

    return cached_response((store.latest_change_seq(db),), render)


def page_of_statements(db, *, page: int, size: int, before: str | None, tag: str | None = None):
    """One page of published statements plus one more (to tell whether another page follows).

    With ``before`` (the last id of the previous page, as the "Older" links
    carry it) the page is found by keyset, as cheap at page 5,000 as at
    page 2; a bare ``?page=N`` still works by offset. None for an unknown id.
    """
    if before:
        return store.list_published_older_than(db, before, limit=size + 1, tag=tag)
    return store.list_published(db, limit=size + 1, offset=(page - 1) * size, tag=tag)


@bp.get("/")
def index():
    """Newest statements first."""
    return _listing("reader/index.html")


@bp.get("/tags/<tag>")
def tag(tag: str):
    """Statements with one tag, newest first."""
    if store.count_published(get_db(), tag) == 0:
        abort(404)
    return _listing("reader/tag.html", tag=tag)


@bp.get("/statements/<slug>")
def statement(slug: str):
    """One statement; an old slug redirects, a withdrawn one answers 410 with its reason."""
    db = get_db()
    found, current = store.find_public(db, slug)
    if current:
        return redirect(url_for("reader.statement", slug=current), 301)
    if found is None:
        abort(404)

    def render():
        if found.is_withdrawn:
            return render_template("reader/withdrawn.html", statement=found), 410
        translations = store.translations_of(db, found)
        return render_template(
            "reader/statement.html",
            statement=found,
            article=article_html(found, translations),
        )

    return cached_response((found.id, store.group_change_seq(db, found)), render)


@bp.get("/search")
def search():
    """Full-text search over published statements."""
    query = request.args.get("q", "").strip()[:200]
    db = get_db()
    page = page_arg()
    size = current_app.config["PAGE_SIZE"]

    def render():
        found = store.search_recent(db, query, limit=size + 1, offset=(page - 1) * size) if query else []
        return render_template(
            "reader/search.html", query=query, statements=found[:size], page=page, has_next=len(found) > size
        )

    return cached_response((store.latest_change_seq(db),), render)

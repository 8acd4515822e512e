"""Public pages: server-rendered HTML that reads fine with no JavaScript.

Each view first computes a cheap key of everything its page shows, answers
304 from that key when the reader (or a cache) already has it, and only then
renders.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for

from . import store
from .db import get_db
from .http import cached_response
from .render import article_html

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

    def render():
        listed = store.list_published(db, limit=size + 1, offset=(page - 1) * size, tag=tag)
        if page > 1 and not listed:
            abort(404)
        return render_template(
            template, statements=listed[:size], page=page, has_next=len(listed) > size, tag=tag, **context
        )

    return cached_response((store.latest_change_seq(db),), render)


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
    found = store.get_by_slug(db, slug)
    if found is None or found.status == "draft":
        current = store.current_slug_for(db, slug)
        if current:
            return redirect(url_for("reader.statement", slug=current), 301)
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
        found = store.search(db, query, limit=size + 1, offset=(page - 1) * size) if query else []
        return render_template(
            "reader/search.html", query=query, statements=found[:size], page=page, has_next=len(found) > size
        )

    return cached_response((store.latest_change_seq(db),), render)

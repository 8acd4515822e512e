"""Atom feeds and the sitemap: the formats that need absolute URLs.

Absolute URLs come from ``BULLETIN_BASE_URL`` when it is set (behind a CDN
or on a mirror the request's host may not be the public one), else from the
request.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, render_template, request, url_for

from bulletin.http.addresses import unmounted
from bulletin.http.caching import cached_response
from bulletin.http.database import get_db
from bulletin.i18n import INTERFACE_LANGS
from bulletin.statements import store

bp = Blueprint("feeds", __name__)
# Absolute addresses in feeds: the app's root, then the path below it (templates/feeds/).
bp.add_app_template_filter(unmounted, "unmounted")

FEED_SIZE = 30
SITEMAP_SIZE = 50_000  # the sitemap protocol's limit per file


@bp.app_template_filter("atom_time")
def atom_time(value) -> str:
    """RFC 3339 for Atom, which has no bare dates: a date is its midnight in UTC."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return dt.datetime.combine(value, dt.time(), dt.UTC).isoformat()


def base_url() -> str:
    """The public origin and the app's mount prefix (``https://host/news``), without a trailing slash."""
    return current_app.config.get("BASE_URL") or request.url_root.rstrip("/")


def _feed(tag: str | None):
    db = get_db()

    def render():
        statements = store.list_published(db, limit=FEED_SIZE, tag=tag)
        body = render_template("feeds/feed.atom.xml", statements=statements, tag=tag, base_url=base_url())
        return body, 200, {"Content-Type": "application/atom+xml; charset=utf-8"}

    base = base_url()
    return cached_response(lambda db: (store.latest_change_seq(db), base), render)


@bp.get("/feed.atom")
def feed():
    """The newest statements with their full sanitized text."""
    return _feed(None)


@bp.get("/tags/<tag>/feed.atom")
def tag_feed(tag: str):
    """The newest statements with one tag."""
    if store.count_published(get_db(), tag) == 0:
        abort(404)
    return _feed(tag)


@bp.get("/sitemap.xml")
def sitemap():
    """Every interface language's home page and every published statement's page, for search engines."""
    db = get_db()

    def render():
        statements = store.list_published(db, limit=SITEMAP_SIZE)
        homes = [unmounted(url_for("reader.index", lang=lang)) for lang in INTERFACE_LANGS]
        body = render_template("feeds/sitemap.xml", statements=statements, homes=homes, base_url=base_url())
        return body, 200, {"Content-Type": "application/xml; charset=utf-8"}

    base = base_url()
    return cached_response(lambda db: (store.latest_change_seq(db), base), render)

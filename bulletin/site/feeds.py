"""Atom feeds and the sitemap (an index and its parts): the formats that need absolute URLs.

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
from bulletin.http.static_host import on_static_host
from bulletin.i18n import INTERFACE_LANGS
from bulletin.statements import store

bp = Blueprint("feeds", __name__)
# Absolute addresses in feeds: the app's root, then the path below it (templates/feeds/).
bp.add_app_template_filter(unmounted, "unmounted")

FEED_SIZE = 30
# Statements per sitemap part (the protocol allows 50,000): small enough that the part a change
# rewrites and compresses costs a few milliseconds at any size of site.
SITEMAP_PART_SIZE = 1_000
MAX_PARTS = 50_000  # a sitemap index lists at most this many parts


def part_size(config=None) -> int:
    """Statements per sitemap part (``SITEMAP_PART_SIZE`` in the app's config, or ``config``, overrides
    it in tests)."""
    return (config or current_app.config).get("SITEMAP_PART_SIZE", SITEMAP_PART_SIZE)


@bp.app_template_filter("atom_time")
def atom_time(value) -> str:
    """RFC 3339 for Atom, which has no bare dates: a date is its midnight in UTC."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return dt.datetime.combine(value, dt.time(), dt.UTC).isoformat()


def base_url() -> str:
    """The public origin and the app's mount prefix (``https://host/news``), without a trailing slash."""
    if on_static_host():
        return request.url_root.rstrip("/")  # an export names the address it is exported for
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
    """The sitemap index: every part of the sitemap, with its newest change, for search engines."""
    db = get_db()

    def render():
        size = part_size()
        parts = dict(store.sitemap_parts(db, size))
        # Part 0 always exists: it lists the interface languages' home pages.
        parts.setdefault(0, None)
        listed = [
            (unmounted(url_for("feeds.sitemap_part", part=part)), parts[part]) for part in sorted(parts)
        ]
        body = render_template("feeds/sitemap_index.xml", parts=listed, base_url=base_url())
        return body, 200, {"Content-Type": "application/xml; charset=utf-8"}

    base = base_url()
    return cached_response(lambda db: (store.latest_change_seq(db), base), render)


@bp.get("/sitemaps/<int:part>.xml")
def sitemap_part(part: int):
    """One part of the sitemap: the published statements created in one range (and, in part 0,
    every interface language's home page), at most ``SITEMAP_PART_SIZE`` statements.

    Parts follow creation order, so a new statement lands in the last part
    and a change to one statement rewrites one part, not every one.
    """
    db = get_db()
    size = part_size()
    if part > MAX_PARTS:
        abort(404)  # more parts than any site has rows (and than SQLite's integers hold)

    def render():
        statements = store.list_published_in_part(db, part, size)
        if part > 0 and not statements:
            abort(404)
        homes = (
            [unmounted(url_for("reader.index", lang=lang)) for lang in INTERFACE_LANGS] if part == 0 else []
        )
        body = render_template("feeds/sitemap.xml", statements=statements, homes=homes, base_url=base_url())
        return body, 200, {"Content-Type": "application/xml; charset=utf-8"}

    base = base_url()
    return cached_response(lambda db: (store.latest_change_seq(db), base), render)

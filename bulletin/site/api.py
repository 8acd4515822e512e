"""JSON API: statement lists, one statement, and delta sync for devices.

Every error is ``{"error": {"code", "message"}}`` with its status (see
:mod:`bulletin.errors`); bad input is a 400, never a 500.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, request, url_for

from bulletin.http.arguments import whole_number
from bulletin.http.caching import cached_response
from bulletin.http.database import get_db
from bulletin.http.errors import ApiError
from bulletin.site import openapi, signatures, sync
from bulletin.site.objects import statement_object
from bulletin.site.reader import LIST_ARGUMENTS, list_page, page_of_statements
from bulletin.statements import epochs, store

bp = Blueprint("api", __name__, url_prefix="/api")

SYNC_ARGUMENTS = ("limit", "since")


def _cacheable_json(etag_parts, build, **options):
    """Answer 304 from the key alone, else the JSON built once and kept compressed."""
    return cached_response(etag_parts, lambda: jsonify(build()), **options)


@bp.get("/statements")
def statements():
    """Published statements, newest first, a page at a time."""
    db = get_db()
    page = list_page(db)
    size = current_app.config["PAGE_SIZE"]

    before = request.args.get("before")

    def body():
        found = page_of_statements(db, page=page, size=size, before=before)
        if found is None:
            raise ApiError(400, "bad_argument", "before must be the id of a statement on the previous page")
        return {
            "statements": [statement_object(db, s) for s in found.statements],
            "next": url_for("api.statements", page=page + 1, before=found.next_before)
            if found.has_next
            else None,
        }

    return _cacheable_json(
        lambda db: ("list", page, size, store.latest_change_seq(db), signatures.state(db)),
        body,
        reads=LIST_ARGUMENTS,
    )


@bp.get("/statements/<slug>")
def statement(slug: str):
    """One statement by slug; a withdrawn one answers 410 with its reason."""
    db = get_db()
    found, current = store.find_public(db, slug)
    if current:
        return current_app.redirect(url_for("api.statement", slug=current), 301)
    if found is None:
        raise ApiError(404, "not_found", f"no published statement has the slug {slug!r}")
    if found.is_withdrawn:
        raise ApiError(410, "withdrawn", found.withdrawal_reason or "this statement was withdrawn")
    return _cacheable_json(
        lambda db: ("statement", found.id, store.group_change_seq(db, found), signatures.state(db)),
        lambda: statement_object(db, found),
    )


@bp.get("/sync")
def sync_changes():
    """Changes since a device's cursor (or a starting snapshot without one)."""
    db = get_db()
    config = current_app.config
    limit = whole_number(request.args, "limit", config["SYNC_LIMIT"], low=1, high=config["SYNC_MAX_LIMIT"])
    since = request.args.get("since")
    if since is None:
        key = lambda db: ("snapshot", limit, store.latest_change_seq(db), signatures.state(db))  # noqa: E731
        return _cacheable_json(key, lambda: sync.snapshot(db, limit=limit), reads=SYNC_ARGUMENTS)
    try:
        position = sync.decode_cursor(since, epochs.current(db))
        key = lambda db: ("sync", position, limit, store.latest_change_seq(db), signatures.state(db))  # noqa: E731
        # A device's own cursor: few others send the same one, so it is compressed cheaply.
        return _cacheable_json(
            key, lambda: sync.changes(db, position, limit=limit), reads=SYNC_ARGUMENTS, one_off=True
        )
    except sync.ForeignCursor as e:
        # Another database's or epoch's cursor (a restore): 410 tells the device to start again from a snapshot.
        raise ApiError(410, "cursor_expired", str(e)) from e
    except sync.CursorError as e:
        # Not a cursor this server made: the device's mistake, a 400 that says so.
        raise ApiError(400, "bad_cursor", str(e)) from e


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 description of this API (changes only with a deploy or a setting)."""
    config = current_app.config
    return cached_response(
        ("openapi", config["SITE_NAME"], config["SYNC_MAX_LIMIT"]), lambda: jsonify(openapi.document())
    )


@bp.route("/<path:_rest>")
def unknown(_rest: str):
    abort(404)

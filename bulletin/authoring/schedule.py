"""Scheduled statements become public at their time, everywhere at once.

Before every request, one indexed look-up asks whether a scheduled draft's
time has come; when one has, it is published in a write transaction, which
records the change then. So pages, feeds, the API and the sync cursor all
move together at the first request after the time, and a device whose
cursor passed the moment the editor saved still gets the statement.

Only one request publishes. The write lock is waited on for at most
PUBLISH_WAIT: long enough for another request's publication (a few
milliseconds), so that requests arriving together all show the statement,
and short enough that while a save or an import holds the lock, a request
does not queue behind it but answers from what is stored, and a later
request publishes. A database that cannot be written never makes a reader
fail for it either.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

from flask import Flask, current_app, request

from bulletin.authoring import changes
from bulletin.http.database import get_db
from bulletin.statements import clock, db

log = logging.getLogger(__name__)

PUBLISH_WAIT = 0.1  # seconds
AFTER_PUBLISH = "bulletin_after_scheduled_publication"


def exempt(view):
    """Mark a view that answers without publishing what is due: one that must only read, and
    still answer when the database cannot be read (a health check)."""
    view.skips_schedule = True
    return view


def promote_due_statements() -> None:
    """Publish every scheduled draft whose time has come (cheap when none has)."""
    if getattr(current_app.view_functions.get(request.endpoint), "skips_schedule", False):
        return
    try:
        published = changes.publish_due(get_db(), clock.now(), wait=PUBLISH_WAIT)
    except sqlite3.OperationalError as error:
        if not (db.is_read_only(error) or db.is_full(error)):
            raise
        # The request goes on and reads; the publication waits for a writable database.
        log.warning("a due statement could not be published: %s", error)
        return
    after = current_app.extensions.get(AFTER_PUBLISH)
    if published and after is not None:
        after()


def init_app(app: Flask, after_publish: Callable[[], None] | None = None) -> None:
    """Check for due statements before every request; ``after_publish`` is called (with nothing) once
    some were published, as :attr:`changes.Context.after_commit` is after a change (it never raises)."""
    app.extensions[AFTER_PUBLISH] = after_publish
    app.before_request(promote_due_statements)

"""Scheduled statements become public at their time, everywhere at once.

Before every request, one indexed look-up asks whether a scheduled draft's
time has come; when one has, it is published in a write transaction, which
records the change then. So pages, feeds, the API and the sync cursor all
move together at the first request after the time, and a device whose
cursor passed the moment the editor saved still gets the statement.
"""

from __future__ import annotations

from flask import Flask, current_app, request

from bulletin.authoring import changes
from bulletin.http.database import get_db
from bulletin.statements import clock


def exempt(view):
    """Mark a view that answers without publishing what is due: one that must only read, and
    still answer when the database cannot be read (a health check)."""
    view.skips_schedule = True
    return view


def promote_due_statements() -> None:
    """Publish every scheduled draft whose time has come (cheap when none has)."""
    if getattr(current_app.view_functions.get(request.endpoint), "skips_schedule", False):
        return
    changes.publish_due(get_db(), clock.now())


def init_app(app: Flask) -> None:
    """Check for due statements before every request."""
    app.before_request(promote_due_statements)

"""Scheduled statements become public at their time, everywhere at once.

Before every request, one indexed look-up asks whether a scheduled draft's
time has come; when one has, it is published in a write transaction, which
records the change then. So pages, feeds, the API and the sync cursor all
move together at the first request after the time, and a device whose
cursor passed the moment the editor saved still gets the statement.
"""

from __future__ import annotations

from flask import Flask

from bulletin.authoring import audit

from bulletin import clock

from bulletin.statements import store
from bulletin.statements.db import transaction
from bulletin.http.database import get_db


def promote_due_statements() -> None:
    """Publish every scheduled draft whose time has come (cheap when none has)."""
    db = get_db()
    moment = clock.now()
    if not store.is_due(db, moment):
        return
    with transaction(db):
        # Another worker may have published them between the look-up and the lock.
        for statement_id in store.promote_due(db, moment):
            revision = store.get_by_id(db, statement_id).revision
            audit.record(db, audit.SCHEDULE_ACTOR, "publish", statement_id=statement_id, revision_id=revision)


def init_app(app: Flask) -> None:
    """Check for due statements before every request."""
    app.before_request(promote_due_statements)

"""The audit log as a page: ``/editor/audit``, newest first, a page at a time."""

from __future__ import annotations

from flask import render_template, request

from bulletin.authoring import audit
from bulletin.editor.web import editor_blueprint
from bulletin.http.arguments import page_number
from bulletin.http.database import get_db

bp = editor_blueprint("audit", __name__)

PAGE_SIZE = 100


@bp.get("/audit")
def log():
    """Who did what and when; ``?statement=<id>`` for one statement, ``?page=N`` for older entries."""
    page = page_number(request.args)
    statement_id = request.args.get("statement") or None
    found = audit.entries(
        get_db(), limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE, statement_id=statement_id
    )
    return render_template(
        "editor/audit.html",
        entries=found[:PAGE_SIZE],
        page=page,
        has_next=len(found) > PAGE_SIZE,
        statement_id=statement_id,
        actions=audit.ACTIONS,
    )

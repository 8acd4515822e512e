"""A statement's revision history, what changed in each revision, and restoring one.

Restoring never rewrites history: it adds a new revision that copies the
chosen one, so the history still shows everything readers were ever sent.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from bulletin.authoring.changes import Conflict, Refused
from bulletin.authoring.changes import restore as restore_revision
from bulletin.editor import diffs
from bulletin.editor.pages import context, load
from bulletin.editor.roles import PUBLISH, require
from bulletin.editor.web import editor_blueprint
from bulletin.http.database import get_db
from bulletin.i18n import gettext
from bulletin.statements import store

bp = editor_blueprint("history", __name__)

COMPARED = ("title", "summary", "source_text", "correction_note")


@bp.get("/statements/<statement_id>/history")
def revisions(statement_id: str):
    """Every revision, newest first, with its author and time."""
    statement = load(statement_id)
    rows = list(reversed(store.revisions_of(get_db(), statement_id)))
    return render_template("editor/history.html", statement=statement, revisions=rows)


def _revision(statement_id: str, revision_id: str):
    row = store.get_revision(get_db(), revision_id)
    if row is None or row["statement_id"] != statement_id:
        abort(404)
    return row


@bp.get("/statements/<statement_id>/revisions/<revision_id>")
def changes(statement_id: str, revision_id: str):
    """What a revision changed from the one before it (or from ``?against=<revision>``)."""
    statement = load(statement_id)
    revision = _revision(statement_id, revision_id)
    against_id = request.args.get("against")
    if against_id:
        before = _revision(statement_id, against_id)
    else:
        earlier = [r for r in store.revisions_of(get_db(), statement_id) if r["number"] < revision["number"]]
        before = earlier[-1] if earlier else None
    field_diffs = {name: diffs.line_diff(before[name] if before else "", revision[name]) for name in COMPARED}
    return render_template(
        "editor/changes.html", statement=statement, revision=revision, before=before, diffs=field_diffs
    )


@bp.post("/statements/<statement_id>/revisions/<revision_id>/restore")
def restore(statement_id: str, revision_id: str):
    """Make a copy of this revision the current one (409 when the statement moved on meanwhile)."""
    statement = load(statement_id)
    if statement.status == "published":
        # Restoring a published statement's revision is a correction.
        require(PUBLISH, statement_id=statement_id)
    revision = _revision(statement_id, revision_id)
    try:
        restore_revision(
            get_db(), statement_id, revision_id, request.form.get("base_revision", ""), context()
        )
    except Conflict as e:
        # Someone saved meanwhile: the history again, with the newer revision to look at first.
        message = gettext("Someone saved a newer revision meanwhile: look at it before restoring.")
        page = render_template(
            "editor/history.html",
            statement=e.current,
            revisions=list(reversed(store.revisions_of(get_db(), statement_id))),
            error=message,
        )
        return page, 409
    except Refused as e:
        # The message says why this revision cannot be restored; the history shows it.
        flash(str(e), "error")
        return redirect(url_for("history.revisions", statement_id=statement.id))
    flash(gettext("Revision %(n)d restored as a new revision.", n=revision["number"]), "notice")
    return redirect(url_for("editor.edit", statement_id=statement.id))

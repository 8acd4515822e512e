"""Autosave: the editor's script keeps the form as a working copy while the editor types.

``POST /editor/statements/<id>/working-copy`` (``new`` for a statement not
yet created) overwrites the editor's working copy with the form's fields, as
the editor script sends them every few seconds of typing. Like every editor
request it needs the session and the CSRF token, and it counts as activity,
so typing keeps the session alive (never past its absolute limit). Without
JavaScript, the edit form offers the working copy the server holds
(:func:`offered_form`) and ``.../working-copy/discard`` forgets it.
"""

from __future__ import annotations

import logging
import sqlite3

from flask import abort, flash, g, jsonify, redirect, request, session, url_for

from bulletin.editor import working_copies
from bulletin.editor.forms import StatementForm
from bulletin.editor.web import editor_blueprint, editor_time
from bulletin.http.database import get_db
from bulletin.i18n import gettext
from bulletin.statements import store
from bulletin.statements.db import transaction

bp = editor_blueprint("autosave", __name__)
log = logging.getLogger(__name__)

# The address segment that names the statement not yet created.
NEW_SEGMENT = "new"
SOURCE_FORMATS = frozenset({"markdown", "html", "txt"})
# ?restore=working-copy on the form puts the working copy in it (no JavaScript needed).
RESTORE_ARGUMENT = ("restore", "working-copy")
# The session remembers, until the next form is shown, which working copy a
# save or a discard ended: the editor script then drops its copy on the device.
GONE = "working_copy_gone"


def statement_key(segment: str) -> str:
    """The working copy's key for an address segment: a statement's id (404 when unknown), or NEW."""
    if segment == NEW_SEGMENT:
        return working_copies.NEW
    statement = store.get_by_id(get_db(), segment)
    if statement is None:
        abort(404)
    if statement.status == "withdrawn":
        abort(409, gettext("A withdrawn statement cannot be edited."))
    return statement.id


def _edit_address(key: str) -> str:
    if key == working_copies.NEW:
        return url_for("editor.new")
    return url_for("editor.edit", statement_id=key)


@bp.post("/statements/<statement_id>/working-copy")
def keep(statement_id: str):
    """Overwrite the editor's working copy with the form's fields; answer when it was kept."""
    key = statement_key(statement_id)
    fields = StatementForm.from_request(request.form)
    if "source_format" in request.form and fields.source_format not in SOURCE_FORMATS:
        abort(422, gettext("Unknown text format."))
    values = {name: getattr(fields, name) for name in working_copies.FIELDS if name in request.form}
    db = get_db()
    with transaction(db):
        moment = working_copies.put(db, g.editor.id, key, values)
    return jsonify({"saved_at": editor_time(moment)})


@bp.post("/statements/<statement_id>/working-copy/discard")
def discard(statement_id: str):
    """Forget the editor's working copy; back to the form as last saved."""
    key = statement_key(statement_id)
    db = get_db()
    with transaction(db):
        working_copies.clear(db, g.editor.id, key)
    session[GONE] = key
    flash(gettext("Your unsaved text was discarded."), "notice")
    return redirect(_edit_address(key))


def forget(key: str) -> None:
    """After a save: the working copy became a revision (or the statement was just created)."""
    db = get_db()
    try:
        with transaction(db):
            working_copies.clear(db, g.editor.id, key)
    except sqlite3.OperationalError:
        # The save is committed and must be reported as such; a copy left over is
        # only offered while it differs from what was saved.
        log.warning("a working copy could not be deleted after a save", exc_info=True)
        return
    session[GONE] = key


def gone_copy() -> str | None:
    """The key of the working copy the last save or discard ended, once (for the editor script)."""
    key = session.pop(GONE, None)
    if key is None:
        return None
    return f"{g.editor.id}:{key or NEW_SEGMENT}"


def offered_form(key: str, form: StatementForm) -> tuple[StatementForm, working_copies.WorkingCopy | None]:
    """The form to show and the working copy to offer beside it (None when there is nothing to offer).

    With ``?restore=working-copy`` the form is the working copy itself, told
    as not yet saved. A working copy that holds nothing the form does not is
    not offered.
    """
    copy = working_copies.get(get_db(), g.editor.id, key)
    if copy is None or not working_copies.differs(copy, vars(form)):
        return form, None
    if request.args.get(RESTORE_ARGUMENT[0]) == RESTORE_ARGUMENT[1]:
        flash(
            gettext("Your unsaved text is back in the form. It is not saved yet: save it to keep it."),
            "notice",
        )
        restored = {**vars(form), **copy.fields, "errors": {}}
        return StatementForm(**restored), None
    return form, copy


def has_working_copy(key: str) -> bool:
    """Whether the server holds the editor's working copy of this statement (the editor script asks)."""
    return working_copies.get(get_db(), g.editor.id, key) is not None

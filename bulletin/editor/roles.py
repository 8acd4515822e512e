"""What each role may do, checked in one place: :func:`require` (or the :func:`requires` decorator).

A writer creates and edits drafts. A publisher also publishes, schedules,
corrects (edits what is published), withdraws and brings back. An
administrator also manages accounts. A view that does something only some
roles may do calls ``require(PUBLISH)`` (or is decorated with
``@requires(MANAGE_ACCOUNTS)``) before it changes anything; a refusal is a
403 page and an entry in the audit log, so an editor probing beyond their
role leaves a trace.
"""

from __future__ import annotations

import functools

from flask import Flask, abort, g, request

from bulletin.authoring import audit
from bulletin.editor.accounts import Editor
from bulletin.http.database import get_db
from bulletin.i18n import N_, gettext
from bulletin.statements.db import transaction

WRITE = "write"
PUBLISH = "publish"  # publish, schedule and unschedule, correct, withdraw and bring back
MANAGE_ACCOUNTS = "manage_accounts"

PERMISSIONS = {
    "writer": frozenset({WRITE}),
    "publisher": frozenset({WRITE, PUBLISH}),
    "admin": frozenset({WRITE, PUBLISH, MANAGE_ACCOUNTS}),
}

# Each role as the interface names it.
ROLE_NAMES = {"writer": N_("writer"), "publisher": N_("publisher"), "admin": N_("administrator")}

# Why a refusal happened, as the refused editor reads it.
_REFUSALS = {
    WRITE: N_("Your account may not write statements."),
    PUBLISH: N_(
        "Only a publisher or an administrator may publish, schedule, correct or withdraw a statement, "
        "so nothing was changed. Your text is not lost: go back (your browser keeps it) and save it "
        "as a draft for a publisher to publish."
    ),
    MANAGE_ACCOUNTS: N_("Only an administrator may manage accounts."),
}


def may(editor: Editor | None, permission: str) -> bool:
    """Whether the editor's role allows ``permission`` (nobody logged in may do nothing)."""
    return editor is not None and permission in PERMISSIONS.get(editor.role, frozenset())


def require(permission: str, *, statement_id: str | None = None) -> None:
    """Go on when the logged-in editor may do ``permission``; otherwise audit the refusal and answer 403.

    ``statement_id`` names the statement the refused request was about, so
    the refusal shows in that statement's audit log too.
    """
    if may(g.editor, permission):
        return
    db = get_db()
    with transaction(db):
        audit.record(
            db,
            g.editor.email,
            "refused",
            statement_id=statement_id,
            detail=f"{permission}: {request.method} {request.path}",
        )
    abort(403, gettext(_REFUSALS[permission]))


def requires(permission: str):
    """Decorate a view that only editors with ``permission`` may reach (see :func:`require`)."""

    def decorate(view):
        @functools.wraps(view)
        def checked(*args, **kwargs):
            require(permission)
            return view(*args, **kwargs)

        return checked

    return decorate


def _template_helpers() -> dict:
    # Templates show only the buttons the editor's role may use: {% if may('publish') %}.
    return {
        "may": lambda permission: may(g.get("editor"), permission),
        "role_name": lambda role: gettext(ROLE_NAMES.get(role, role)),
    }


def init_app(app: Flask) -> None:
    """Give templates ``may(permission)`` and ``role_name(role)``."""
    app.context_processor(_template_helpers)

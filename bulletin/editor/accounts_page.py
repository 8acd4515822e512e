"""Managing accounts, for administrators: ``/editor/accounts``.

List every account with its role and second factor, create one with a role
and a first password (the new editor changes it), change a role, reset a
second factor. Each change is audited. Administrators do not change their
own role here, so the site never loses its last administrator by a slip
(the operator's ``set-role`` command still can).
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for

from bulletin.authoring import audit
from bulletin.editor import accounts, passwords, second_factor
from bulletin.editor.roles import MANAGE_ACCOUNTS, ROLE_NAMES, requires
from bulletin.editor.web import editor_blueprint
from bulletin.http.database import get_db
from bulletin.i18n import gettext
from bulletin.statements.db import transaction

bp = editor_blueprint("accounts", __name__)


def _page(status: int = 200, *, error: str | None = None, email: str = "", role: str = accounts.DEFAULT_ROLE):
    db = get_db()
    rows = [(editor, second_factor.recovery_codes_left(db, editor.id)) for editor in accounts.every(db)]
    page = render_template(
        "editor/accounts.html", rows=rows, roles=accounts.ROLES, error=error, email=email, role=role
    )
    return page, status


def _account(editor_id: int) -> accounts.Editor:
    """The account with this id, or 404 (also for an id too large for the database to hold)."""
    editor = accounts.get(get_db(), editor_id) if editor_id < 2**63 else None
    if editor is None:
        abort(404)
    return editor


@bp.get("/accounts")
@requires(MANAGE_ACCOUNTS)
def index():
    """Every account, and the form to create one."""
    return _page()


@bp.post("/accounts")
@requires(MANAGE_ACCOUNTS)
def create():
    """Create an account with a role and a first password; 422 with the form as typed when refused."""
    email = request.form.get("email", "")[:300]
    role = request.form.get("role", "")
    password = request.form.get("password", "")
    db = get_db()
    try:
        with transaction(db):
            editor = accounts.create(db, email, password, role)
            audit.record(db, g.editor.email, "create_editor", detail=f"{editor.email} ({role})")
    except (accounts.AccountError, passwords.PasswordRefused) as e:
        # Nothing was stored; the message says what to change.
        return _page(422, error=str(e), email=email, role=role)
    flash(
        gettext("Account %(email)s created. Give them the password; they can change it.", email=editor.email),
        "notice",
    )
    return redirect(url_for("accounts.index"))


@bp.post("/accounts/<int:editor_id>/role")
@requires(MANAGE_ACCOUNTS)
def change_role(editor_id: int):
    """Give an account another role (not one's own)."""
    editor = _account(editor_id)
    role = request.form.get("role", "")
    if editor.id == g.editor.id:
        return _page(422, error=gettext("You cannot change your own role: another administrator can."))
    if role not in accounts.ROLES:
        return _page(422, error=gettext("Choose one of the roles offered."))
    if role != editor.role:
        db = get_db()
        with transaction(db):
            accounts.set_role(db, editor, role)
            audit.record(db, g.editor.email, "role", detail=f"{editor.email}: {editor.role} → {role}")
    flash(gettext("%(email)s is now %(role)s.", email=editor.email, role=gettext(ROLE_NAMES[role])), "notice")
    return redirect(url_for("accounts.index"))


@bp.post("/accounts/<int:editor_id>/second-factor/reset")
@requires(MANAGE_ACCOUNTS)
def reset_second_factor(editor_id: int):
    """Turn an account's second factor off (a lost phone) and end its sessions."""
    editor = _account(editor_id)
    db = get_db()
    with transaction(db):
        second_factor.reset(db, editor)
        audit.record(db, g.editor.email, "second_factor_reset", detail=editor.email)
    flash(
        gettext(
            "The second factor of %(email)s is off and their sessions have ended. They set it up again "
            "at their next login.",
            email=editor.email,
        ),
        "notice",
    )
    return redirect(url_for("accounts.index"))

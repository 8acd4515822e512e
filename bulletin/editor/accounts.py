"""Editor accounts: creating them, checking a login, changing a password or a role.

Writers call these inside :func:`bulletin.db.transaction`, except
:func:`authenticate`, which only writes (a rehash) in its own short one.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from bulletin.editor import passwords, sessions
from bulletin.statements import clock
from bulletin.statements.db import transaction
from bulletin.statements.records import stored_time

_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")


class AccountError(ValueError):
    """An account that cannot be created or found; the message says why."""


ROLES = ("writer", "publisher", "admin")
DEFAULT_ROLE = "publisher"  # what every account could do before roles existed

# The columns an Editor is made of.
_COLUMNS = "id, email, role, second_factor_at"


@dataclass(frozen=True)
class Editor:
    """Someone who may write statements, and publish them or manage accounts as their role allows."""

    id: int
    email: str
    role: str = DEFAULT_ROLE
    second_factor: bool = False  # a TOTP second factor is set up and asked at every login


def normalize_email(email: str) -> str:
    """The stored form of an email (trimmed, lower-case); AccountError when it is not one."""
    email = email.strip().lower()
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise AccountError(f"{email[:60]!r} is not an email address: write it like editor@example.org")
    return email


def check_role(role: str) -> str:
    """The role when it is one of ROLES; AccountError otherwise."""
    if role not in ROLES:
        raise AccountError(f"{role[:40]!r} is not a role: choose one of {', '.join(ROLES)}")
    return role


def _editor(row: sqlite3.Row | None) -> Editor | None:
    if row is None:
        return None
    return Editor(row["id"], row["email"], row["role"], row["second_factor_at"] is not None)


def get(db: sqlite3.Connection, editor_id: int) -> Editor | None:
    """The editor with this id, or None."""
    return _editor(db.execute(f"SELECT {_COLUMNS} FROM editors WHERE id = ?", (editor_id,)).fetchone())


def find(db: sqlite3.Connection, email: str) -> Editor | None:
    """The editor with this email (any case), or None; None also for a malformed email."""
    try:
        email = normalize_email(email)
    except AccountError:
        # No account can have a malformed email.
        return None
    return _editor(db.execute(f"SELECT {_COLUMNS} FROM editors WHERE email = ?", (email,)).fetchone())


def every(db: sqlite3.Connection) -> list[Editor]:
    """Every account, by email."""
    return [_editor(row) for row in db.execute(f"SELECT {_COLUMNS} FROM editors ORDER BY email")]


def create(db: sqlite3.Connection, email: str, password: str, role: str = DEFAULT_ROLE) -> Editor:
    """Add an editor; AccountError when the email is taken or the role unknown, PasswordRefused for a weak password."""
    email = normalize_email(email)
    check_role(role)
    if find(db, email):
        raise AccountError(f"an editor with the email {email} already exists: use set-password to change it")
    password_hash = passwords.hash_password(passwords.check_new_password(password, email))
    stamp = stored_time(clock.now())
    cursor = db.execute(
        "INSERT INTO editors (email, password_hash, created_at, password_changed_at, role)"
        " VALUES (?, ?, ?, ?, ?)",
        (email, password_hash, stamp, stamp, role),
    )
    return Editor(cursor.lastrowid, email, role)


def set_role(db: sqlite3.Connection, editor: Editor, role: str) -> Editor:
    """Give the editor another role (effective at their next request); AccountError for an unknown role."""
    db.execute("UPDATE editors SET role = ? WHERE id = ?", (check_role(role), editor.id))
    return get(db, editor.id)


def set_password(db: sqlite3.Connection, editor: Editor, password: str) -> None:
    """Give the editor a new password and end every one of their sessions.

    A stolen session must not outlive the password change meant to stop it;
    a caller that keeps the editor logged in starts a new session afterwards.
    """
    password_hash = passwords.hash_password(passwords.check_new_password(password, editor.email))
    db.execute(
        "UPDATE editors SET password_hash = ?, password_changed_at = ? WHERE id = ?",
        (password_hash, stored_time(clock.now()), editor.id),
    )
    sessions.end_all(db, editor.id)


def authenticate(db: sqlite3.Connection, email: str, password: str) -> Editor | None:
    """The editor whose email and password these are, or None.

    An unknown email costs the same hashing work as a wrong password. A hash
    made with older parameters is replaced after a successful check.
    """
    try:
        email = normalize_email(email)
    except AccountError:
        # Looked up as an unknown email: the same answer after the same hashing work.
        email = ""
    row = db.execute(f"SELECT {_COLUMNS}, password_hash FROM editors WHERE email = ?", (email,)).fetchone()
    if row is None:
        return passwords.verify_nobody(password) or None
    if not passwords.verify(row["password_hash"], password):
        return None
    if passwords.needs_rehash(row["password_hash"]):
        with transaction(db):
            db.execute(
                "UPDATE editors SET password_hash = ? WHERE id = ?",
                (passwords.hash_password(password), row["id"]),
            )
    return _editor(row)

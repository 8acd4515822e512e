"""Editors' sessions: a random token in Flask's signed cookie, its hash in the database.

Ending a session deletes its row, so logging out or changing the password
ends it for real: a copied cookie names a row that no longer exists. A
session also ends after ``SESSION_IDLE_MINUTES`` without a request and
``SESSION_MAX_HOURS`` after login, whatever happens in between.

Flask's session exists only under ``/editor/`` (:class:`EditorSessionInterface`):
public pages never read or set a cookie, so shared caches may keep them.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3

from flask import Flask, request
from flask.sessions import NullSession, SecureCookieSessionInterface

from bulletin.statements import clock

EDITOR_PREFIX = "/editor"
COOKIE = "bulletin_editor"
# Over HTTPS the __Host- prefix makes the browser refuse the cookie unless it
# is Secure, has Path=/ and no Domain: a sibling subdomain cannot plant one.
SECURE_COOKIE = "__Host-bulletin_editor"
# seen_at is written at most this often, not on every request.
SEEN_RESOLUTION = 30


def is_editor_path(path: str) -> bool:
    """Whether a request path belongs to the editor (and so may have a session)."""
    return path == EDITOR_PREFIX or path.startswith(EDITOR_PREFIX + "/")


def timeouts(config) -> dict[str, float]:
    """``idle`` and ``lifetime`` in seconds, from the app's config, for the functions below."""
    return {"idle": config["SESSION_IDLE_MINUTES"] * 60.0, "lifetime": config["SESSION_MAX_HOURS"] * 3600.0}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start(db: sqlite3.Connection, editor_id: int) -> str:
    """Open a session for the editor and return its new random token (for the cookie)."""
    token = secrets.token_urlsafe(32)
    moment = clock.timestamp()
    db.execute(
        "INSERT INTO editor_sessions (token_hash, editor_id, created_at, seen_at) VALUES (?, ?, ?, ?)",
        (_digest(token), editor_id, moment, moment),
    )
    return token


def end(db: sqlite3.Connection, token: str) -> None:
    """End one session; its cookie, wherever it was copied to, no longer logs anyone in."""
    db.execute("DELETE FROM editor_sessions WHERE token_hash = ?", (_digest(token),))


def end_all(db: sqlite3.Connection, editor_id: int) -> int:
    """End every session of the editor; return how many there were."""
    return db.execute("DELETE FROM editor_sessions WHERE editor_id = ?", (editor_id,)).rowcount


def prune(db: sqlite3.Connection, *, idle: float, lifetime: float) -> int:
    """Delete sessions that have timed out but were never presented again; return how many."""
    moment = clock.timestamp()
    return db.execute(
        "DELETE FROM editor_sessions WHERE seen_at < ? OR created_at < ?", (moment - idle, moment - lifetime)
    ).rowcount


def editor_id_for(db: sqlite3.Connection, token: str, *, idle: float, lifetime: float) -> int | None:
    """The editor whose live session ``token`` is, or None; an expired session is ended here."""
    key = _digest(token)
    row = db.execute(
        "SELECT editor_id, created_at, seen_at FROM editor_sessions WHERE token_hash = ?", (key,)
    ).fetchone()
    if row is None:
        return None
    moment = clock.timestamp()
    if moment - row["seen_at"] > idle or moment - row["created_at"] > lifetime:
        db.execute("DELETE FROM editor_sessions WHERE token_hash = ?", (key,))
        return None
    if moment - row["seen_at"] >= SEEN_RESOLUTION:
        db.execute("UPDATE editor_sessions SET seen_at = ? WHERE token_hash = ?", (moment, key))
    return row["editor_id"]


class PublicNullSession(NullSession):
    """What public pages get instead of a session: any write is a programming error."""

    def _fail(self, *args, **kwargs):
        raise RuntimeError(
            "the session exists only under /editor/: public responses must stay cookie-free and cacheable"
        )

    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _fail


class EditorSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, opened and saved only for editor paths."""

    null_session_class = PublicNullSession

    def get_cookie_name(self, app: Flask) -> str:
        return SECURE_COOKIE if request.is_secure else COOKIE

    def get_cookie_domain(self, app: Flask) -> None:
        return None

    def get_cookie_path(self, app: Flask) -> str:
        return "/"

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure

    def get_cookie_httponly(self, app: Flask) -> bool:
        return True

    def get_cookie_samesite(self, app: Flask) -> str:
        return "Lax"

    def open_session(self, app, request):
        if not is_editor_path(request.path):
            return None
        return super().open_session(app, request)

    def save_session(self, app, session, response) -> None:
        if is_editor_path(request.path):
            super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    """Use the editor-only session interface."""
    app.session_interface = EditorSessionInterface()

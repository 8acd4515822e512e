"""CSRF tokens for every editor form and every state-changing request.

The token is a random value kept in the editor's signed session cookie and
repeated in each form (or an ``X-CSRF-Token`` header for scripts). Another
site can make a browser send the cookie, but cannot read the page to learn
the token. It is replaced at login, so a token seen before login is useless
after it.
"""

from __future__ import annotations

import secrets

from flask import Flask, request, session
from werkzeug.exceptions import BadRequest

from bulletin.i18n import gettext

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfError(BadRequest):
    """A state-changing request without the right token (400)."""

    def __init__(self):
        super().__init__(
            gettext(
                "This form has expired or did not come from this site, so nothing was changed. "
                "Go back, reload the page and send it again."
            )
        )


def token() -> str:
    """The session's CSRF token, created on first use."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def rotate() -> None:
    """Replace the token (at login, when the session changes hands)."""
    session["csrf"] = secrets.token_urlsafe(32)


def protect() -> None:
    """Raise CsrfError for an unsafe request whose token is missing or wrong."""
    if request.method in SAFE_METHODS:
        return
    expected = session.get("csrf")
    sent = request.form.get(FIELD) or request.headers.get(HEADER)
    if not expected or not sent or not secrets.compare_digest(str(sent), str(expected)):
        raise CsrfError()


def init_app(app: Flask) -> None:
    """Give templates ``csrf_token()``."""
    app.jinja_env.globals["csrf_token"] = token

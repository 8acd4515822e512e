"""Logging in and out, and changing one's password: ``/editor/login``, ``/logout``, ``/password``.

A wrong password and an unknown email get the same answer (401 and the form
again) after the same hashing work. Attempts are counted per account and per
client address before the password is checked (see :mod:`bulletin.throttle`);
a throttled attempt gets 429 with ``Retry-After``.
"""

from __future__ import annotations

import unicodedata

from flask import current_app, flash, g, make_response, redirect, render_template, request, session, url_for

from bulletin.authoring import audit
from bulletin.editor import accounts, csrf, devices, passwords, sessions, throttle
from bulletin.editor.web import editor_blueprint, safe_next
from bulletin.http.database import get_db
from bulletin.i18n import gettext
from bulletin.statements.db import transaction

bp = editor_blueprint("auth", __name__)


def _login_form(status: int, *, error: str | None = None, email: str = "", headers: dict | None = None):
    page = render_template("editor/login.html", error=error, email=email, next=request.values.get("next", ""))
    return make_response(page, status, headers or {})


def _next_page(value: str | None) -> str:
    """Where to go after login: ``next`` when it is a safe editor path, else the editor's home.

    A control character (CR, LF, NUL...) is refused first: no address needs one, and a
    CR or LF cannot go into the Location header at all (that was a 500 after a good login).
    """
    if value and any(unicodedata.category(char) == "Cc" for char in value):
        value = None
    return safe_next(value)


def _attempt_keys(email: str) -> list[str]:
    """The throttle keys of this attempt: the known device's own, else account and address."""
    device = devices.known_device(email)
    if device:
        return [throttle.device_key(device)]
    return [throttle.account_key(email), throttle.address_key(request.remote_addr)]


def _begin_session(editor: accounts.Editor) -> None:
    """A new session id at every login: a token planted before it is worth nothing after."""
    db = get_db()
    with transaction(db):
        sessions.prune(db, **sessions.timeouts(current_app.config))
        token = sessions.start(db, editor.id)
        audit.record(db, editor.email, "login")
    session.clear()
    session["sid"] = token
    csrf.rotate()


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form; on success, the page the editor wanted (only editor pages)."""
    if g.editor is not None:
        return redirect(_next_page(request.values.get("next")))
    if request.method == "GET":
        return _login_form(200)
    email = request.form.get("email", "").strip()
    password = request.form.get("password", "")
    config = current_app.config
    keys = _attempt_keys(email)
    wait = throttle.reserve(
        get_db(), keys, free=config["LOGIN_FREE_ATTEMPTS"], max_delay=config["LOGIN_MAX_DELAY"]
    )
    if wait:
        message = gettext("Too many attempts. Wait %(seconds)d seconds, then try again.", seconds=wait)
        return _login_form(429, error=message, email=email, headers={"Retry-After": str(wait)})
    editor = accounts.authenticate(get_db(), email, password)
    if editor is None:
        return _login_form(401, error=gettext("The email or the password is wrong."), email=email)
    throttle.forget(get_db(), keys + [throttle.account_key(email), throttle.address_key(request.remote_addr)])
    _begin_session(editor)
    response = redirect(_next_page(request.form.get("next")))
    devices.remember(response, editor.email, devices.known_device(editor.email))
    return response


@bp.post("/logout")
def logout():
    """End this session everywhere its cookie may have been copied to."""
    db = get_db()
    with transaction(db):
        sessions.end(db, session["sid"])
        audit.record(db, g.editor.email, "logout")
    session.clear()
    flash(gettext("You have logged out."), "notice")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
def password():
    """Change one's password; every other session of the editor ends."""
    if request.method == "GET":
        return render_template("editor/password.html", error=None)
    error = _change_password(
        request.form.get("current", ""), request.form.get("new", ""), request.form.get("repeat", "")
    )
    if error:
        return render_template("editor/password.html", error=error), 422
    flash(gettext("Your password has been changed; your other sessions have ended."), "notice")
    return redirect(url_for("editor.index"))


def _change_password(current: str, new: str, repeat: str) -> str | None:
    """Change g.editor's password and keep only this browser logged in; an error message or None."""
    db = get_db()
    config = current_app.config
    wait = throttle.reserve(
        db,
        _attempt_keys(g.editor.email),
        free=config["LOGIN_FREE_ATTEMPTS"],
        max_delay=config["LOGIN_MAX_DELAY"],
    )
    if wait:
        return gettext("Too many attempts. Wait %(seconds)d seconds, then try again.", seconds=wait)
    if accounts.authenticate(db, g.editor.email, current) is None:
        return gettext("Your current password is not right.")
    if new != repeat:
        return gettext("The two new passwords differ.")
    try:
        with transaction(db):
            accounts.set_password(db, g.editor, new)  # ends every session, this one too
            token = sessions.start(db, g.editor.id)
            audit.record(db, g.editor.email, "password")
    except passwords.PasswordRefused as e:
        # Nothing was changed (the transaction rolled back): the editor reads why and tries another.
        return str(e)
    session["sid"] = token
    csrf.rotate()
    return None

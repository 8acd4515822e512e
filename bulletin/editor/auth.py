"""Logging in and out, and changing one's password: ``/editor/login``, ``/login/code``, ``/logout``, ``/password``.

A wrong password and an unknown email get the same answer (401 and the form
again) after the same hashing work. Attempts are counted per account and per
client address before the password is checked (see :mod:`bulletin.throttle`);
a throttled attempt gets 429 with ``Retry-After``.

An editor with a second factor gets no session for the password alone: the
signed cookie remembers, for a few minutes, whose password was right, and
``/editor/login/code`` asks for a code. Codes are counted by the same
throttle as passwords, under the same keys, and the count is cleared only
once both factors passed.
"""

from __future__ import annotations

import unicodedata

from flask import current_app, flash, g, make_response, redirect, render_template, request, session, url_for

from bulletin.authoring import audit
from bulletin.editor import accounts, csrf, devices, passwords, second_factor, sessions, throttle
from bulletin.editor.web import editor_blueprint, safe_next
from bulletin.http.database import get_db
from bulletin.i18n import gettext, ngettext
from bulletin.statements import clock
from bulletin.statements.db import transaction

bp = editor_blueprint("auth", __name__)

PENDING = "password_passed"  # in the signed session cookie: whose password was right, and when
PENDING_SECONDS = 300  # time to type the code after the password
PENDING_NEXT_MAX = 1000  # characters of ``next`` kept meanwhile


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


def _begin_session(editor: accounts.Editor, detail: str = "") -> None:
    """A new session id at every login: a token planted before it is worth nothing after."""
    db = get_db()
    with transaction(db):
        sessions.prune(db, **sessions.timeouts(current_app.config))
        token = sessions.start(db, editor.id)
        audit.record(db, editor.email, "login", detail=detail)
    session.clear()
    session["sid"] = token
    csrf.rotate()


def _logged_in(editor: accounts.Editor, next_page: str | None, detail: str = ""):
    """Both factors passed (or the only one there is): clear the attempts, start the session, go on."""
    email = editor.email
    throttle.forget(get_db(), throttle.every_key(email))
    _begin_session(editor, detail)
    response = redirect(_next_page(next_page))
    devices.remember(response, email, devices.known_device(email))
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form; on success, the page the editor wanted (only editor pages)."""
    if g.editor is not None:
        return redirect(_next_page(request.values.get("next")))
    if request.method == "GET":
        return _login_form(200)
    email = request.form.get("email", "").strip()
    password = request.form.get("password", "")
    wait = throttle.attempt(get_db(), throttle.attempt_keys(email))
    if wait:
        return _login_form(
            429, error=throttle.too_many(wait), email=email, headers={"Retry-After": str(wait)}
        )
    editor = accounts.authenticate(get_db(), email, password)
    if editor is None:
        return _login_form(401, error=gettext("The email or the password is wrong."), email=email)
    if editor.second_factor:
        # Half logged in: no session yet, and the attempts stay counted until the code passes too.
        next_page = request.form.get("next", "")
        # Kept in the cookie meanwhile, so bounded: a longer address gives way to the editor's home.
        next_page = next_page if len(next_page) <= PENDING_NEXT_MAX else ""
        session.clear()
        session[PENDING] = {"editor": editor.id, "at": clock.timestamp(), "next": next_page}
        csrf.rotate()
        return redirect(url_for("auth.code"))
    return _logged_in(editor, request.form.get("next"))


def _password_passed() -> accounts.Editor | None:
    """The editor whose password was right in this browser within PENDING_SECONDS, or None."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or clock.timestamp() - float(pending.get("at", 0)) > PENDING_SECONDS:
        return None
    editor = accounts.get(get_db(), int(pending.get("editor", 0)))
    return editor if editor is not None and editor.second_factor else None


def _code_form(status: int, *, error: str | None = None, headers: dict | None = None):
    return make_response(render_template("editor/login_code.html", error=error), status, headers or {})


@bp.route("/login/code", methods=["GET", "POST"])
def code():
    """The second step of a login: a code from the editor's app, or one of their recovery codes."""
    editor = _password_passed()
    if editor is None:
        session.pop(PENDING, None)
        flash(gettext("Log in with your email and password first."), "notice")
        return redirect(url_for("auth.login"))
    if request.method == "GET":
        return _code_form(200)
    # A code is an attempt like a password: wrong codes slow down the next ones.
    wait = throttle.attempt(get_db(), throttle.attempt_keys(editor.email))
    if wait:
        return _code_form(429, error=throttle.too_many(wait), headers={"Retry-After": str(wait)})
    db = get_db()
    try:
        with transaction(db):
            passed = second_factor.check(db, editor, request.form.get("code", ""))
            if passed is None:
                audit.record(db, editor.email, "second_factor_refused")
    except second_factor.Malformed:
        return _code_form(400, error=gettext("That is not a code: a code has 6 digits."))
    if passed is None:
        return _code_form(401, error=gettext("The code is wrong, or was used already. Try the next one."))
    if passed != "recovery code":
        return _logged_in(editor, session.get(PENDING, {}).get("next"))
    left = second_factor.recovery_codes_left(db, editor.id)
    response = _logged_in(editor, session.get(PENDING, {}).get("next"), f"with a recovery code; {left} left")
    # After the login, whose new session would have dropped a message flashed before it.
    flash(
        ngettext(
            "You logged in with a recovery code; %(num)d is left. Each works only once.",
            "You logged in with a recovery code; %(num)d are left. Each works only once.",
            left,
        ),
        "notice",
    )
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
    wait = throttle.attempt(db, throttle.attempt_keys(g.editor.email))
    if wait:
        return throttle.too_many(wait)
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

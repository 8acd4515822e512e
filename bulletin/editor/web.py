"""What every editor page shares: login required, CSRF, no-store, error pages.

Each editor module makes its blueprint with :func:`editor_blueprint`, so
these rules cannot be forgotten on a new page. The editor is served under
``/editor/`` only; everything there is private to one editor and never
stored by a browser cache, a CDN or the service worker; no page there loads
the reader's page script, which keeps on the device what a page shows.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.exceptions import HTTPException

from bulletin.editor import accounts, csrf, second_factor, sessions
from bulletin.editor.accounts import Editor
from bulletin.editor.forms import shown_time, site_zone
from bulletin.http.database import get_db
from bulletin.http.errors import handle_http_error, wants_json
from bulletin.i18n import gettext
from bulletin.statements.records import parse_stored_time

# Pages reachable without a session (the code step checks the password was right).
OPEN_ENDPOINTS = frozenset({"auth.login", "auth.code"})
# The only pages of an editor who must set up a second factor and has not yet.
ENROLMENT_ENDPOINTS = frozenset({"second_factor.setup", "second_factor.confirm", "auth.logout"})


def editor_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint under /editor whose views need a logged-in editor and a CSRF token."""
    bp = Blueprint(name, import_name, url_prefix=sessions.EDITOR_PREFIX)
    bp.before_request(_require_editor)
    bp.register_error_handler(400, _error_page)
    bp.register_error_handler(403, _error_page)
    bp.register_error_handler(413, _error_page)
    return bp


def current_editor() -> Editor | None:
    """The editor of this request's live session, or None (an ended session's token is dropped)."""
    token = session.get("sid")
    if not token:
        return None
    editor_id = sessions.editor_id_for(get_db(), token, **sessions.timeouts(current_app.config))
    editor = accounts.get(get_db(), editor_id) if editor_id is not None else None
    if editor is None:
        session.pop("sid", None)
    return editor


def _require_editor():
    csrf.protect()
    had_session = "sid" in session
    g.editor = current_editor()
    if g.editor is None and request.endpoint not in OPEN_ENDPOINTS:
        if had_session:
            flash(gettext("Your session has ended. Log in again."), "notice")
        return redirect(url_for("auth.login", next=_here()))
    if (
        g.editor is not None
        and request.endpoint not in ENROLMENT_ENDPOINTS
        and second_factor.required_of(g.editor, current_app.config)
    ):
        # The password alone opens nothing else: the operator requires a second factor of this role.
        return redirect(url_for("second_factor.setup", next=_here()))
    return None


def _here() -> str:
    query = request.query_string.decode("utf-8", "replace")
    return request.path + (f"?{query}" if query else "")


def safe_next(target: str | None) -> str:
    """Where to go after login: an editor path on this site, else the editor's home.

    Anything else (another host, ``//host``, a backslash trick) would make the
    login page an open redirect.
    """
    default = url_for("editor.index")
    if not target or "\\" in target or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not sessions.is_editor_path(parts.path):
        return default
    return target


def _error_page(error: HTTPException):
    if wants_json():
        return handle_http_error(error)
    message = error.description
    if error.code == 413:
        limit = current_app.config["MAX_BODY"] // 1024
        message = gettext(
            "This is too large to save: an editor form may send at most %(limit)d KB, and nothing "
            "was saved. Go back (your browser keeps your text), shorten the body or split the "
            "statement in two, and save again.",
            limit=limit,
        )
    return render_template("editor/error.html", status=error.code, message=message), error.code


def editor_time(value: dt.date | dt.datetime | str | None) -> str:
    """A date as ``2026-03-01``, an instant as ``2026-03-01 09:30`` in the site's time zone.

    Also takes the stored text form of either (revision rows hold that).
    Editors see every time as they type one into the form.
    """
    if isinstance(value, str):
        value = parse_stored_time(value)
    return shown_time(value, site_zone(current_app.config["TIMEZONE"]))


def _private(response):
    if sessions.is_editor_path(request.path):
        # Overrides the public caching that error pages get elsewhere.
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
        response.headers.pop("ETag", None)
    return response


def _editor_page() -> dict:
    # Every page under /editor/ (forms, the preview of a draft, errors) leaves
    # out the reader's page script and what only it fills (templates/base.html):
    # the script keeps on the device every statement a page shows.
    return {"editor_page": has_request_context() and sessions.is_editor_path(request.path)}


def init_app(app: Flask) -> None:
    """Sessions only under /editor/, CSRF tokens in templates, editor pages never cached nor kept on devices."""
    sessions.init_app(app)
    csrf.init_app(app)
    # Flask answers 413 while reading a form larger than this, before any view runs.
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_BODY"]
    app.config["MAX_FORM_MEMORY_SIZE"] = app.config["MAX_BODY"]
    app.jinja_env.filters["editor_time"] = editor_time
    app.after_request(_private)
    app.context_processor(_editor_page)

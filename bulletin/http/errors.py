"""Error responses: JSON for the API and for clients that ask for it, HTML for readers."""

from __future__ import annotations

import logging
import sqlite3

from flask import Flask, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from bulletin.i18n import INTERFACE_LANGS, N_, gettext, use_interface
from bulletin.statements import db

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An API failure with its status, a stable machine code and a readable message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def wants_json() -> bool:
    """API paths always; elsewhere when the client prefers JSON to HTML."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _json_error(status: int, code: str, message: str):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


def _cacheable(response, status: int):
    # A missing or withdrawn page may be cached briefly like the page itself;
    # other errors must not stick in a shared cache.
    if status in (404, 410):
        response.headers["Cache-Control"] = "public, max-age=60"
    if not request.path.startswith("/api/"):
        response.vary.add("Accept")
    return response


def handle_api_error(error: ApiError):
    return _cacheable(_json_error(error.status, error.code, error.message), error.status)


HTTP_MESSAGES = {
    400: N_("The request could not be understood."),
    404: N_("There is nothing at this address."),
    405: N_("This address does not accept that method."),
    410: N_("This page has been removed."),
    413: N_("The request is too large."),
    500: N_("Something went wrong on our side."),
}
# Any other status (a name for the extractor, which reads no N_ inside another call).
OTHER_HTTP_MESSAGE = N_("Something went wrong.")


def _interface_of_path() -> None:
    # An address no route knows under /ru/ still answers in Russian.
    first = request.path.split("/")[1]
    if request.url_rule is None and first in INTERFACE_LANGS:
        use_interface(first)


def handle_http_error(error: HTTPException):
    status = error.code or 500
    if wants_json():
        code = getattr(error, "api_code", None) or (error.name or "error").lower().replace(" ", "_")
        message = error.description if status == 400 else HTTP_MESSAGES.get(status, error.name)
        response = _json_error(status, code, message)
    else:
        _interface_of_path()
        message = gettext(HTTP_MESSAGES.get(status, OTHER_HTTP_MESSAGE))
        try:
            html = render_template("errors/error.html", status=status, message=message)
        except Exception:
            # The error must still be answered (an unbuilt asset bundle breaks every template):
            # the bare message, and the fault in the log.
            log.exception("the %d error page could not be rendered; a plain one was sent", status)
            html = message
        response = make_response(html, status)
    if status == 405:
        response.headers["Allow"] = ", ".join(getattr(error, "valid_methods", None) or [])
    return _cacheable(response, status)


BUSY_MESSAGE = N_("The site is busy saving a change. Please try again in a moment.")
READ_ONLY_MESSAGE = N_(
    "Changes cannot be saved at the moment: the site's database is read-only. Reading still works."
)
FULL_MESSAGE = N_("Changes cannot be saved at the moment: the server's disk is full. Reading still works.")


def database_trouble(error: BaseException) -> str | None:
    """The reader's message when ``error`` is the database busy, read-only or full; None otherwise."""
    if db.is_busy(error):
        return BUSY_MESSAGE
    if db.is_read_only(error):
        return READ_ONLY_MESSAGE
    if db.is_full(error):
        return FULL_MESSAGE
    return None


def handle_database_error(error: sqlite3.OperationalError):
    """A database that is busy, read-only or full is a 503 that says so, never a bare 500."""
    message = database_trouble(error)
    if message is None:
        raise error
    log.warning("%s %s answered 503: %s", request.method, request.path, error)
    if wants_json():
        response = _json_error(503, "database_unavailable", message)
    else:
        try:
            html = render_template("errors/error.html", status=503, message=gettext(message))
        except Exception:
            log.exception("the 503 error page could not be rendered; a plain one was sent")
            html = gettext(message)
        response = make_response(html, 503)
    response.headers["Retry-After"] = "5" if message == BUSY_MESSAGE else "60"
    response.headers["Cache-Control"] = "no-store"
    return _cacheable(response, 503)


def init_app(app: Flask) -> None:
    """Route every HTTP error, ApiError and database trouble through the handlers above."""
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(sqlite3.OperationalError, handle_database_error)

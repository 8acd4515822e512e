"""``/healthz``: whether this server can serve, for a monitor or a load balancer.

Cheap (a few reads on a connection of its own), never cached, never replayed
by the hot path (it does not go through ``cached_response``), and it tells
nothing a reader could not see: no paths, no settings, no accounts.
"""

from __future__ import annotations

import logging
import sqlite3

from flask import Blueprint, current_app, jsonify

from bulletin.authoring import schedule
from bulletin.signing import keyring
from bulletin.statements import db, epochs

bp = Blueprint("health", __name__)

log = logging.getLogger(__name__)


def _answer(code: int, /, **body):
    response = jsonify(body)
    response.status_code = code
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
@schedule.exempt  # only reads, and must answer when the database cannot be read
def healthz():
    """200 when the database reads and its migrations are current; 503 with the reason otherwise."""
    try:
        connection = db.connect_existing(current_app.config["DATABASE"])
    except sqlite3.Error as e:
        return _unreadable(e)
    try:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        pending = db.pending_migrations(connection)
        if pending:
            return _answer(
                503,
                status="unavailable",
                reason=f"migrations pending: {', '.join(pending)} (run `flask --app app prepare`)",
                database="readable",
                schema_version=version,
                migrations="pending",
            )
        last = connection.execute("SELECT max(at) FROM changes WHERE kind = 'publish'").fetchone()[0]
        epoch = epochs.current(connection) or ""
    except sqlite3.Error as e:
        return _unreadable(e)
    finally:
        connection.close()
    warning = keyring.development_root_warning(current_app.config["KEYS_DIR"])
    return _answer(
        200,
        **({"warning": warning} if warning else {}),
        status="ok",
        database="readable",
        schema_version=version,
        migrations="current",
        last_publication=last,
        epoch=epoch[:12],
    )


def _unreadable(error: sqlite3.Error):
    log.warning("health check: the database cannot be read (%s)", error)
    return _answer(503, status="unavailable", reason="the database cannot be read", database="unreadable")

"""The app's connection to its database: one per request or command, closed with its app context.

A database that cannot be written (a read-only file or folder) is still
read: the connection falls back to SQLite's read-only modes, so readers keep
their pages while every write answers 503 (see :mod:`bulletin.http.errors`).
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import urllib.parse
from pathlib import Path

import click
from flask import Flask, current_app, g

from bulletin.statements import db, epochs

log = logging.getLogger(__name__)

# Less free space than this on the database's disk is as good as full: a save could not finish.
FULL_BELOW = 1024 * 1024


def get_db() -> sqlite3.Connection:
    """The current request's (or command's) connection, opened on first use."""
    if "db" not in g:
        g.db = _open(current_app.config["DATABASE"], current_app.config.get("BUSY_TIMEOUT", 5.0))
    return g.db


def _open(path: str, busy_seconds: float) -> sqlite3.Connection:
    try:
        connection = db.connect(path)
    except sqlite3.OperationalError as error:
        if not db.is_read_only(error) or not Path(path).is_file():
            raise
        connection = read_only_connection(path)
        _warn_once(path, error)
    # Shorter than a command's: a request that cannot get the lock soon says so (503) instead.
    connection.execute(f"PRAGMA busy_timeout = {max(0, int(busy_seconds * 1000)):d}")
    return connection


def read_only_connection(path: str | Path) -> sqlite3.Connection:
    """The database opened for reading only, for when it cannot be written.

    ``mode=ro`` still needs WAL's shared-memory file, which a read-only
    folder cannot hold; ``immutable=1`` then reads the main file alone (what
    was still in the write-ahead log is not seen: the last checkpoint's state).
    """
    quoted = urllib.parse.quote(str(Path(path).resolve()))
    last_error = None
    for query in ("mode=ro", "immutable=1"):
        connection = sqlite3.connect(
            f"file:{quoted}?{query}", uri=True, isolation_level=None, check_same_thread=False
        )
        connection.row_factory = sqlite3.Row
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return connection
        except sqlite3.OperationalError as error:
            connection.close()
            last_error = error
    raise last_error


_warned: set[str] = set()


def _warn_once(path: str, error: BaseException) -> None:
    if path not in _warned:
        _warned.add(path)
        log.warning(
            "the database %s cannot be written (%s): serving it read-only, writes answer 503", path, error
        )


def close_db(_exc: BaseException | None = None) -> None:
    connection = g.pop("db", None)
    if connection is not None:
        connection.close()


def prepared_db() -> sqlite3.Connection:
    """For commands: the connection; a usage error (exit 2) when migrations are pending.

    A database that went back in time (restored from outside Bulletin) gets
    its new epoch here, before the command writes anything.
    """
    connection = get_db()
    if db.pending_migrations(connection):
        raise click.UsageError("the database is not prepared: run `flask --app app prepare` first")
    high_water(current_app).check(connection)
    return connection


def high_water(app: Flask) -> epochs.HighWater:
    """The app's guard against a database gone back in time (one per process and database path)."""
    path = app.config["DATABASE"]
    guard = app.extensions.get("bulletin_high_water")
    if guard is None or guard.database != str(path):
        guard = app.extensions["bulletin_high_water"] = epochs.HighWater(path)
    return guard


def writability_problem(path: str | Path) -> str | None:
    """Why the database at ``path`` cannot be written, in a sentence for an operator; None when it can.

    Tried for real (a write transaction that is rolled back), since
    permissions alone do not tell: root ignores them, a read-only mount or
    an immutable file does not.
    """
    folder = Path(path).resolve().parent
    if folder.is_dir() and shutil.disk_usage(folder).free < FULL_BELOW:
        return _problem(path, sqlite3.OperationalError("database or disk is full"))
    try:
        connection = db.connect(path)
    except sqlite3.OperationalError as error:
        return _problem(path, error)
    try:
        with db.busy_timeout(connection, 2):
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("CREATE TABLE bulletin_write_probe (x)")
            connection.execute("ROLLBACK")
    except sqlite3.OperationalError as error:
        if db.is_busy(error):
            return None  # another writer is at work: the file is writable
        return _problem(path, error)
    finally:
        connection.close()
    return None


def _problem(path, error: BaseException) -> str | None:
    if db.is_full(error):
        return f"the disk holding the database {path} is full ({error}): free space, then restart"
    if db.is_read_only(error):
        return (
            f"the database {path} cannot be written ({error}): the file or its folder is read-only;"
            " readers are served from it read-only and every write answers 503 until it is writable"
        )
    return f"the database {path} cannot be written: {error}"


def init_app(app: Flask) -> None:
    """Close the request's connection on teardown."""
    app.teardown_appcontext(close_db)

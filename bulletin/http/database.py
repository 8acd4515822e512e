"""The app's connection to its database: one per request or command, closed with its app context."""

from __future__ import annotations

import sqlite3

import click
from flask import Flask, current_app, g

from bulletin.statements import db, epochs


def get_db() -> sqlite3.Connection:
    """The current request's (or command's) connection, opened on first use."""
    if "db" not in g:
        g.db = db.connect(current_app.config["DATABASE"])
    return g.db


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


def init_app(app: Flask) -> None:
    """Close the request's connection on teardown."""
    app.teardown_appcontext(close_db)

"""SQLite connections and numbered migrations.

Connections run
in autocommit mode; writes go through :func:`transaction`, which takes the
write lock up front (``BEGIN IMMEDIATE``) so that two writers never deadlock
half-way through upgrading a read lock.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import uuid
from importlib import resources
from pathlib import Path

MIGRATIONS_PACKAGE = "bulletin.statements.migrations"

log = logging.getLogger(__name__)


def connect(path: str | Path) -> sqlite3.Connection:
    """Open the database with WAL, foreign keys and a busy timeout."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA journal_mode = WAL")
    # WAL makes NORMAL durable against application crashes; only a power cut
    # can lose the last transactions, never corrupt the file.
    db.execute("PRAGMA synchronous = NORMAL")
    return db


@contextlib.contextmanager
def transaction(db: sqlite3.Connection):
    """Run the block as one write transaction: all of it is stored, or none.

    Inside another transaction the block is a savepoint of it, so a batch
    (an import run, a benchmark's thousand statements) can hold many changes
    in one commit, each still undone alone when it fails.
    """
    if db.in_transaction:
        db.execute("SAVEPOINT nested")
        try:
            yield db
        except BaseException:
            # Undo this block alone, then let the caller decide about the error.
            db.execute("ROLLBACK TO nested")
            db.execute("RELEASE nested")
            raise
        db.execute("RELEASE nested")
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        # Nothing of the block is stored; the caller decides about the error.
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _migration_files() -> list[tuple[int, str, str]]:
    """(number, name, sql) of every migration shipped with the package, in order."""
    found = []
    for entry in resources.files(MIGRATIONS_PACKAGE).iterdir():
        if entry.name.endswith(".sql"):
            number = int(entry.name.split("_", 1)[0])
            found.append((number, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def _statements(script: str):
    """Split a SQL script into statements (triggers contain semicolons)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""
    if pending.strip() and not pending.strip().startswith("--"):
        raise ValueError(f"incomplete SQL statement at the end of a migration: {pending[:60]!r}")


def migrate(db: sqlite3.Connection) -> list[str]:
    """Apply every migration newer than the database, in one write transaction.

    Returns the names of the migrations applied (empty when up to date). The
    schema version lives in ``PRAGMA user_version``.
    """
    applied = []
    with transaction(db):
        version = db.execute("PRAGMA user_version").fetchone()[0]
        for number, name, sql in _migration_files():
            if number <= version:
                continue
            try:
                for statement in _statements(sql):
                    db.execute(statement)
            except (sqlite3.Error, ValueError):
                # The whole run is rolled back: the database stays at the version it had.
                log.exception("migration %s failed; the database stays at version %d", name, version)
                raise
            db.execute(f"PRAGMA user_version = {number:d}")
            applied.append(name)
        db.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('database_id', ?)",
            (uuid.uuid4().hex,),
        )
    return applied


def migrate_file(path: str | Path) -> list[str]:
    """:func:`migrate` the database at ``path`` on a connection of its own, closed after."""
    connection = connect(path)
    try:
        return migrate(connection)
    finally:
        connection.close()


def pending_migrations(db: sqlite3.Connection) -> list[str]:
    """Names of migrations not yet applied to this database."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    return [name for number, name, _sql in _migration_files() if number > version]

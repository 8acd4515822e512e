"""SQLite connections and numbered migrations.

Connections run
in autocommit mode; writes go through :func:`transaction`, which takes the
write lock up front (``BEGIN IMMEDIATE``) so that two writers never deadlock
half-way through upgrading a read lock.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import urllib.parse
import uuid
from importlib import resources
from pathlib import Path

from bulletin.statements import migrations

MIGRATIONS_PACKAGE = "bulletin.statements.migrations"

log = logging.getLogger(__name__)


def connect(path: str | Path) -> sqlite3.Connection:
    """Open the database with WAL, foreign keys and a busy timeout."""
    return _configured(sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10))


def connect_existing(path: str | Path, *, read_only: bool = False) -> sqlite3.Connection:
    """:func:`connect` to a database file that must exist already: never creates an empty one.

    ``read_only`` opens it so that nothing, not even the journal mode, is
    written (for files that are only read, such as a backup to restore).
    """
    mode = "ro" if read_only else "rw"
    uri = f"file:{urllib.parse.quote(os.path.abspath(path))}?mode={mode}"
    db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=10)
    if read_only:
        db.row_factory = sqlite3.Row
        return db
    return _configured(db)


def _configured(db: sqlite3.Connection) -> sqlite3.Connection:
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


@contextlib.contextmanager
def read_snapshot(db: sqlite3.Connection):
    """Run the block in one read transaction: all it reads is one state of the database, whatever other
    connections commit meanwhile (WAL). Inside a transaction already, the block is part of that one.

    Write nothing inside it: a read transaction that then writes fails when another connection committed
    since it began.
    """
    if db.in_transaction:
        yield db
        return
    db.execute("BEGIN DEFERRED")
    try:
        yield db
    finally:
        db.execute("COMMIT")


@contextlib.contextmanager
def busy_timeout(db: sqlite3.Connection, seconds: float):
    """Within the block, wait at most ``seconds`` for another connection's lock (0: not at all)."""
    previous = db.execute("PRAGMA busy_timeout").fetchone()[0]
    db.execute(f"PRAGMA busy_timeout = {max(0, int(seconds * 1000)):d}")
    try:
        yield db
    finally:
        db.execute(f"PRAGMA busy_timeout = {previous:d}")


def _names(error: BaseException, codes: tuple[str, ...], words: tuple[str, ...]) -> bool:
    if not isinstance(error, sqlite3.Error):
        return False
    # The error name where SQLite raised it; the message where code raised its own.
    name = getattr(error, "sqlite_errorname", None) or ""
    return name.startswith(codes) or any(word in str(error).lower() for word in words)


def is_busy(error: BaseException) -> bool:
    """Whether ``error`` is another connection holding the lock past the busy timeout."""
    return _names(error, ("SQLITE_BUSY", "SQLITE_LOCKED"), ("database is locked", "database is busy"))


def is_read_only(error: BaseException) -> bool:
    """Whether ``error`` says the database file (or its folder) cannot be written."""
    return _names(
        error,
        ("SQLITE_READONLY",),
        ("readonly database", "read-only database", "unable to open database file"),
    )


def is_full(error: BaseException) -> bool:
    """Whether ``error`` says the disk (or the database's size limit) is full."""
    return _names(error, ("SQLITE_FULL",), ("disk is full",))


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


def migrate(db: sqlite3.Connection, until: int | None = None) -> list[str]:
    """Apply every migration newer than the database (up to number ``until``), in one write transaction.

    Returns the names of the migrations applied (empty when up to date). The
    schema version lives in ``PRAGMA user_version``. ``until`` builds a
    database as an earlier release left it (tests of a migration's data).
    """
    applied = []
    with transaction(db):
        version = db.execute("PRAGMA user_version").fetchone()[0]
        for number, name, sql in _migration_files():
            if number <= version or (until is not None and number > until):
                continue
            try:
                for statement in _statements(sql):
                    db.execute(statement)
                backfill = migrations.BACKFILLS.get(number)
                if backfill is not None:
                    backfill(db)
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
        # A new database's first epoch is its id, as for one that existed before epochs.
        db.execute(
            "INSERT OR IGNORE INTO meta (key, value) SELECT 'epoch', value FROM meta WHERE key = 'database_id'"
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


def latest_version() -> int:
    """The schema version the shipped migrations lead to."""
    return _migration_files()[-1][0]


def schema_of(db: sqlite3.Connection) -> dict[str, tuple[str, ...]]:
    """Every table of the database (SQLite's own excepted) with its column names, in order."""
    names = [
        row[0]
        for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        )
    ]
    return {
        name: tuple(row[1] for row in db.execute(f"PRAGMA table_info({_quoted(name)})")) for name in names
    }


def expected_schema(version: int) -> dict[str, tuple[str, ...]]:
    """The tables and columns a Bulletin database of schema ``version`` has: its migrations, replayed in memory."""
    reference = sqlite3.connect(":memory:", isolation_level=None)
    try:
        for number, _name, sql in _migration_files():
            if number > version:
                break
            for statement in _statements(sql):
                reference.execute(statement)
        return schema_of(reference)
    finally:
        reference.close()


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'

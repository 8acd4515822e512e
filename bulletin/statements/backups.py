"""Backing up and restoring the database through SQLite, while the site runs.

Both go through SQLite's online backup API, never a file copy: a backup is
one consistent snapshot however busy the site is, and a restore replaces
the live database's contents in one write transaction that running workers
see as any other commit (``PRAGMA data_version`` moves, so their kept
responses end at once). A restored database gets a new epoch
(:mod:`bulletin.statements.epochs`), so no ETag or sync cursor from before
the restore is taken for one after it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bulletin.statements import db as database
from bulletin.statements import epochs


class BackupError(Exception):
    """A backup or restore refused or failed; the message says why, and nothing was changed."""


@dataclass(frozen=True)
class Backup:
    """What a finished backup holds."""

    path: Path
    schema_version: int
    statements: int
    latest_change: int


@dataclass(frozen=True)
class Restored:
    """What a finished restore did."""

    schema_version: int  # of the file, before migrations
    migrated: list[str]
    statements: int
    epoch: str
    kept_aside: Path | None  # the database as it was, or None where there was none


def backup(database_path: str | Path, target: str | Path, *, overwrite: bool = False) -> Backup:
    """Write a consistent copy of the live database to ``target``, a single self-contained file.

    The copy is made beside ``target`` and moved into place once complete
    and checked, so an interrupted backup never leaves a half file under
    that name. An existing ``target`` is refused unless ``overwrite``.
    """
    target = Path(target)
    if not Path(database_path).is_file():
        raise BackupError(f"there is no database at {database_path}")
    if target.is_dir():
        raise BackupError(f"{target} is a folder: name the backup file")
    if not target.parent.is_dir():
        raise BackupError(f"the folder {target.parent} does not exist")
    if target.exists() and not overwrite:
        raise BackupError(f"{target} exists already: choose another name, or pass --overwrite to replace it")
    with _temporary_beside(target, ".partial") as partial:
        try:
            source = database.connect_existing(database_path, read_only=True)
        except sqlite3.Error as e:
            raise BackupError(f"cannot open the database {database_path}: {e}") from e
        try:
            copy = sqlite3.connect(partial, isolation_level=None)
            try:
                source.backup(copy)
                # One file that opens anywhere, without -wal and -shm beside it.
                copy.execute("PRAGMA journal_mode = DELETE")
                _require_intact(copy, "the copy")
                held = _summary(copy)
            finally:
                copy.close()
        except sqlite3.Error as e:
            raise BackupError(f"the backup failed: {e}") from e
        finally:
            source.close()
        _fsync(partial)
        _move_into_place(partial, target, overwrite=overwrite)
    return Backup(target, *held)


def restore(
    database_path: str | Path,
    source: str | Path,
    *,
    at: dt.datetime,
    guard: epochs.HighWater,
    progress: Callable[[str], None] = lambda line: None,
) -> Restored:
    """Replace the live database's contents with the backup at ``source``, or change nothing.

    The backup is copied, checked (a Bulletin database of a known schema,
    intact), migrated and given a new epoch in a staging file; the live
    database is then kept aside (``<database>.before-restore-<at>``) and its
    contents replaced from the staging file in one write transaction.
    Editors' sessions are not restored: everyone logs in again.
    """
    database_path = Path(database_path)
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"there is no file {source}")
    if database_path.exists() and source.resolve() == database_path.resolve():
        raise BackupError(f"{source} is the live database itself")
    with _temporary_beside(database_path, ".restoring") as staging_path:
        staging = sqlite3.connect(staging_path, isolation_level=None)
        try:
            version = _stage(source, staging)
            migrated = database.migrate(staging)
            file_epoch = epochs.current(staging)
            with database.transaction(staging):
                # Above the replaced database's number too: devices order signed records by it.
                epoch = epochs.renew(staging, above=epochs.number_in_file(database_path))
                # A session ended since the backup was made must not come back to life.
                staging.execute("DELETE FROM editor_sessions")
            statements = staging.execute("SELECT count(*) FROM statements").fetchone()[0]
            progress(f"checked {source}: schema version {version}, {statements} statements")
            kept_aside = _keep_aside(database_path, at) if database_path.exists() else None
            try:
                live = database.connect(database_path)
                try:
                    _match_page_size(staging, live)
                    # One write transaction: workers see the restored contents through SQLite, all at once.
                    staging.backup(live)
                    # The backup's own epoch was served before, with other contents after it.
                    guard.check(live, retire=(file_epoch,))
                finally:
                    live.close()
            except BaseException:
                if kept_aside is not None:
                    kept_aside.unlink(missing_ok=True)
                raise
        except sqlite3.Error as e:
            raise BackupError(f"the restore failed, the database is unchanged: {e}") from e
        finally:
            staging.close()
    return Restored(version, migrated, statements, epoch, kept_aside)


def check_backup(connection: sqlite3.Connection, name: str) -> int:
    """The schema version of a database that must be an intact Bulletin database; raises BackupError."""
    _require_intact(connection, name)
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    latest = database.latest_version()
    if version > latest:
        raise BackupError(
            f"{name} has schema version {version}, newer than this Bulletin knows ({latest}): "
            "restore it with the Bulletin release that made it"
        )
    if version < 1:
        raise BackupError(f"{name} is not a Bulletin database (it has no schema version)")
    expected = database.expected_schema(version)
    found = database.schema_of(connection)
    problems = [f"table {table} is missing" for table in expected if table not in found]
    problems += [f"unexpected table {table}" for table in found if table not in expected]
    problems += [
        f"table {table} has the columns {', '.join(found[table])}, not {', '.join(columns)}"
        for table, columns in expected.items()
        if table in found and found[table] != columns
    ]
    if problems:
        raise BackupError(
            f"{name} is not a Bulletin database of schema version {version}: {'; '.join(problems)}"
        )
    if connection.execute("SELECT 1 FROM meta WHERE key = 'database_id'").fetchone() is None:
        raise BackupError(f"{name} is not a Bulletin database (it has no database id)")
    return version


def _stage(source: Path, staging: sqlite3.Connection) -> int:
    """Copy the backup into the staging database and check it; its schema version."""
    try:
        backup_file = database.connect_existing(source, read_only=True)
    except sqlite3.Error as e:
        raise BackupError(f"cannot open {source}: {e}") from e
    try:
        backup_file.backup(staging)
    except sqlite3.DatabaseError as e:
        raise BackupError(f"{source} is not a SQLite database ({e})") from e
    finally:
        backup_file.close()
    # The staging file is a plain one until it is copied into the live database.
    staging.execute("PRAGMA journal_mode = DELETE")
    return check_backup(staging, str(source))


def _require_intact(connection: sqlite3.Connection, name: str) -> None:
    try:
        result = [row[0] for row in connection.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as e:
        raise BackupError(f"{name} is not a SQLite database ({e})") from e
    if result != ["ok"]:
        raise BackupError(f"{name} is damaged: {'; '.join(result[:3])}")


def _summary(connection: sqlite3.Connection) -> tuple[int, int, int]:
    """(schema version, statements, latest change) of a Bulletin database; zeros for anything else."""
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    try:
        statements = connection.execute("SELECT count(*) FROM statements").fetchone()[0]
        latest = connection.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]
    except sqlite3.OperationalError:
        return version, 0, 0  # not prepared yet: a backup of it is still a faithful one
    return version, statements, latest


def _keep_aside(database_path: Path, at: dt.datetime) -> Path:
    """A consistent copy of the live database beside it, named after the restore's time."""
    stamp = at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    for attempt in range(1, 100):
        suffix = "" if attempt == 1 else f"-{attempt}"
        aside = database_path.with_name(f"{database_path.name}.before-restore-{stamp}{suffix}")
        if not aside.exists():
            break
    else:
        raise BackupError(f"too many earlier copies named {database_path.name}.before-restore-{stamp}")
    try:
        backup(database_path, aside)
    except BackupError as e:
        raise BackupError(f"cannot keep the current database aside, so nothing was restored: {e}") from e
    return aside


def _match_page_size(staging: sqlite3.Connection, live: sqlite3.Connection) -> None:
    # A database in WAL mode cannot take another page size from a backup.
    wanted = live.execute("PRAGMA page_size").fetchone()[0]
    if staging.execute("PRAGMA page_size").fetchone()[0] != wanted:
        staging.execute(f"PRAGMA page_size = {int(wanted):d}")
        staging.execute("VACUUM")


@contextlib.contextmanager
def _temporary_beside(path: Path, suffix: str):
    """A new empty file in ``path``'s folder (readable by its owner only), removed afterwards unless moved."""
    try:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    except OSError as e:
        raise BackupError(f"cannot write in {path.parent}: {e.strerror}") from e
    os.close(fd)
    try:
        yield name
    finally:
        for leftover in (name, f"{name}-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(leftover)


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _move_into_place(partial: str, target: Path, *, overwrite: bool) -> None:
    try:
        if overwrite:
            os.replace(partial, target)
        else:
            try:
                # A link fails if the name was taken meanwhile: never replaces a file by accident.
                os.link(partial, target)
            except OSError as e:
                if e.errno == errno.EEXIST:
                    raise BackupError(
                        f"{target} exists already: choose another name, or pass --overwrite"
                    ) from e
                if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV):
                    raise
                # A file system without hard links: the check above has to do.
                os.replace(partial, target)
    except OSError as e:
        raise BackupError(f"cannot write {target}: {e.strerror}") from e
    _fsync(str(target.parent))

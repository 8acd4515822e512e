"""The database's epoch, and noticing when the database went back in time.

Change sequence numbers go back when an older copy of the database is
restored; the next publication would then reuse a number that ETags, kept
pages and devices' cursors were built on, and readers would keep what the
publisher has since changed. So the database carries an *epoch* (a random
value in ``meta``), ETags and sync cursors carry it, and every restore gives
the database a new one: no (epoch, sequence) pair names two different states.

The ``restore`` command renews the epoch itself. A restore made behind
Bulletin's back (SQLite's ``.restore``, a file copied in before start) is
noticed by :class:`HighWater`: a small file beside the database remembers
the furthest position (epoch, sequence, and which change that sequence was)
this installation has served. A database whose sequence is behind that
mark, whose change at the mark is another one, or whose epoch was retired
by an earlier restore went back in time, and gets a new epoch.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import sqlite3
import tempfile
import threading
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

from bulletin.statements import clock
from bulletin.statements import db as database

# Epochs given up by restores that the mark remembers, so that none comes back.
RETIRED_KEPT = 64

log = logging.getLogger(__name__)


def current(db: sqlite3.Connection) -> str | None:
    """The database's epoch; None before its migrations ran."""
    row = db.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()
    return row[0] if row else None


def number(db: sqlite3.Connection) -> int:
    """The epoch as a number that only rises (signed records carry it; devices order by it, then the
    sequence); 0 for the database's first epoch."""
    row = db.execute("SELECT value FROM meta WHERE key = 'epoch_number'").fetchone()
    return int(row[0]) if row else 0


def number_in_file(path: str | Path) -> int:
    """:func:`number` of the database at ``path``, read without writing; 0 when it cannot be read."""
    try:
        connection = database.connect_existing(path, read_only=True)
    except sqlite3.Error:
        return 0
    try:
        return number(connection)
    except sqlite3.Error:
        return 0
    finally:
        connection.close()


def renew(db: sqlite3.Connection, *, above: int = 0) -> str:
    """Give the database a new epoch (inside the caller's transaction); returns it.

    Its number is the clock's milliseconds, or one more than the last (or
    than ``above``, the number of the database being replaced) if larger: a
    restored copy carries an older number than any served since, and only the
    time of the renewal, or the replaced database's number, is sure to be above them.
    """
    epoch = uuid.uuid4().hex
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('epoch', ?)", (epoch,))
    rising = max(number(db) + 1, above + 1, int(clock.now().timestamp() * 1000))
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('epoch_number', ?)", (str(rising),))
    return epoch


def mark_path(database_path: str | Path) -> Path:
    """Where the high-water mark of the database at ``database_path`` is kept."""
    return Path(f"{database_path}.high-water")


@dataclass(frozen=True)
class Position:
    """How far a database's change log goes: its epoch, latest sequence and which change that is."""

    epoch: str
    seq: int
    change: str  # a digest of the change at ``seq``, "" when there is none


def _change_digest(db: sqlite3.Connection, seq: int) -> str:
    row = db.execute(
        "SELECT statement_id, kind, revision_id, at FROM changes WHERE seq = ?", (seq,)
    ).fetchone()
    if row is None:
        return ""
    return hashlib.sha256("\x1f".join(str(value) for value in row).encode()).hexdigest()[:16]


def position(db: sqlite3.Connection) -> Position | None:
    """The database's position now; None before its migrations ran."""
    epoch = current(db)
    if epoch is None:
        return None
    seq = db.execute("SELECT max(seq) FROM changes").fetchone()[0] or 0
    return Position(epoch, seq, _change_digest(db, seq))


@dataclass(frozen=True)
class Mark:
    """The furthest position served, and the epochs restores retired."""

    furthest: Position
    retired: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps(
            {
                "epoch": self.furthest.epoch,
                "seq": self.furthest.seq,
                "change": self.furthest.change,
                "retired": list(self.retired),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Mark:
        data = json.loads(text)
        furthest = Position(str(data["epoch"]), int(data["seq"]), str(data["change"]))
        return cls(furthest, tuple(str(epoch) for epoch in data.get("retired", ())))


class HighWater:
    """The database's high-water mark, kept in a file beside it, and the check against it.

    :meth:`check` is cheap when nothing moved since this process last
    checked (three indexed reads); otherwise it takes a lock shared with
    every process, reads the mark, renews the epoch when the database went
    back, and writes the mark when the database went further.
    """

    def __init__(self, database_path: str | Path):
        self.database = str(database_path)
        self.path = mark_path(database_path)
        self._checked: Position | None = None
        self._lock = threading.Lock()
        self._write_failed = False

    def check(self, db: sqlite3.Connection, *, retire: tuple[str, ...] = ()) -> str | None:
        """Compare the database (read through ``db``) with the mark; the new epoch if it had to be renewed.

        ``retire`` names epochs that must never be served again (the
        ``restore`` command passes the backup's own).
        """
        now = position(db)
        if now is None or (now == self._checked and not retire):
            return None
        with self._lock, self._shared_lock():
            mark = self._read()
            renewed = None
            if mark is not None and self._went_back(db, mark, now):
                # ``now`` was read before the lock, through a connection that may
                # sit in an older read snapshot, while another process (an
                # import, the other worker) committed more and moved the mark
                # past it. That is not a restore: only the database as it is
                # now, read afresh while nobody can move the mark, can say so.
                renewed, now = self._renew_if_went_back(mark)
                if now is None:
                    return renewed
            updated = _advanced(mark, now, retire)
            if updated != mark:
                self._write(updated)
            self._checked = now
            return renewed

    @staticmethod
    def _went_back(db: sqlite3.Connection, mark: Mark, now: Position) -> bool:
        if now.epoch in mark.retired:
            return True
        if now.epoch != mark.furthest.epoch:
            return False  # a new epoch: the restore command's, or a new database
        if now.seq < mark.furthest.seq:
            return True
        # Further on, but from another past: the change at the mark is not the one served.
        return _change_digest(db, mark.furthest.seq) != mark.furthest.change

    def _renew_if_went_back(self, mark: Mark) -> tuple[str | None, Position | None]:
        """(the new epoch or None, the position now), both from a fresh connection."""
        fresh = database.connect_existing(self.database)
        try:
            now = position(fresh)
            if now is None or not self._went_back(fresh, mark, now):
                return None, now
            renewed = self._renew(now.epoch)
            log.warning(
                "the database went back in time (a restore from outside Bulletin?): new epoch %s",
                renewed[:12],
            )
            return renewed, position(fresh)
        finally:
            fresh.close()

    def _renew(self, seen_epoch: str) -> str:
        connection = database.connect_existing(self.database)
        try:
            with database.transaction(connection):
                epoch = current(connection)
                # Another process may have renewed it since it was read: once is enough.
                return renew(connection) if epoch == seen_epoch else epoch
        finally:
            connection.close()

    @contextlib.contextmanager
    def _shared_lock(self):
        # A lock file rather than the mark itself, which is replaced on every write.
        # Opened anew each time: a descriptor inherited across a fork would share the lock.
        fd = os.open(f"{self.path}.lock", os.O_RDONLY | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _read(self) -> Mark | None:
        try:
            return Mark.from_json(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as e:
            # Written atomically, so only a hand edit or a failing disk gets here:
            # start again from what the database says now.
            log.warning("unreadable high-water mark %s (%s): starting a new one", self.path, e)
            return None

    def _write(self, mark: Mark) -> None:
        try:
            fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
            try:
                # Not a secret, and every worker reads it whoever wrote it (mkstemp makes files private).
                os.fchmod(fd, 0o644)
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.write(mark.to_json())
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temporary, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except OSError as e:
            # Serving goes on; only the detection of outside restores is weaker. Said once per process.
            if not self._write_failed:
                log.error(
                    "cannot write the high-water mark %s (%s): outside restores go unnoticed", self.path, e
                )
                self._write_failed = True


def _advanced(mark: Mark | None, now: Position, retire: tuple[str, ...]) -> Mark:
    """The mark once ``now`` has been served."""
    if mark is None:
        return Mark(now, _kept(retire, now.epoch))
    if now.epoch != mark.furthest.epoch:
        return Mark(now, _kept((*mark.retired, mark.furthest.epoch, *retire), now.epoch))
    retired = _kept((*mark.retired, *retire), now.epoch)
    if now.seq > mark.furthest.seq:
        return Mark(now, retired)
    return replace(mark, retired=retired)


def _kept(epochs: tuple[str, ...], current_epoch: str) -> tuple[str, ...]:
    unique = [epoch for epoch in dict.fromkeys(epochs) if epoch != current_epoch]
    return tuple(unique[-RETIRED_KEPT:])

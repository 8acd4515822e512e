"""Delta sync: what changed since a device's cursor, in one response.

A cursor is an opaque string naming the database's epoch and a position in
its change log (``v1.<first 12 hex of the epoch>.<sequence>``). Every
restore gives the database a new epoch (:mod:`bulletin.statements.epochs`),
so a device holding a cursor of another epoch (from before a restore, or
another site) is told to start again (410) rather than silently missing
changes; a cursor that is not one of ours at all is a 400. A database's
first epoch is its id, which cursors carried before epochs existed: those
cursors keep syncing.
"""

from __future__ import annotations

import re
import sqlite3

from bulletin.site.objects import statement_object, withdrawal_object
from bulletin.statements import epochs, store

_CURSOR = re.compile(r"^v1\.([0-9a-f]{12})\.([0-9]{1,18})$")


class CursorError(ValueError):
    """A malformed cursor (400)."""


class ForeignCursor(CursorError):
    """A cursor from another database or epoch (410): the device must start again."""


def encode_cursor(epoch: str, seq: int) -> str:
    """The opaque cursor for position ``seq`` of this database's epoch."""
    return f"v1.{epoch[:12]}.{seq}"


def decode_cursor(cursor: str, epoch: str) -> int:
    """The change position a cursor stands for; raises CursorError or ForeignCursor."""
    if cursor == "0":
        return 0  # every change from the beginning, for tools and mirrors
    match = _CURSOR.match(cursor)
    if not match:
        raise CursorError(f"cursor {cursor[:40]!r} is not a Bulletin sync cursor")
    if match.group(1) != epoch[:12]:
        raise ForeignCursor(
            "this cursor belongs to another database, or to this one before a restore: sync again without since"
        )
    return int(match.group(2))


def snapshot(db: sqlite3.Connection, *, limit: int) -> dict:
    """A starting point for a new device: the newest statements and the current cursor."""
    statements = store.list_published(db, limit=limit)
    return {
        "cursor": encode_cursor(epochs.current(db), store.latest_change_seq(db)),
        "more": False,
        "statements": [statement_object(db, statement) for statement in statements],
        "withdrawn": [],
    }


def changes(db: sqlite3.Connection, since: int, *, limit: int) -> dict:
    """Changes after position ``since``, oldest first, each statement once in its latest state."""
    if since > store.latest_change_seq(db):
        # The database went back in time (a restored backup): the device holds
        # statements this server no longer knows of.
        raise ForeignCursor("this cursor is ahead of the database: sync again without since")
    changed = store.changed_since(db, since, limit=limit + 1)
    more = len(changed) > limit
    changed = changed[:limit]
    position = changed[-1].change_seq if changed else max(since, 0)
    return {
        "cursor": encode_cursor(epochs.current(db), position),
        "more": more,
        "statements": [statement_object(db, s) for s in changed if not s.is_withdrawn],
        "withdrawn": [withdrawal_object(s, db) for s in changed if s.is_withdrawn],
    }
